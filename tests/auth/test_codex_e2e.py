"""Opt-in (``-m e2e``): the launcher's table and the status answers held against the real Codex
of ``auth/checked.py``'s CODEX_VERSION, side by side on the same files and loopback endpoints.

The real binary comes from tests/real_codex.py (``CODEX_E2E_BINARY``, else installed). The
keyring cases need ``dbus-run-session`` and ``gnome-keyring-daemon`` and ``secret-tool``
(Debian: gnome-keyring, libsecret-tools)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codex_install.auth.checked import CODEX_VERSION
from codex_install.launcher import CODEX_SUBCOMMANDS, CODEX_TABLE_VERSION, REMOTE_FLAG
from real_codex import in_keyring_session, need_keyring, real_codex
from servers import chatgpt
from servers.oauth import AUTH_CLAIM, FakeTokenEndpoint, make_jwt
from servers.oauth import running as oauth_running

from .appserver import Session, talk
from .conftest import chatgpt_auth

pytestmark = pytest.mark.e2e
OURS = [sys.executable, "-m", "codex_install", "auth", "serve"]
REQUESTS = [
    {"id": 1, "method": "getAuthStatus", "params": {"includeToken": True}},
    {"id": 2, "method": "getAuthStatus", "params": {"includeToken": False}},
    {"id": 3, "method": "account/read", "params": {}},
]
ORIGIN = "https://workspace.example:8443"
# Notifications Codex sends whatever the credentials (sandbox and daemon status): not ours.
_UNRELATED = ("configWarning", "remoteControl/status/changed")


@pytest.fixture(scope="module")
def codex(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return real_codex(tmp_path_factory.mktemp("codex-e2e"))


@pytest.fixture(scope="module")
def oauth() -> Iterator[FakeTokenEndpoint]:
    with oauth_running() as endpoint:
        yield endpoint


# --- the launcher's table ---


def helps(codex: Path, *args: str) -> str:
    home = Path(os.environ.get("TMPDIR_E2E", "/var/tmp")) / "codex-e2e-help"
    home.mkdir(parents=True, exist_ok=True)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "CODEX_HOME": str(home)}
    proc = subprocess.run(
        [str(codex), *args, "--help"], env=env, capture_output=True, text=True, timeout=60
    )
    return proc.stdout


def test_the_table_is_codexs_subcommands_exactly(codex: Path) -> None:
    assert CODEX_TABLE_VERSION == CODEX_VERSION
    root = helps(codex)
    listed = re.findall(
        r"^  ([a-z][a-z0-9-]*)\s", root.split("Commands:")[1].split("\n\n")[0], re.M
    )
    aliases = re.findall(r"\[aliases: ([a-z, -]+)\]", root)
    shown = set(listed) | {a.strip() for group in aliases for a in group.split(",")}
    assert shown <= set(CODEX_SUBCOMMANDS), shown - set(CODEX_SUBCOMMANDS)
    prompt = root.splitlines()[0]
    for name in set(CODEX_SUBCOMMANDS) - {"help"}:  # hidden ones too: a subcommand, no prompt
        assert helps(codex, name).splitlines()[0] != prompt, name
    for gone in ("mcp-server", "stdio-to-uds"):
        assert helps(codex, gone).splitlines()[0] == prompt


@pytest.mark.parametrize(
    "args",
    [[], ["exec"], ["exec", "resume"], ["exec", "fork"], ["exec", "review"], ["resume"], ["fork"]],
)
def test_remote_is_a_flag_of_each_session_command(codex: Path, args: list[str]) -> None:
    assert f"{REMOTE_FLAG} <ADDR>" in helps(codex, *args)


# --- the status answers ---


def write_home(home: Path, auth: Any, config: str) -> None:
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    if auth is not None:
        (home / "auth.json").write_text(auth if isinstance(auth, str) else json.dumps(auth))
        (home / "auth.json").chmod(0o600)
    (home / "config.toml").write_text(config)


def answers(session: Session) -> dict[str, Any]:
    notes = [n["params"] for n in session.notifications if n.get("method") not in _UNRELATED]
    return {
        **{
            str(i): session.answers[i].get("result", session.answers[i].get("error"))
            for i in (1, 2, 3)
        },
        "notifications": notes,
    }


def chat(**extra: Any) -> dict[str, Any]:
    data = chatgpt_auth("rt-e2e", **extra)
    data["tokens"]["access_token"] = make_jwt(
        {"exp": 4_000_000_000, AUTH_CLAIM: {"chatgpt_account_id": "acct-1"}}
    )
    return data


def key(mode: Any = "apikey", value: Any = "sk-e2e-1234") -> dict[str, Any]:
    return {"OPENAI_API_KEY": value} | ({} if mode is ... else {"auth_mode": mode})


ROUTED = chatgpt.accounts(origin=ORIGIN, override="us")
SCENARIOS: dict[str, tuple[Any, str, Any]] = {
    # name: (auth.json, extra config.toml, accounts-check answer)
    "api key": (key(), "", ROUTED),
    "api key, no auth_mode": (key(...), "", ROUTED),
    "api key, empty": (key("apikey", ""), "", ROUTED),
    "auth_mode APIKEY": (key("APIKEY"), "", ROUTED),
    "auth_mode bogus": (key("bogus"), "", ROUTED),
    "auth_mode headers": (key("headers"), "", ROUTED),
    "auth_mode personalAccessToken": (key("personalAccessToken"), "", ROUTED),
    "auth_mode bedrockApiKey": (key("bedrockApiKey"), "", ROUTED),
    "chatgpt without tokens": (key("chatgpt"), "", ROUTED),
    "chatgpt routed": (chat(), "", ROUTED),
    "chatgpt, no last_refresh": (
        {k: v for k, v in chat().items() if k != "last_refresh"},
        "",
        ROUTED,
    ),
    "chatgptAuthTokens": (chat(auth_mode="chatgptAuthTokens"), "", ROUTED),
    "chatgpt, no workspace id": (
        chat() | {"tokens": {k: v for k, v in chat()["tokens"].items() if k != "account_id"}},
        "",
        ROUTED,
    ),
    "routing: not an origin": (chat(), "", chatgpt.accounts(origin=ORIGIN + "/x", override="us")),
    "routing: http origin": (
        chat(),
        "",
        chatgpt.accounts(origin="http://w.example", override="us"),
    ),
    "routing: bad override": (chat(), "", chatgpt.accounts(origin=ORIGIN, override="eu")),
    "routing: other workspace": (
        chat(),
        "",
        chatgpt.accounts(account_id="acct-2", origin=ORIGIN, override="us"),
    ),
    "routing: not json": (chat(), "", "not json"),
    "forced chatgpt, api key": (key(), 'forced_login_method = "chatgpt"\n', ROUTED),
    "forced api, chatgpt": (chat(), 'forced_login_method = "api"\n', ROUTED),
    "forced workspace other": (chat(), 'forced_chatgpt_workspace_id = "other"\n', ROUTED),
    "forced workspace list": (chat(), 'forced_chatgpt_workspace_id = ["x", "acct-1"]\n', ROUTED),
    "forced workspace, api key": (key(), 'forced_chatgpt_workspace_id = "other"\n', ROUTED),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_status_answers_match_the_real_codex(
    codex: Path, oauth: FakeTokenEndpoint, tmp_path: Path, name: str
) -> None:
    auth, config, check = SCENARIOS[name]
    results = []
    with chatgpt.running(body=check) as backend:
        for argv in ([str(codex), "app-server"], OURS):
            home = tmp_path / "home"
            write_home(home, auth, f'chatgpt_base_url = "{backend.base_url}"\n' + config)
            env = {
                "PATH": "/usr/bin:/bin",
                "HOME": str(tmp_path),
                "CODEX_HOME": str(home),
                "CODEX_REFRESH_TOKEN_URL_OVERRIDE": oauth.url,
            }
            results.append(answers(talk(argv, env, REQUESTS, linger=1.5, timeout=60)))
    real, ours = results
    assert ours == real


def test_the_refresh_request_is_codexs(
    codex: Path, oauth: FakeTokenEndpoint, tmp_path: Path
) -> None:
    bodies = []
    for argv in ([str(codex), "app-server"], OURS):
        home = tmp_path / "home"
        data = chatgpt_auth(oauth.issue_refresh_token(), exp_in=60)
        write_home(home, data, "")
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "CODEX_HOME": str(home),
            "CODEX_REFRESH_TOKEN_URL_OVERRIDE": oauth.url,
        }
        before = oauth.count
        session = talk(
            argv,
            env,
            [{"id": 1, "method": "getAuthStatus", "params": {"includeToken": True}}],
            timeout=60,
        )
        assert session.result(1)["authMethod"] == "chatgpt"
        bodies.append(oauth.requests[before:])
    real, ours = bodies
    assert len(ours) == len(real) == 1
    assert set(ours[0]) == set(real[0]) and ours[0]["refresh_reason"] == real[0]["refresh_reason"]


# --- the keyring ---

KEYRING_PROBE = textwrap.dedent(
    """\
    import json, os, sys
    sys.path[:0] = os.environ["TESTS_PATH"].split(":")
    from auth.appserver import talk
    from auth.test_codex_e2e import REQUESTS, answers
    env = dict(os.environ)
    out = [answers(talk(argv, env, REQUESTS, linger=1.0, timeout=60))
           for argv in ([os.environ["CODEX"], "app-server"], json.loads(os.environ["OURS"]))]
    print(json.dumps(out))
    """
)


@pytest.mark.parametrize("store", ["keyring", "auto"])
def test_keyring_answers_match_the_real_codex(codex: Path, tmp_path: Path, store: str) -> None:
    need_keyring("secret-tool")
    home = Path(os.environ.get("TMPDIR_E2E", "/var/tmp")) / f"codex-kr-e2e-{os.getpid()}-{store}"
    write_home(home, None, f'cli_auth_credentials_store = "{store}"\n')
    tests = Path(__file__).resolve().parents[1]
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home.parent),
        "CODEX_HOME": str(home),
        "OURS": json.dumps(OURS),
        "TESTS_PATH": f"{tests}:{tests.parent / 'installer'}",
        "PYTHONPATH": str(tests.parent / "installer"),
    }
    try:
        proc = in_keyring_session(
            codex, KEYRING_PROBE, env, login="sk-keyring-e2e-0000", timeout=180
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        real, ours = json.loads(proc.stdout.splitlines()[-1])
        assert real["1"]["authMethod"] == "apikey"  # the real Codex read it from the keyring
        assert ours == real
        assert not (home / "auth.json").exists()
    finally:
        shutil.rmtree(home, ignore_errors=True)

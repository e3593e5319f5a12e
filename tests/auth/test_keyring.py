"""``cli_auth_credentials_store = "keyring"`` / ``"auto"`` in `auth status` and `auth serve`
(issue 22 item 3): the credential read from Codex's own keyring item (service ``Codex Auth``,
account ``cli|<hash of CODEX_HOME>``), refreshed under the same rules and written back to that
same item only. Through the real entry points against a stand-in ``secret-tool`` (the real tool
over a real gnome-keyring is the opt-in e2e test's)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codex_install.auth.keyring import SERVICE, Keyring, store_key
from servers.oauth import FakeTokenEndpoint

from .appserver import talk
from .conftest import auth_env, chatgpt_auth, write_auth

FAKE_TOOL = Path(__file__).with_name("fake_secret_tool.py")
CLI = [sys.executable, "-m", "codex_install"]
KEY = "sk-keyring-0000"
RUST_ATTRIBUTES = {"application": "rust-keyring", "service": SERVICE, "target": "default"}


class FakeKeyring:
    def __init__(self, root: Path, home: Path) -> None:
        self.file = root / "keyring.json"
        self.log = root / "keyring.log"
        self.bin = root / "bin"
        self.bin.mkdir()
        tool = self.bin / "secret-tool"
        tool.write_text(f"#!{sys.executable}\n" + FAKE_TOOL.read_text())
        tool.chmod(0o755)
        self.account = store_key(home)

    def put(self, data: dict[str, Any]) -> None:
        """An item as Codex 0.171.0 stores it (attributes measured with gnome-keyring)."""
        attributes = {**RUST_ATTRIBUTES, "username": self.account}
        item = {
            "label": f"{self.account}@{SERVICE}:default (keyring v3.6.3)",
            "attributes": attributes,
        }
        self.file.write_text(
            json.dumps([{**item, "secret": json.dumps(data, separators=(",", ":"))}])
        )

    def items(self) -> list[dict[str, Any]]:
        return json.loads(self.file.read_text()) if self.file.exists() else []

    def calls(self) -> list[list[str]]:
        return (
            [json.loads(line) for line in self.log.read_text().splitlines()]
            if self.log.exists()
            else []
        )

    def env(self, base: dict[str, str], **knobs: str) -> dict[str, str]:
        return {
            **base,
            "PATH": f"{self.bin}:/usr/bin:/bin",
            "FAKE_KEYRING": str(self.file),
            "FAKE_KEYRING_LOG": str(self.log),
            **knobs,
        }


@pytest.fixture
def keyring(tmp_path: Path, home: Path) -> FakeKeyring:
    return FakeKeyring(tmp_path, home)


def use_store(home: Path, store: str) -> None:
    config = home / "config.toml"
    config.write_text(config.read_text() + f'cli_auth_credentials_store = "{store}"\n')


def status(env: dict[str, str], *flags: str) -> tuple[dict[str, Any], str]:
    proc = subprocess.run(
        [*CLI, "auth", "status", "--json", "--include-token", *flags],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    answer = json.loads(proc.stdout)
    # Signed out is exit 8, as `codex login status` is non-zero (issue 23).
    assert proc.returncode == (0 if answer["authMethod"] else 8), proc.stderr
    return answer, proc.stderr


@pytest.mark.parametrize("store", ["keyring", "auto"])
def test_an_api_key_in_codexs_keyring_item_is_answered(
    home: Path, oauth: FakeTokenEndpoint, keyring: FakeKeyring, store: str
) -> None:
    use_store(home, store)
    keyring.put({"auth_mode": "apikey", "OPENAI_API_KEY": KEY})
    env = keyring.env(auth_env(home, oauth))
    answer, err = status(env)
    assert answer == {"authMethod": "apikey", "authToken": KEY, "requiresOpenaiAuth": True}
    assert err == ""
    session = talk([*CLI, "auth", "serve"], env, [{"id": 1, "method": "account/read"}])
    assert session.result(1)["account"] == {"type": "apiKey"}
    assert ["lookup", "service", SERVICE, "username", keyring.account] in keyring.calls()
    assert not (home / "auth.json").exists()


def test_a_stale_token_in_the_keyring_is_refreshed_once_and_written_back_to_the_same_item(
    home: Path, oauth: FakeTokenEndpoint, keyring: FakeKeyring
) -> None:
    use_store(home, "keyring")
    data = chatgpt_auth(oauth.issue_refresh_token(), exp_in=60)
    keyring.put(data)
    env = keyring.env(auth_env(home, oauth))
    answer, _ = status(env)
    assert answer["authMethod"] == "chatgpt"
    assert answer["authToken"] != data["tokens"]["access_token"]  # the refreshed one
    (item,) = keyring.items()  # Codex's item replaced, not a second one beside it
    assert item["attributes"] == {**RUST_ATTRIBUTES, "username": keyring.account}
    stored = json.loads(item["secret"])
    assert stored["tokens"]["access_token"] == answer["authToken"]
    assert stored["tokens"]["refresh_token"] != data["tokens"]["refresh_token"]
    assert oauth.count == 1
    for call in keyring.calls():  # the secret only ever on stdin
        assert not any(token in " ".join(call) for token in stored["tokens"].values())
    assert not (home / "auth.json").exists()
    # The next run reads the new item: nothing more to ask.
    again, _ = status(env)
    assert again["authToken"] == answer["authToken"] and oauth.count == 1


def test_keyring_mode_ignores_a_leftover_auth_json(
    home: Path, oauth: FakeTokenEndpoint, keyring: FakeKeyring
) -> None:
    use_store(home, "keyring")
    write_auth(home, {"auth_mode": "apikey", "OPENAI_API_KEY": "sk-leftover"})
    answer, err = status(keyring.env(auth_env(home, oauth)))
    assert answer["authMethod"] is None and err == ""


def test_auto_falls_back_to_auth_json_when_the_keyring_has_nothing_or_cannot_answer(
    home: Path, oauth: FakeTokenEndpoint, keyring: FakeKeyring
) -> None:
    use_store(home, "auto")
    write_auth(home, {"auth_mode": "apikey", "OPENAI_API_KEY": "sk-file"})
    base = auth_env(home, oauth)
    assert status(keyring.env(base))[0]["authToken"] == "sk-file"  # no item
    assert status(keyring.env(base, FAKE_KEYRING_LOCKED="1"))[0]["authToken"] == "sk-file"
    assert status({**base, "PATH": "/nonexistent"})[0]["authToken"] == "sk-file"  # no tool


@pytest.mark.parametrize("knob", [{"FAKE_KEYRING_LOCKED": "1"}, {}])
def test_a_keyring_that_cannot_be_read_is_signed_out_with_one_line(
    home: Path, oauth: FakeTokenEndpoint, keyring: FakeKeyring, knob: dict[str, str]
) -> None:
    use_store(home, "keyring")
    keyring.put({"auth_mode": "apikey", "OPENAI_API_KEY": KEY})
    env = (
        keyring.env(auth_env(home, oauth), **knob)
        if knob
        else {**auth_env(home, oauth), "PATH": "/nonexistent"}
    )
    answer, err = status(env)
    assert answer["authMethod"] is None
    (line,) = err.splitlines()
    assert "OS keyring" in line and line.endswith("answering as signed out")
    assert KEY not in err


@pytest.mark.slow
def test_a_keyring_that_never_answers_is_cut_at_its_deadline(
    home: Path, oauth: FakeTokenEndpoint, keyring: FakeKeyring
) -> None:
    use_store(home, "keyring")
    answer, err = status(keyring.env(auth_env(home, oauth), FAKE_KEYRING_HANG="60"))
    assert answer["authMethod"] is None
    assert "did not answer within 5 s" in err


def test_ephemeral_store_has_nothing_to_answer_from(home: Path, oauth: FakeTokenEndpoint) -> None:
    use_store(home, "ephemeral")
    write_auth(home, {"auth_mode": "apikey", "OPENAI_API_KEY": "sk-leftover"})
    answer, err = status(auth_env(home, oauth))
    assert answer["authMethod"] is None and "ephemeral" in err


def test_the_macos_keychain_is_read_but_never_written_so_no_refresh_is_spent(
    home: Path, oauth: FakeTokenEndpoint
) -> None:
    data = chatgpt_auth(oauth.issue_refresh_token(), exp_in=60)
    calls: list[list[str]] = []

    def security(argv: list[str], **_kw: object) -> subprocess.CompletedProcess[bytes]:
        calls.append(argv)
        return subprocess.CompletedProcess(argv, 0, json.dumps(data).encode() + b"\n", b"")

    from codex_install.auth.manager import AuthManager

    use_store(home, "keyring")
    ring = Keyring(home, {}, run=security, platform="darwin")
    with AuthManager(home, env=auth_env(home, oauth), keyring=ring) as manager:
        answer = manager.get_auth_status(include_token=True)
    assert answer["authToken"] == data["tokens"]["access_token"]  # as it is: no request
    assert oauth.count == 0
    read = ["security", "find-generic-password", "-s", SERVICE, "-a", store_key(home), "-w"]
    assert calls and all(call == read for call in calls)  # read, never written

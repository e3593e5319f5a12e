"""Which runs the launcher checks, and where it looks (issue 12, SPEC §10): a case per entry of
the subcommand table, CODEX_API_KEY / OPENAI_API_KEY, and the credential stores of Codex's
``cli_auth_credentials_store``."""

from __future__ import annotations

import io
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from codex_install.auth.credstore import credentials_store, store_from_args, store_from_config
from codex_install.errors import AuthFileError
from codex_install.launcher import (
    CODEX_SUBCOMMANDS,
    EXIT_SIGN_IN_REQUIRED,
    _codex_login_status,
    launch,
    needs_credentials,
)

from .conftest import API_KEY, Sandbox

CHECKED = sorted(name for name, checked in CODEX_SUBCOMMANDS.items() if checked)
PASSTHROUGH = sorted(name for name, checked in CODEX_SUBCOMMANDS.items() if not checked)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, path: str, argv: list[str]) -> None:
        self.calls.append(argv[1:])


class Status:
    """A stand-in for `codex login status`, counting its calls."""

    def __init__(self, answer: bool | None) -> None:
        self.answer = answer
        self.calls = 0

    def __call__(self, codex: Path, env: Mapping[str, str]) -> bool | None:
        self.calls += 1
        return self.answer


def run(sandbox: Sandbox, args: list[str], **kw: object) -> tuple[int, Recorder, str]:
    execv, err = Recorder(), io.StringIO()
    env = kw.pop("env", sandbox.env)
    status = launch(args, env=env, execv=execv, isatty=lambda fd: False, stderr=err, **kw)  # type: ignore[arg-type]
    return status, execv, err.getvalue()


# --- the subcommand table: one case per entry ---


def test_the_table_names_the_commands_the_issue_names() -> None:
    for name in ("exec", "e", "review", "resume", "fork", "cloud"):
        assert CODEX_SUBCOMMANDS[name] is True
    for name in ("login", "logout", "completion", "features", "mcp", "plugin", "doctor"):
        assert CODEX_SUBCOMMANDS[name] is False
    for name in ("debug", "app-server", "sandbox", "help"):
        assert CODEX_SUBCOMMANDS[name] is False


@pytest.mark.parametrize("name", CHECKED)
def test_checked_subcommand_reads_the_credentials(sandbox: Sandbox, name: str) -> None:
    assert needs_credentials([name, "x"]) is True
    assert needs_credentials(["-c", "model=o3", name]) is True
    sandbox.auth_file.write_text("[]")  # reading it is the only way to fail
    with pytest.raises(AuthFileError):
        run(sandbox, [name, "x"])


@pytest.mark.parametrize("name", PASSTHROUGH)
def test_passthrough_subcommand_execs_without_reading_anything(sandbox: Sandbox, name: str) -> None:
    assert needs_credentials([name]) is False
    assert needs_credentials(["--profile", "work", name, "--flag"]) is False
    sandbox.auth_file.write_text("[]")
    (sandbox.codex_home / "config.toml").write_text('cli_auth_credentials_store = "keyring"\n')
    never = Status(True)
    status, execv, err = run(sandbox, [name, "--flag"], login_status=never)
    assert (status, execv.calls, err, never.calls) == (0, [[name, "--flag"]], "", 0)


@pytest.mark.parametrize("args", [[], ["fix the login bug"], ["-m", "o3"], ["--", "login"]])
def test_the_interactive_tui_and_a_prompt_are_checked(args: list[str]) -> None:
    assert needs_credentials(args) is True


@pytest.mark.parametrize(
    "args", [["exec", "--help"], ["resume", "-h"], ["-V"], ["review", "--version"]]
)
def test_help_and_version_are_never_checked(args: list[str]) -> None:
    assert needs_credentials(args) is False


# --- API keys in the environment ---


def test_codex_api_key_counts_as_signed_in_and_nothing_is_read(sandbox: Sandbox) -> None:
    sandbox.auth_file.write_text("[]")
    env = {**sandbox.env, "CODEX_API_KEY": API_KEY}
    status, execv, err = run(sandbox, ["exec", "hi"], env=env, login_status=Status(False))
    assert (status, execv.calls, err) == (0, [["exec", "hi"]], "")


def test_blank_codex_api_key_is_no_key(sandbox: Sandbox) -> None:
    status, execv, err = run(sandbox, ["exec", "hi"], env={**sandbox.env, "CODEX_API_KEY": " "})
    assert (status, execv.calls) == (EXIT_SIGN_IN_REQUIRED, [])
    assert "Not signed in." in err


def test_openai_api_key_alone_exits_8_with_the_codex_install_login_hint(sandbox: Sandbox) -> None:
    env = {**sandbox.env, "OPENAI_API_KEY": API_KEY}
    status, execv, err = run(sandbox, ["exec", "hi"], env=env)
    assert (status, execv.calls) == (EXIT_SIGN_IN_REQUIRED, [])
    assert err.count("\n") == 1 and "`codex-install login`" in err and API_KEY not in err
    assert not sandbox.auth_file.exists()
    assert sandbox.runs() == []  # no `codex login --with-api-key` behind the user's back


# --- credential stores ---


@pytest.mark.parametrize("store", ["keyring", "auto", "ephemeral"])
def test_keyring_store_asks_codex_and_ignores_a_leftover_auth_json(
    sandbox: Sandbox, store: str
) -> None:
    sandbox.sign_in_api_key()  # leftover: proves nothing in keyring mode
    (sandbox.codex_home / "config.toml").write_text(f'cli_auth_credentials_store = "{store}"\n')
    says_no = Status(False)
    status, execv, err = run(sandbox, ["exec", "hi"], login_status=says_no)
    assert (status, execv.calls, says_no.calls) == (EXIT_SIGN_IN_REQUIRED, [], 1)
    assert "Not signed in." in err


def test_keyring_store_signed_in_per_codex_execs_without_an_auth_json(sandbox: Sandbox) -> None:
    (sandbox.codex_home / "config.toml").write_text("cli_auth_credentials_store = 'keyring'\n")
    status, execv, err = run(sandbox, ["exec", "hi"], login_status=Status(True))
    assert (status, execv.calls, err) == (0, [["exec", "hi"]], "")


def test_keyring_store_codex_silent_starts_codex_with_a_warning(sandbox: Sandbox) -> None:
    (sandbox.codex_home / "config.toml").write_text('cli_auth_credentials_store = "keyring"\n')
    status, execv, err = run(sandbox, ["exec", "hi"], login_status=Status(None))
    assert (status, execv.calls) == (0, [["exec", "hi"]])
    assert "did not answer" in err


def test_dash_c_override_wins_over_config_toml(sandbox: Sandbox) -> None:
    (sandbox.codex_home / "config.toml").write_text('cli_auth_credentials_store = "keyring"\n')
    sandbox.sign_in_api_key()
    never = Status(False)
    args = ["-c", "cli_auth_credentials_store=file", "exec", "hi"]
    status, _, _ = run(sandbox, args, login_status=never)
    assert (status, never.calls) == (0, 0)
    args = ["exec", "-c", 'cli_auth_credentials_store="keyring"', "hi"]
    (sandbox.codex_home / "config.toml").unlink()
    status, _, _ = run(sandbox, args, login_status=never)
    assert (status, never.calls) == (EXIT_SIGN_IN_REQUIRED, 1)


@pytest.mark.parametrize(
    ("text", "store"),
    [
        ('cli_auth_credentials_store = "keyring"\n', "keyring"),
        ("cli_auth_credentials_store='auto' # comment\n", "auto"),
        ('model = "o3"\n\n[profiles.work]\ncli_auth_credentials_store = "keyring"\n', None),
        ('# cli_auth_credentials_store = "keyring"\nmodel = "o3"\n', None),
        ('model = "cli_auth_credentials_store"\n', None),
        ("", None),
    ],
)
def test_store_from_config(text: str, store: str | None) -> None:
    assert store_from_config(text) == store


@pytest.mark.parametrize(
    ("args", "store"),
    [
        (["-c", "cli_auth_credentials_store=keyring"], "keyring"),
        (["--config", 'cli_auth_credentials_store="file"'], "file"),
        (["--config=cli_auth_credentials_store=auto", "exec"], "auto"),
        (
            [
                "-c",
                "a=1",
                "-c",
                "cli_auth_credentials_store=auto",
                "-c=cli_auth_credentials_store=file",
            ],
            "file",
        ),
        (["exec", "--", "-c", "cli_auth_credentials_store=keyring"], None),
        (["-c", "model=o3"], None),
    ],
)
def test_store_from_args(args: list[str], store: str | None) -> None:
    assert store_from_args(args) == store


def test_store_default_is_file_without_config(tmp_path: Path) -> None:
    assert credentials_store(str(tmp_path), []) == "file"
    (tmp_path / "config.toml").write_bytes(b"\xff\xfe")
    assert credentials_store(str(tmp_path), []) == "file"


def test_codex_login_status_exit_code_and_deadline(sandbox: Sandbox) -> None:
    codex = sandbox.bin_dir / "codex"
    assert _codex_login_status(codex, {**sandbox.env, "FAKE_CODEX_LOGGED_IN": "1"}) is True
    assert _codex_login_status(codex, sandbox.env) is False
    slow = {**sandbox.env, "FAKE_CODEX_STATUS_SLEEP": "5"}
    t0 = time.monotonic()
    assert _codex_login_status(codex, slow, timeout=0.3) is None
    assert time.monotonic() - t0 < 3
    assert _codex_login_status(sandbox.root / "missing", sandbox.env) is None

"""`launch()` with its seams injected: exec, environment, isatty, stderr."""

from __future__ import annotations

import io

import pytest

from codex_install.errors import AuthFileError
from codex_install.launcher import EXIT_SIGN_IN_REQUIRED, launch

from .conftest import Sandbox


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    def __call__(self, path: str, argv: list[str]) -> None:
        self.calls.append((path, argv))


def test_valid_credentials_exec_the_bin_link_with_args_unchanged(sandbox: Sandbox) -> None:
    sandbox.sign_in_api_key()
    execv, err = Recorder(), io.StringIO()
    status = launch(["exec", "-m", "o3", "hi"], env=sandbox.env, execv=execv, stderr=err)
    link = str(sandbox.bin_dir / "codex")
    assert status == 0
    assert execv.calls == [(link, [link, "exec", "-m", "o3", "hi"])]
    assert err.getvalue() == ""


def test_signed_out_without_tty_never_execs(sandbox: Sandbox) -> None:
    execv, err = Recorder(), io.StringIO()
    status = launch(["hi"], env=sandbox.env, execv=execv, isatty=lambda fd: False, stderr=err)
    assert status == EXIT_SIGN_IN_REQUIRED
    assert execv.calls == []
    assert err.getvalue().startswith("codex-launch: Not signed in.")


def test_passthrough_execs_without_reading_auth_json(sandbox: Sandbox) -> None:
    sandbox.auth_file.write_text("[]")
    execv = Recorder()
    assert launch(["logout"], env=sandbox.env, execv=execv) == 0
    assert [argv[1:] for _, argv in execv.calls] == [["logout"]]


def test_malformed_auth_json_raises_the_domain_error(sandbox: Sandbox) -> None:
    sandbox.auth_file.write_text("[]")
    with pytest.raises(AuthFileError):
        launch(["hi"], env=sandbox.env, execv=Recorder())

"""Hints name codex-install as the terminal can run it again (issue 23: every hint runs as
written, `.venv/bin/codex-install` included)."""

from __future__ import annotations

from pathlib import Path

from codex_install.signin import self_command


def test_on_path_it_is_its_name(tmp_path: Path) -> None:
    (tmp_path / "codex-install").write_text("#!/bin/sh\n")
    (tmp_path / "codex-install").chmod(0o755)
    argv0 = str(tmp_path / "codex-install")
    assert self_command({"PATH": str(tmp_path)}, argv0) == "codex-install"


def test_off_path_it_is_its_full_path(tmp_path: Path) -> None:
    venv = tmp_path / "a dir" / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "codex-install").write_text("#!/bin/sh\n")
    (venv / "codex-install").chmod(0o755)
    shown = self_command({"PATH": "/usr/bin:/bin"}, str(venv / "codex-install"))
    assert shown == f"'{venv / 'codex-install'}'"


def test_as_a_module_it_is_python_m() -> None:
    shown = self_command({}, "/x/codex_install/__main__.py", python="/usr/bin/python3")
    assert shown == "/usr/bin/python3 -m codex_install"

"""Interactivity: the TTY checks and the one reading of boolean environment flags."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from codex_install import terminal
from codex_install.terminal import env_flag, is_interactive, non_interactive_forced


@pytest.mark.parametrize(
    ("env", "ttys", "expected"),
    [
        ({}, {0, 2}, True),
        ({}, {0}, False),
        ({}, {2}, False),
        ({"CODEX_NON_INTERACTIVE": "1"}, {0, 2}, False),
        ({"CODEX_NON_INTERACTIVE": "0"}, {0, 2}, True),
    ],
)
def test_is_interactive(env: dict[str, str], ttys: set[int], expected: bool) -> None:
    assert is_interactive(env, lambda fd: fd in ttys) is expected


def test_an_isatty_that_fails_means_nobody_is_there() -> None:
    def broken(fd: int) -> bool:
        raise OSError(9, "Bad file descriptor")

    assert is_interactive({}, broken) is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("true", True),
        ("TRUE", True),
        (" yes ", True),
        ("", False),
        ("0", False),
        ("no", False),
        ("false", False),
        ("2", False),
    ],
)
def test_env_flag_has_one_meaning_of_true(value: str, expected: bool) -> None:
    assert env_flag({"FLAG": value}, "FLAG") is expected
    assert non_interactive_forced({"CODEX_NON_INTERACTIVE": value}) is expected


def test_an_unset_flag_is_false() -> None:
    assert env_flag({}, "FLAG") is False
    assert non_interactive_forced({}) is False


def test_stream_isatty_asks_the_python_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    # A replaced sys.stdin (click's runner, a pipe) decides, not whatever fd 0 happens to be.
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    assert terminal.stream_isatty(0) is False
    assert terminal.stream_isatty(7) is False


def test_importing_it_loads_nothing_else_of_ours_and_not_typing() -> None:
    # It is on the codex-launch hot path. Compared with what the interpreter had loaded before,
    # so that a site hook importing typing itself does not count against it.
    code = (
        "import sys; before = set(sys.modules); import codex_install.terminal; "
        "print(sorted(m for m in set(sys.modules) - before "
        "if m.startswith('codex_install') or m == 'typing'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['codex_install', 'codex_install.terminal']"

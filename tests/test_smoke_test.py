"""The smoke test accepts only ``codex-cli <version>`` as a whole line (SPEC §6, exit 5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from builders import package_release
from cli_helpers import codex_version, install
from codex_install.errors import SmokeTestError
from codex_install.install import Runner, smoke_test


def _runner(code: int, output: str) -> Runner:
    return lambda _argv, _timeout: (code, output)


@pytest.mark.parametrize(
    "output",
    [
        "codex-cli 1.2.30\n",
        "codex-cli 1.2.3-alpha.1\n",
        "xcodex-cli 1.2.3\n",
        "codex-cli 1.2.3.4\n",
        "codex-cli 1.2.3 (patched)\n",
        "codex-cli 1.2\n",
        "",
    ],
)
def test_anything_but_the_exact_line_fails(output: str) -> None:
    with pytest.raises(SmokeTestError, match=r"expected 'codex-cli 1\.2\.3'"):
        smoke_test(Path("codex"), "1.2.3", _runner(0, output))


@pytest.mark.parametrize(
    "output",
    ["codex-cli 1.2.3\n", "codex-cli 1.2.3", "  codex-cli 1.2.3  \r\n", "warn\ncodex-cli 1.2.3\n"],
)
def test_the_exact_line_passes(output: str) -> None:
    smoke_test(Path("codex"), "1.2.3", _runner(0, output))


def test_the_exact_line_with_a_failing_exit_code_fails() -> None:
    with pytest.raises(SmokeTestError, match="exited 1"):
        smoke_test(Path("codex"), "1.2.3", _runner(1, "codex-cli 1.2.3\n"))


def test_a_longer_version_through_the_cli_exits_5_and_installs_nothing(env, server):
    package_release("0.169.0").publish_github(server)
    assert install(env, "--version", "0.169.0").exit_code == 0
    script = b"#!/bin/sh\necho 'codex-cli 0.169.01'\n"
    package_release("0.169.0", script=script).publish_github(server)
    result = install(env, "--version", "0.169.0", "--force")
    assert result.exit_code == 5, result.output
    assert "expected 'codex-cli 0.169.0'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert codex_version(env) == "codex-cli 0.169.0"

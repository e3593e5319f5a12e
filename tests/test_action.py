"""action.yml: the composite action's install step, run by bash with its inputs wired as GitHub
would wire them, against the fake GitHub API on 127.0.0.1 (pipx replaced by a stub that runs
this checkout's codex-install)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from builders import package_release, sha256
from codex_install.platforms import host_target

ROOT = Path(__file__).parents[1]
ACTION = (ROOT / "action.yml").read_text(encoding="utf-8")


def _block(key: str, indent: int) -> list[str]:
    """The lines under ``key:`` in the install step (deeper than ``indent`` spaces)."""
    step = ACTION[ACTION.index("- id: install") :]
    lines = step.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(f"{key}:"))
    body = []
    for line in lines[start + 1 :]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        body.append(line)
    return body


def _step_env(inputs: dict[str, str], python: str) -> dict[str, str]:
    values = {**{f"inputs.{k}": v for k, v in inputs.items()}}
    values["steps.python.outputs.python-path"] = python
    env = {}
    for line in _block("env", 6):
        match = re.match(r"\s+([A-Z_]+): \$\{\{ ([\w.-]+) \}\}$", line)
        if match:
            env[match[1]] = values[match[2]]
    return env


def test_outputs_are_the_ones_the_install_step_writes():
    for name in ("codex-version", "codex-path", "sha256"):
        assert f"value: ${{{{ steps.install.outputs.{name} }}}}" in ACTION
    for name in ("version", "source", "mirror"):
        assert re.search(rf"^  {name}:\n    description: ", ACTION, re.M), name


@pytest.mark.slow  # a real codex-install process: ~1 s
def test_the_install_step_installs_and_writes_the_outputs(env, server, tmp_path):
    target = host_target()  # the action detects the runner's platform: no --target
    rel = package_release("0.169.0", target)
    rel.publish_github(server, latest=False)
    stub = tmp_path / "stub-bin"
    stub.mkdir()
    (stub / "pipx").write_text(
        '#!/bin/sh\nwhile [ "$1" != codex-install ]; do shift; done; shift\n'
        f'exec "{sys.executable}" -m codex_install "$@"\n'
    )
    (stub / "pipx").chmod(0o755)
    output = tmp_path / "github_output"
    inputs = {"version": "0.169.0", "source": "github", "mirror": "", "github-token": ""}
    step_env = {
        **env,
        **_step_env(inputs, sys.executable),
        "PATH": f"{stub}{os.pathsep}{env['PATH']}",
        "GITHUB_ACTION_PATH": str(ROOT),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_PATH": str(tmp_path / "github_path"),
    }
    script = "\n".join(line.strip() for line in _block("run", 6))
    proc = subprocess.run(
        ["bash", "-c", script], env=step_env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert f"installed codex 0.169.0 ({target}" in proc.stderr
    digest = sha256(rel.files[f"codex-package-{target}.tar.zst"])
    lines = output.read_text().splitlines()
    assert lines == [
        "codex-version=0.169.0",
        f"codex-path={Path(env['CODEX_INSTALL_DIR']) / 'codex'}",
        f"sha256={digest}",
    ]


def _table(heading_row: str) -> dict[str, list[str]]:
    """The README table that starts with ``heading_row``: first cell (unquoted) → the others."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = readme[readme.index(heading_row) :].split("\n\n", 1)[0].splitlines()[2:]
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows]
    return {c[0].strip("`"): c[1:] for c in cells}


def _declared(section: str) -> dict[str, str]:
    """action.yml's inputs or outputs: name → its default (inputs) or value (outputs)."""
    body = ACTION[ACTION.index(f"\n{section}:\n") + len(section) + 3 :]
    names: dict[str, str] = {}
    current = ""
    for line in body.splitlines():
        if line and not line.startswith(" "):
            break
        if re.match(r"^  [\w-]+:$", line):
            current = line.strip()[:-1]
            names[current] = ""
        elif re.match(r"^    (default|value): ", line):
            names[current] = line.split(": ", 1)[1].strip().strip('"')
    return names


def test_the_readme_documents_every_input_and_output_with_its_default() -> None:
    inputs, outputs = _declared("inputs"), _declared("outputs")
    documented_inputs = _table("| input | default | meaning |")
    assert sorted(documented_inputs) == sorted(inputs)
    for name, default in inputs.items():
        shown = documented_inputs[name][0].strip("`")
        # `${{ github.token }}` is written `github.token` in the table.
        assert shown == default.removeprefix("${{ ").removesuffix(" }}"), name
    assert sorted(_table("| output | meaning |")) == sorted(outputs)


def test_every_action_the_composite_action_uses_is_pinned_to_a_commit() -> None:
    uses = re.findall(r"^\s+uses: (\S+)", ACTION, re.M)
    assert uses, "the action sets up Python with actions/setup-python"
    for ref in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", ref), ref

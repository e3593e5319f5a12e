"""The shell steps of the GitHub workflows, run by bash as a runner would run them (with their
``env:`` values and a stub codex-install): codex-release.yml decides whether a release is new
and which sources pin it; release.yml refuses a tag that is not the package's version.
actionlint, shellcheck and zizmor check the rest of the files in .ci/run."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from codex_install import __version__

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"


def step_script(workflow: str, step: str) -> str:
    """The ``run: |`` script of the step named ``step``, dedented."""
    lines = (WORKFLOWS / workflow).read_text(encoding="utf-8").splitlines()
    start = next(
        i for i, line in enumerate(lines) if line.strip() in (f"name: {step}", f"- name: {step}")
    )
    run = next(i for i in range(start, len(lines)) if lines[i].strip() == "run: |")
    indent = len(lines[run + 1]) - len(lines[run + 1].lstrip())
    body = []
    for line in lines[run + 1 :]:
        if line.strip() and len(line) - len(line.lstrip()) < indent:
            break
        body.append(line[indent:])
    return "\n".join(body) + "\n"


def bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    path = "/usr/bin:/bin"
    python = shutil.which("python3") or shutil.which("python")
    assert python is not None
    with tempfile.TemporaryDirectory(prefix="pybin-") as pybin:  # never cwd: the checkout
        (Path(pybin) / "python").symlink_to(python)  # setup-python's `python`
        return subprocess.run(
            ["bash", "-c", script],
            cwd=cwd,
            env={"PATH": f"{pybin}:{path}", **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


def fake_codex_install(runner_temp: Path, answer: dict[str, str]) -> Path:
    """$RUNNER_TEMP/venv/bin/codex-install: prints ``answer`` for resolve, records its argv."""
    bin_dir = runner_temp / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    script = bin_dir / "codex-install"
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$*" >> "{runner_temp}/calls"\n'
        f"[ \"$1\" = resolve ] && printf '%s\\n' '{json.dumps(answer)}'\n"
        "exit 0\n"
    )
    script.chmod(0o755)
    return runner_temp / "calls"


def outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def run_latest_release_step(
    tmp_path: Path, answer: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    """codex-release.yml's step that asks for the latest release, with ``codex-install
    resolve`` answering ``answer``: (the run, its GITHUB_OUTPUT file, the calls made)."""
    runner_temp = tmp_path / "runner"
    calls = fake_codex_install(runner_temp, answer)
    script = step_script(
        "codex-release.yml", "The latest release, and whether a manifest pins it already"
    )
    github_output = tmp_path / "github_output"
    done = bash(
        script,
        tmp_path,
        {"RUNNER_TEMP": str(runner_temp), "GITHUB_OUTPUT": str(github_output), "GITHUB_TOKEN": ""},
    )
    return done, github_output, calls


@pytest.mark.parametrize(
    ("answer", "shipped", "want"),
    [
        ({"version": "0.172.0", "source": "github"}, [], {"new": "true"}),
        ({"version": "0.172.0", "source": "npm"}, [], {"new": "true"}),
        ({"version": "0.171.0", "source": "github"}, ["0.171.0"], {"new": "false"}),
        ({"version": "0.173.0-alpha.2", "source": "npm"}, ["0.171.0"], {"new": "true"}),
    ],
)
def test_the_latest_release_is_new_unless_a_manifest_pins_it(
    tmp_path: Path, answer: dict[str, str], shipped: list[str], want: dict[str, str]
) -> None:
    (tmp_path / "manifests").mkdir()
    for version in shipped:
        (tmp_path / "manifests" / f"codex-{version}.toml").write_text("")
    done, github_output, calls = run_latest_release_step(tmp_path, answer)
    assert done.returncode == 0, done.stderr
    assert outputs(github_output) == {**answer, **want}
    assert calls.read_text().split() == [
        "resolve",
        "--version",
        "latest",
        "--target",
        "x86_64-unknown-linux-musl",
        "--json",
    ]


@pytest.mark.parametrize("version", ["0.172", "1.2.3; rm -rf ~", "$(id)", "../0.1.0", ""])
def test_a_version_that_is_no_release_number_stops_the_run(tmp_path: Path, version: str) -> None:
    (tmp_path / "manifests").mkdir()
    done, github_output, _ = run_latest_release_step(
        tmp_path, {"version": version, "source": "npm"}
    )
    assert done.returncode != 0
    assert not github_output.exists() or "version=" not in github_output.read_text()


@pytest.mark.parametrize(
    ("source", "sources"),
    [("github", ["--source", "github", "--source", "npm"]), ("npm", ["--source", "npm"])],
)
def test_the_manifest_pins_github_and_npm_when_github_answered_else_npm(
    tmp_path: Path, source: str, sources: list[str]
) -> None:
    runner_temp = tmp_path / "runner"
    calls = fake_codex_install(runner_temp, {})
    script = step_script("codex-release.yml", "Generate the manifest, render the cask")
    env = {"RUNNER_TEMP": str(runner_temp), "VERSION": "0.172.0", "SOURCE": source}
    done = bash(script, tmp_path, {**env, "GITHUB_TOKEN": ""})
    assert done.returncode == 0, done.stderr
    assert calls.read_text().splitlines() == [
        " ".join(
            ["manifest", "generate", "--version", "0.172.0", *sources, "--output", "manifests"]
        ),
        "homebrew --manifest manifests/codex-0.172.0.toml --output homebrew/codex.rb",
    ]


def _release_check(tag: str, repository: str) -> subprocess.CompletedProcess[str]:
    script = step_script(
        "release.yml", "The tag is the package's version, and its URLs name this repository"
    )
    return bash(script, ROOT, {"TAG": tag, "REPOSITORY": repository})


def test_a_release_tag_must_be_the_version_and_the_urls_this_repository() -> None:
    source = re.search(
        r'^Source = "https://github.com/([^"]+)"$', (ROOT / "pyproject.toml").read_text(), re.M
    )
    assert source is not None
    repository = source[1]
    ok = _release_check(f"v{__version__}", repository)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    wrong_tag = _release_check(f"v{__version__}.1", repository)
    assert wrong_tag.returncode == 1
    assert f"::error::tag v{__version__}.1 is not v{__version__}" in wrong_tag.stdout
    fork = _release_check(f"v{__version__}", "someone/fork")
    assert fork.returncode == 1
    assert "Source URL is not https://github.com/someone/fork" in fork.stdout

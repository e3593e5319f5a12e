"""The first run on a real terminal (issue 23), each screen captured as a person sees it: the
PATH block by default and its opt-outs, the progress line and Ctrl-C, the tables at 40, 80 and
200 columns, and the question before `uninstall` removes everything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from builders import TARGET, package_release
from cli_helpers import install
from servers.fake_http import FakeHTTPServer
from terminal_screen import Terminal

pytestmark = pytest.mark.slow  # each starts codex-install on a terminal: ~1 s
INSTALLER = str(Path(__file__).resolve().parents[1] / "installer")


def person(env: dict[str, str]) -> dict[str, str]:
    """A person at a bash prompt: no CI, no CODEX_NON_INTERACTIVE, the bin dir not on PATH."""
    out = {k: v for k, v in env.items() if k not in ("CODEX_NON_INTERACTIVE", "CI")}
    return {**out, "SHELL": "/bin/bash", "PATH": "/usr/bin:/bin", "TERM": "xterm",
            "PYTHONPATH": INSTALLER}  # fmt: skip


def codex_install(*args: str) -> list[str]:
    return [sys.executable, "-m", "codex_install", *args]


def login_shell(home: Path, command: str) -> subprocess.CompletedProcess[str]:
    """A new login shell, as a new terminal (or ssh) starts one."""
    return subprocess.run(
        ["bash", "-lc", command],
        env={"HOME": str(home), "PATH": "/usr/bin:/bin", "SHELL": "/bin/bash"},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_on_a_terminal_codex_is_put_on_path_for_new_shells(env, server, home):
    package_release("0.169.0").publish_github(server)
    term = Terminal(codex_install("install", "--no-login", "--target", TARGET), person(env))
    assert term.finish() == 0, term.raw
    screen = term.lines()
    bin_dir = env["CODEX_INSTALL_DIR"]
    assert f'Current terminal: export PATH={bin_dir}:"$PATH"' in screen
    assert any(line.startswith(f"PATH: {bin_dir} added to {home}/.bashrc, {home}/.profile")
               for line in screen), screen  # fmt: skip
    for profile in (".bashrc", ".profile"):
        assert (home / profile).read_text().count("# >>> codex-install >>>") == 1
    shell = login_shell(home, "codex --version")
    assert (shell.returncode, shell.stdout) == (0, "codex-cli 0.169.0\n"), shell.stderr
    # The line printed for this terminal runs as written.
    export = next(line for line in screen if line.startswith("Current terminal: "))
    here = login_shell(home, export.removeprefix("Current terminal: ") + " && codex --version")
    assert here.stdout == "codex-cli 0.169.0\n"
    again = Terminal(codex_install("install", "--no-login", "--target", TARGET), person(env))
    assert again.finish() == 0
    assert any("already set in" in line for line in again.lines()), again.lines()
    assert (home / ".bashrc").read_text().count("# >>> codex-install >>>") == 1


@pytest.mark.parametrize(
    ("extra", "args"),
    [
        ({"CI": "true"}, ()),
        ({"CODEX_INSTALL_NO_MODIFY_PATH": "1"}, ()),
        ({}, ("--no-modify-path",)),
    ],
    ids=["CI", "CODEX_INSTALL_NO_MODIFY_PATH", "--no-modify-path"],
)
def test_the_opt_outs_leave_every_profile_alone(env, server, home, extra, args):
    package_release("0.169.0").publish_github(server)
    term = Terminal(
        codex_install("install", "--no-login", "--target", TARGET, *args), {**person(env), **extra}
    )
    assert term.finish() == 0, term.raw
    assert not (home / ".bashrc").exists() and not (home / ".profile").exists()
    link = Path(env["CODEX_INSTALL_DIR"]) / "codex"
    assert any(f"run codex by its full path: {link}" in line for line in term.lines())


@pytest.mark.parametrize("columns", [40, 80, 200])
def test_the_progress_line_fits_and_ctrl_c_says_interrupted_on_its_own_line(
    env, server: FakeHTTPServer, columns
):
    rel = package_release("0.169.0")
    rel.publish_github(server)
    server.fault(f"/openai/codex/releases/download/{rel.tag}/codex-package-{TARGET}.tar.zst",
                 "trickle:10")  # fmt: skip
    term = Terminal(
        codex_install("install", "--no-login", "--target", TARGET), person(env), columns=columns
    )
    term.expect("codex-package")  # the progress line is drawn
    term.expect("MB/s")
    term.send("\x03")  # Ctrl-C, from the terminal
    assert term.finish() == 130, term.raw
    screen = [line for line in term.screen() if line]
    assert "codex-install: interrupted" in screen, screen
    assert all(len(line) <= columns for line in screen), screen
    bar = next(i for i, line in enumerate(screen) if "MB/s" in line)
    assert screen.index("codex-install: interrupted") > bar
    assert not (Path(env["CODEX_HOME"]) / "packages/standalone/current").exists(), term.raw


@pytest.mark.parametrize("columns", [40, 80, 200])
def test_list_and_ls_remote_are_tables_that_fit_the_terminal(env, server, columns):
    for version in ("0.168.0", "0.169.0"):
        package_release(version).publish_github(server, latest=version == "0.169.0")
        assert install(env, "--version", version).exit_code == 0
    server.add(
        "/repos/openai/codex/releases",
        json.dumps([
            {"tag_name": f"rust-v{v}", "draft": False, "published_at": "2026-11-30T10:00:00Z",
             "assets": [{"name": f"codex-package-{TARGET}.tar.zst", "size": 172_000_000}]}
            for v in ("0.172.0-alpha.1", "0.171.0", "0.169.0", "0.168.0")
        ]),
    )  # fmt: skip
    listing = Terminal(codex_install("list"), person(env), columns=columns)
    assert listing.finish() == 0
    lines = [line for line in listing.screen() if line]
    assert lines[0].startswith("VERSION") and lines[1].startswith("0.169.0")
    assert lines[1].endswith("current") and lines[2].startswith("0.168.0")
    assert all(len(line) < columns for line in lines), lines
    remote = Terminal(codex_install("ls-remote", "--target", TARGET), person(env), columns=columns)
    assert remote.finish() == 0
    rows = [line for line in remote.screen() if line]
    assert [r.split()[0] for r in rows] == ["VERSION", "0.171.0", "0.169.0", "0.168.0"]
    assert rows[2].endswith("current") and rows[3].endswith("installed")
    assert all(len(line) < columns for line in rows), rows
    if columns >= 80:
        assert "2026-11-30" in rows[1] and "172 MB" in rows[1] and "github" in rows[1]


def test_uninstall_of_everything_asks_on_a_terminal_and_says_what_it_removes(env, server, home):
    package_release("0.169.0").publish_github(server)
    assert install({**env, "SHELL": "/bin/bash", "PATH": "/usr/bin:/bin"},
                   "--modify-path").exit_code == 0  # fmt: skip
    link = Path(env["CODEX_INSTALL_DIR"]) / "codex"
    no = Terminal(codex_install("uninstall"), person(env))
    no.expect("Remove all of it? [y/N]")
    no.send("\n")
    assert no.finish() == 1
    screen = no.lines()
    assert f"  the codex link {link}" in screen
    assert f"  the PATH block in {home}/.bashrc" in screen
    assert "nothing removed" in screen and link.is_symlink()
    yes = Terminal(codex_install("uninstall"), person(env))
    yes.expect("[y/N]")
    yes.send("y\n")
    assert yes.finish() == 0
    assert not link.exists() and "codex-install" not in (home / ".bashrc").read_text()
    assert os.path.exists(env["CODEX_HOME"])  # CODEX_HOME itself (sessions, sign-in) stays
    package_release("0.169.0").publish_github(server)
    assert install(env).exit_code == 0
    quiet = Terminal(codex_install("uninstall", "-y"), person(env))
    assert quiet.finish() == 0 and "[y/N]" not in quiet.raw and not link.exists()

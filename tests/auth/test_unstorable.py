"""A refresh token is never spent when its answer cannot be stored (issue 21 item 3): with
auth.json immutable, CODEX_HOME immutable, auth.json a symlink into a read-only mount, or
CODEX_HOME 0555 for its (non-root) owner, every path that refreshes — codex-launch, `auth status
--refresh`, `auth serve` — answers from the snapshot as it is and the token endpoint sees no
request. Built with chattr, mount and setpriv: run as root, skipped elsewhere."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from codex_install.auth.store import unstorable
from servers.oauth import FakeTokenEndpoint

from .appserver import talk
from .conftest import auth_env, chatgpt_auth, write_auth

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("chattr") is None, reason="needs root and chattr"
)
CLI = [sys.executable, "-m", "codex_install"]
NOBODY = 65534


def run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False, **kw)  # type: ignore[call-overload]


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    if run(["chattr", "+i", str(path)]).returncode != 0:
        pytest.skip("this filesystem takes no immutable flag")
    try:
        yield
    finally:
        run(["chattr", "-i", str(path)])


@contextlib.contextmanager
def read_only_mount(tmp_path: Path, home: Path) -> Iterator[None]:
    """auth.json a symlink to a file on a read-only tmpfs."""
    mnt = tmp_path / "ro"
    mnt.mkdir()
    if run(["mount", "-t", "tmpfs", "tmpfs", str(mnt)]).returncode != 0:
        pytest.skip("cannot mount here")
    try:
        shutil.move(home / "auth.json", mnt / "auth.json")
        (home / "auth.json").symlink_to(mnt / "auth.json")
        assert run(["mount", "-o", "remount,ro", str(mnt)]).returncode == 0
        yield
    finally:
        run(["umount", "-l", str(mnt)])


@contextlib.contextmanager
def home_0555_for_nobody(home: Path) -> Iterator[None]:
    """CODEX_HOME and its files owned by an unprivileged uid, the dir 0555; the lock file is
    already there (a read-only CODEX_HOME used before), so only the write can fail."""
    (home / "codex-install-auth.lock").touch(mode=0o600)
    for path in (home, *home.iterdir()):
        os.chown(path, NOBODY, NOBODY)
    home.chmod(0o555)
    try:
        yield
    finally:
        home.chmod(0o755)


@pytest.fixture
def tmp_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A temp dir another uid can reach (pytest's own are 0700 under /tmp/pytest-of-root)."""
    base = Path(tempfile.mkdtemp(dir="/var/tmp", prefix="unstorable-"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


Setup = Callable[[Path, Path], contextlib.AbstractContextManager[None]]
CASES: dict[str, Setup] = {
    "auth.json immutable": lambda tmp, home: immutable(home / "auth.json"),
    "CODEX_HOME immutable": lambda tmp, home: immutable(home),
    "auth.json on a read-only mount": read_only_mount,
    "CODEX_HOME 0555": lambda tmp, home: home_0555_for_nobody(home),
}


def as_user(case: str, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    if case != "CODEX_HOME 0555":
        return [], env
    if shutil.which("setpriv") is None:
        pytest.skip("needs setpriv")
    prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]
    return prefix, {**env, "HOME": "/nonexistent"}


@pytest.mark.parametrize("case", CASES)
def test_no_refresh_token_is_spent_when_the_answer_cannot_be_stored(
    tmp_path: Path, home: Path, oauth: FakeTokenEndpoint, case: str
) -> None:
    data = chatgpt_auth(oauth.issue_refresh_token(), exp_in=60)  # stale: a refresh is due
    write_auth(home, data)
    before = json.loads((home / "auth.json").read_text())
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "codex").write_text("#!/bin/sh\necho codex ran\n")
    (bin_dir / "codex").chmod(0o755)
    with CASES[case](tmp_path, home):
        assert unstorable(home) is not None or case == "CODEX_HOME 0555"  # root may write there
        prefix, env = as_user(case, auth_env(home, oauth))
        env["PATH"] = f"{bin_dir}:/usr/bin:/bin"
        # The launcher: one warning line, codex started with the credentials as they are.
        launched = run(
            [*prefix, sys.executable, "-m", "codex_install.launcher", "exec", "hi"], env=env
        )
        assert launched.returncode == 0, launched.stderr
        assert launched.stdout == "codex ran\n"
        (line,) = launched.stderr.splitlines()
        assert line.startswith("codex-launch: warning: could not refresh the sign-in token")
        # `auth status --refresh`: the current snapshot's answer, its token handed out.
        status = run(
            [*prefix, *CLI, "auth", "status", "--json", "--include-token", "--refresh"], env=env
        )
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["authToken"] == data["tokens"]["access_token"]
        # `auth serve`, forced refresh included.
        session = talk(
            [*prefix, *CLI, "auth", "serve"],
            env,
            [
                {
                    "id": 1,
                    "method": "getAuthStatus",
                    "params": {"includeToken": True, "refreshToken": True},
                }
            ],
        )
        assert session.result(1)["authToken"] == data["tokens"]["access_token"]
        assert json.loads((home / "auth.json").read_text()) == before
    assert oauth.count == 0  # not one refresh token spent


def test_a_writable_home_is_storable(home: Path) -> None:
    write_auth(home, chatgpt_auth())
    assert unstorable(home) is None
    assert sorted(p.name for p in home.iterdir()) == ["auth.json", "config.toml"]  # no leftovers

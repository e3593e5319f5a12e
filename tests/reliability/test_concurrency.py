"""Installs and uninstalls racing each other serialise on install.lock (SPEC §5, §11)."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from builders import TARGET
from codex_install.paths import Paths

from .flaky_server import FlakyServer
from .helpers import (
    Mark,
    assert_consistent,
    assert_release_matches,
    leftovers,
    publish_github,
    read_marks,
    release,
    spawn_cli,
)

RATE = 4 << 20  # each download takes a noticeable while, so the processes really overlap
# (version asked for, version it means); "latest" resolves under the lock like any other.
REQUESTS = [
    ("0.169.0", "0.169.0"),
    ("0.168.0", "0.168.0"),
    ("0.169.0", "0.169.0"),
    ("latest", "0.169.0"),
    ("0.167.0", "0.167.0"),
    ("0.168.0", "0.168.0"),
]
# The fake codex sleeps in its smoke test only where RELIABILITY_SMOKE_SLEEP is set.
SCRIPT = '#!/bin/sh\nsleep "${{RELIABILITY_SMOKE_SLEEP:-0}}"\necho "codex-cli {v}"\n'
IN_LOCK = ("resolve", "download", "smoke", "promote", "swap", "link")


@dataclass(frozen=True)
class Setup:
    server: FlakyServer
    tars: dict[str, bytes]


@pytest.fixture(scope="module")
def setup() -> Iterator[Setup]:
    tars = {}
    with FlakyServer(rate=RATE) as server:
        for i, version in enumerate(("0.167.0", "0.168.0", "0.169.0")):
            script = SCRIPT.format(v=version).encode()
            rel, tar = release(version, blob_size=1 << 20, seed=i, script=script)
            publish_github(server.add, server.url, rel, latest=version == "0.169.0")
            tars[version] = tar
        yield Setup(server, tars)


def _paths(tmp_path: Path) -> Paths:
    return Paths(tmp_path / "codex-home", tmp_path / "bin", tmp_path / "cache")


def _install_args(version: str) -> list[str]:
    return ["install", "--no-login", "--target", TARGET, "--version", version, "--json"]


def _span(marks: list[Mark]) -> tuple[float, float] | None:
    """When a process held the lock doing real work: first to last in-lock phase mark."""
    times = [m.at for m in marks if m.phase in IN_LOCK]
    return (min(times), max(times)) if times else None


@pytest.mark.slow
def test_six_simultaneous_installs_all_succeed_one_at_a_time(setup, tmp_path):
    paths = _paths(tmp_path)
    procs = [
        spawn_cli(setup.server.url, paths, tmp_path / f"marks-{i}", *_install_args(asked))
        for i, (asked, _) in enumerate(REQUESTS)
    ]
    outs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0] * len(procs), [o[1].decode() for o in outs]
    results = [json.loads(out) for out, _ in outs]
    assert [r["version"] for r in results] == [want for _, want in REQUESTS]

    # Each version was downloaded exactly once; everyone after the first found it complete.
    for version in {want for _, want in REQUESTS}:
        fresh = [r for r in results if r["version"] == version and not r["reused"]]
        assert len(fresh) == 1, (version, results)

    # Serialised: no two processes were ever inside the lock at the same time.
    marks = [read_marks(tmp_path / f"marks-{i}") for i in range(len(procs))]
    spans = sorted(s for s in map(_span, marks) if s is not None)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end <= start, f"two installs overlapped inside the lock: {spans}"

    # Consistent: `current` is what the last lock holder swapped in; every release is whole.
    swaps = sorted((m.at, i) for i, ms in enumerate(marks) for m in ms if m.phase == "swap")
    last = REQUESTS[swaps[-1][1]][1]
    assert assert_consistent(paths, setup.tars) == last
    for version, tar in setup.tars.items():
        assert_release_matches(paths, version, tar)
    assert leftovers(paths) == []


@pytest.mark.slow
def test_uninstall_waits_for_a_running_install(setup, tmp_path):
    paths = _paths(tmp_path)
    # The install holds the lock for at least its 1.5 s smoke test: time for the uninstall
    # process to start and block.
    install = spawn_cli(
        setup.server.url,
        paths,
        tmp_path / "marks-install",
        *_install_args("0.169.0"),
        RELIABILITY_SMOKE_SLEEP="1.5",
    )
    deadline = time.monotonic() + 60
    while not any(m.phase == "smoke" for m in read_marks(tmp_path / "marks-install")):
        assert install.poll() is None and time.monotonic() < deadline, "no smoke test started"
        time.sleep(0.002)
    uninstall = spawn_cli(setup.server.url, paths, tmp_path / "marks-uninstall", "uninstall")
    i_out = install.communicate(timeout=120)
    u_out = uninstall.communicate(timeout=120)
    assert install.returncode == 0, i_out[1].decode()
    assert uninstall.returncode == 0, u_out[1].decode()

    # The uninstall started while the install held the lock and finished only after it.
    install_marks = read_marks(tmp_path / "marks-install")
    uninstall_marks = read_marks(tmp_path / "marks-uninstall")
    link = next(m.at for m in install_marks if m.phase == "link")
    started = next(m.at for m in uninstall_marks if m.phase == "start")
    finished = next(m.at for m in uninstall_marks if m.phase == "done")
    assert started < link < finished
    # ...and then removed a complete install, not half of one.
    assert "removed" in u_out[0].decode() + u_out[1].decode()
    assert not paths.current.exists() and not paths.current.is_symlink()
    assert not paths.bin_link.is_symlink()
    assert not paths.releases.exists()

"""SIGKILL an install at any moment: ``codex`` still runs the previous or the new version,
``current`` names a complete release, and the next install sweeps what the dead one left."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from builders import TARGET
from codex_install.paths import Paths

from . import install_child
from .flaky_server import FlakyServer
from .helpers import (
    assert_consistent,
    assert_release_matches,
    current_version,
    install_inprocess,
    leftovers,
    publish_github,
    publish_mirror,
    read_marks,
    release,
    run_codex,
    spawn_cli,
)

OLD, NEW = "0.168.0", "0.169.0"
PHASES = ("resolve", "download", "smoke", "promote", "swap")  # where kills are aimed
ORDER = ("start", *PHASES, "link", "done")
KILL_TRIALS = 30
# bytes/s: the 3 MiB archive takes ~0.4 s to arrive; extraction streams alongside it (zstd
# hands the untar thread 1 MiB at a time, so files appear after the first MiB).
RATE = 8 << 20
WIDEN = 0.1
SMOKE_SLEEP = "0.25"
# The fake codex sleeps in its smoke test only inside the killed child (the env var is set there).
SCRIPT = '#!/bin/sh\nsleep "${{RELIABILITY_SMOKE_SLEEP:-0}}"\necho "codex-cli {v}"\n'


@dataclass(frozen=True)
class Setup:
    server: FlakyServer
    tars: dict[str, bytes]


@pytest.fixture(scope="module")
def setup() -> Iterator[Setup]:
    tars = {}
    with FlakyServer() as server:
        for i, version in enumerate((OLD, NEW)):
            rel, tar = release(
                version, blob_size=3 << 20, seed=i, script=SCRIPT.format(v=version).encode()
            )
            publish_github(server.add, server.url, rel, latest=version == NEW)
            tars[version] = tar
        yield Setup(server, tars)


def _paths(root: Path) -> Paths:
    return Paths(root / "codex-home", root / "bin", root / "cache")


def _spawn(server: FlakyServer, paths: Paths, marks: Path, **extra: str) -> subprocess.Popen[bytes]:
    return spawn_cli(
        server.url,
        paths,
        marks,
        "install",
        "--no-login",
        "--target",
        TARGET,
        "--version",
        NEW,
        "--json",
        **extra,
    )


def _marks(path: Path) -> list[tuple[str, float]]:
    return [(m.phase, m.since_start) for m in read_marks(path)]


def _staging_files(paths: Paths) -> int:
    if not paths.releases.is_dir():
        return 0
    return sum(
        len(files)
        for staging in paths.releases.glob(".staging-*")
        for _, _, files in os.walk(staging)
    )


def _check_after_death(paths: Paths, tars: dict[str, bytes], reached: list[str]) -> str:
    """The invariants of SPEC §5 for an install that died after reaching ``reached`` phases."""
    version = assert_consistent(paths, tars)  # current complete + bytes exact + codex runs it
    if "swap" not in reached:
        assert version == OLD, f"current moved to {version} before the swap"
    if "link" in reached:
        assert version == NEW, "current not swapped although the swap finished"
    new_dir = paths.release_dir(NEW, TARGET)
    if new_dir.exists():
        assert "promote" in reached, "a release dir appeared before promote"
        assert_release_matches(paths, NEW, tars[NEW])  # only ever appears complete
    return version


def _recover(
    server: FlakyServer, paths: Paths, tars: dict[str, bytes], source: str = "github"
) -> None:
    """The next install cleans leftovers and completes."""
    assert install_inprocess(server.url, paths, NEW, source=source) == 0
    assert leftovers(paths) == []
    assert assert_consistent(paths, tars) == NEW


def _calibrate(setup: Setup, root: Path) -> dict[str, float]:
    """Run one install to the end; how long each phase lasts decides where kills can land."""
    paths = _paths(root)
    setup.server.rate = None
    assert install_inprocess(setup.server.url, paths, OLD) == 0
    setup.server.rate = RATE
    marks = root / "marks"
    proc = _spawn(
        setup.server,
        paths,
        marks,
        RELIABILITY_WIDEN=str(WIDEN),
        RELIABILITY_SMOKE_SLEEP=SMOKE_SLEEP,
    )
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    times = dict(_marks(marks))
    assert [name for name, _ in _marks(marks)] == list(ORDER), _marks(marks)
    return {p: times[ORDER[ORDER.index(p) + 1]] - times[p] for p in PHASES}


@pytest.mark.slow
def test_sigkill_at_any_moment_keeps_a_working_codex(setup, tmp_path):
    durations = _calibrate(setup, tmp_path / "calibration")
    rng = random.Random(8)
    hit: dict[str, int] = {}
    staged_at_kill = 0
    for trial in range(KILL_TRIALS):
        aim = PHASES[trial % len(PHASES)]
        delay = rng.uniform(0, durations[aim])
        root = tmp_path / f"trial-{trial}"
        paths = _paths(root)
        setup.server.rate = None
        assert install_inprocess(setup.server.url, paths, OLD) == 0

        setup.server.rate = RATE
        marks = root / "marks"
        proc = _spawn(
            setup.server,
            paths,
            marks,
            RELIABILITY_WIDEN=str(WIDEN),
            RELIABILITY_SMOKE_SLEEP=SMOKE_SLEEP,
        )
        deadline = time.monotonic() + 60
        while aim not in dict(_marks(marks)) and proc.poll() is None:
            assert time.monotonic() < deadline, f"trial {trial}: {aim} never started"
            time.sleep(0.001)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        reached = [name for name, _ in _marks(marks)]
        landed = reached[-1]
        hit[landed] = hit.get(landed, 0) + 1
        if landed == "download":
            staged_at_kill += _staging_files(paths)
        where = f"trial {trial}: aimed at {aim} +{delay:.3f}s, died in {landed} ({reached})"

        setup.server.rate = None
        try:
            _check_after_death(paths, setup.tars, reached)
            _recover(setup.server, paths, setup.tars)
        except AssertionError as err:
            raise AssertionError(f"{where}: {err}") from err

    # Every phase the issue names was really interrupted (download and extraction overlap: the
    # staging dir held extracted files when the download was cut).
    assert {"download", "smoke", "promote", "swap"} <= set(hit), hit
    assert staged_at_kill > 0, (hit, durations)
    print(
        f"kill trials: {KILL_TRIALS}; died in: {hit}; files extracted at download kills: "
        f"{staged_at_kill}; phase durations: "
        + ", ".join(f"{p} {d:.2f}s" for p, d in durations.items())
    )


@pytest.fixture(scope="module")
def small() -> Iterator[Setup]:
    tars = {}
    with FlakyServer() as server:
        for i, version in enumerate((OLD, NEW)):
            rel, tar = release(version, seed=i)
            publish_mirror(server.add, rel)
            tars[version] = tar
        yield Setup(server, tars)


def _die_at(crash_at: int, setup: Setup, paths: Paths, marks: Path, force: bool) -> int:
    """Fork; the child installs NEW in-process and dies before its ``crash_at``-th filesystem
    mutation. Returns the child's exit status (137 = died as planned, 0 = got through)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns into pytest
        code = 99
        try:
            paths.codex_home.parent.mkdir(parents=True, exist_ok=True)
            root = str(paths.codex_home.parent)
            install_child.instrument(str(marks), crash_at=crash_at, root=root)
            # The mirror source: only httpx with trust_env=False in a forked child (requests'
            # system-proxy lookup is not fork-safe on macOS).
            code = install_inprocess(setup.server.url, paths, NEW, source="mirror", force=force)
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.mark.parametrize(
    ("before", "force"),
    [(OLD, False), (None, False), (NEW, True)],
    ids=["upgrade", "first-install", "force-reinstall"],
)
@pytest.mark.slow
def test_death_before_each_filesystem_step_keeps_a_working_codex(small, tmp_path, before, force):
    """Deterministic complement to the random kills: the installer dies (``os._exit``: no
    cleanup, no ``finally``) just before its 1st, 2nd, ... N-th write, mkdir, rename, symlink or
    unlink, until one run gets through. Every one of those states must satisfy the invariants."""
    crash_at = 0
    while True:
        crash_at += 1
        root = tmp_path / f"crash-{crash_at}"
        paths = _paths(root)
        if before:
            assert install_inprocess(small.server.url, paths, before, source="mirror") == 0
        marks = root / "marks"
        code = _die_at(crash_at, small, paths, marks, force)
        reached = [name for name, _ in _marks(marks)]
        if code == 0:
            break
        where = f"died before mutation {crash_at} ({reached})"
        assert code == 137, f"{where}: exit {code}"
        try:
            if before == NEW:  # reinstalling what runs: it must keep running, at every step
                assert assert_consistent(paths, small.tars) == NEW
            elif before:
                _check_after_death(paths, small.tars, reached)
            else:  # nothing to keep working: whatever is visible must be complete
                version = current_version(paths)
                if version is not None:
                    assert_release_matches(paths, version, small.tars[version])
                if paths.bin_link.is_symlink():
                    assert run_codex(paths) == f"codex-cli {version}"
            _recover(small.server, paths, small.tars, source="mirror")
        except AssertionError as e:
            raise AssertionError(f"{where}: {e}") from e
    assert crash_at > 10, "the child never reached the interesting steps"
    print(f"crash points (before={before}, force={force}): {crash_at - 1}")

"""Installs against a server that misbehaves at random (seeded): every trial ends installed and
verified, or fails with exit 4/5 and the previous install untouched — never a corrupted install."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from builders import TARGET
from codex_install.paths import Paths

from .flaky_server import ACTIONS, FLAKY, TRANSIENT, FaultPlan, FlakyServer
from .helpers import (
    assert_consistent,
    install_inprocess,
    leftovers,
    publish_github,
    publish_mirror,
    release,
    snapshot,
)

TRIALS = 30
TIMEOUT = 0.75  # client timeout; FLAKY stalls reach past it so timeouts are part of the mix
NO_FAULTS = FaultPlan()


@dataclass(frozen=True)
class Published:
    server: FlakyServer
    tars: dict[str, bytes]


@pytest.fixture(scope="module")
def published() -> Iterator[Published]:
    tars = {}
    with FlakyServer() as server:
        for version in ("0.168.0", "0.169.0"):
            rel, tar = release(version, blob_size=384 << 10, seed=len(tars))
            publish_github(server.add, server.url, rel, latest=version == "0.169.0")
            publish_mirror(server.add, rel)
            tars[version] = tar
        yield Published(server, tars)


def _install(server: FlakyServer, paths: Paths, version: str, source: str, force: bool) -> int:
    return install_inprocess(
        server.url, paths, version, source=source, force=force, timeout=TIMEOUT
    )


@pytest.mark.slow
def test_flaky_server_never_leaves_a_corrupted_install(published, tmp_path):
    server = published.server
    outcomes: Counter[int] = Counter()
    injected: Counter[str] = Counter()
    for seed in range(TRIALS):
        # Three shapes of trial: upgrade from GitHub, upgrade from a mirror, forced reinstall
        # of the installed version (the old copy of the *same* release must survive a failure).
        source = "mirror" if seed % 3 == 1 else "github"
        before, after = ("0.169.0", "0.169.0") if seed % 3 == 2 else ("0.168.0", "0.169.0")
        root = tmp_path / f"trial-{seed}"
        paths = Paths(root / "codex-home", root / "bin", root / "cache")

        server.reseed(seed, NO_FAULTS)
        assert _install(server, paths, before, source, force=False) == 0
        old = snapshot(paths.release_dir(before, TARGET))

        server.reseed(seed, FLAKY)
        code = _install(server, paths, after, source, force=True)
        served = list(server.log)
        injected.update(s.action for s in served)
        outcomes[code] += 1
        where = f"trial {seed} ({source}, {before}->{after}) exit {code}; served {served}"

        assert code in (0, 4, 5), where
        assert leftovers(paths) == [], where
        if code == 0:
            assert assert_consistent(paths, published.tars) == after, where
        else:
            assert assert_consistent(paths, published.tars) == before, where
            assert snapshot(paths.release_dir(before, TARGET)) == old, where
            if before != after:
                assert not paths.release_dir(after, TARGET).exists(), where

    # The suite proves something only if the faults really happened and both endings occurred.
    assert set(injected) == set(ACTIONS), injected
    assert outcomes[0] >= TRIALS // 3, outcomes
    assert outcomes[4] + outcomes[5] >= 1, outcomes
    print(f"flaky-server trials: {dict(outcomes)}; actions served: {dict(injected)}")


@pytest.mark.slow
def test_transient_faults_alone_never_fail_an_install(published, tmp_path):
    """Drops, stalls past the timeout, 5xx and 429 — at most two in a row per URL — are what
    retries and Range resume exist for: with them alone every install must succeed, on the
    metadata request as much as on the archive."""
    server = published.server
    injected: Counter[str] = Counter()
    for seed in range(TRIALS // 2):
        source = "mirror" if seed % 2 else "github"
        root = tmp_path / f"trial-{seed}"
        paths = Paths(root / "codex-home", root / "bin", root / "cache")
        server.reseed(1000 + seed, TRANSIENT)
        code = _install(server, paths, "0.169.0", source, force=False)
        served = list(server.log)
        injected.update(s.action for s in served)
        assert code == 0, f"trial {seed} ({source}) exit {code}; served {served}"
        assert assert_consistent(paths, published.tars) == "0.169.0"
        assert leftovers(paths) == []
    assert set(injected) == set(TRANSIENT.weights), injected

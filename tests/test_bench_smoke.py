"""The bench scripts still run (with a tiny release and one run each); the benchmarks
themselves are not part of the test run (bench/README.md)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
TOOLS = ("curl", "sha256sum", "tar", "zstd", "sh")


def run(*argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, timeout=timeout, check=False
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    return proc


def test_make_release_builds_a_runnable_release(tmp_path: Path) -> None:
    out = tmp_path / "release"
    run(str(BENCH / "make_release.py"), "--size-mb", "1", "--zstd-level", "1", "--out", str(out))
    meta = json.loads((out / "meta.json").read_text())
    names = {a["name"] for a in json.loads((out / "release.json").read_text())["assets"]}
    gz_only = {a["name"] for a in json.loads((out / "release-gz.json").read_text())["assets"]}
    assert set(meta["archives"]) == {"tar.gz", "tar.zst"}
    assert meta["archives"]["tar.zst"]["name"] in names - gz_only
    sums = (out / "codex-package_SHA256SUMS").read_text()
    assert meta["archives"]["tar.gz"]["sha256"] in sums


@pytest.mark.skipif(
    any(shutil.which(t) is None for t in TOOLS), reason=f"the baselines need {', '.join(TOOLS)}"
)
@pytest.mark.slow
def test_run_smoke_measures_every_case(tmp_path: Path) -> None:
    no_script = str(tmp_path / "no-install.sh")  # Codex's install.sh is not vendored
    run(
        str(BENCH / "run.py"),
        "--smoke",
        "--work",
        str(tmp_path),
        "--install-sh",
        no_script,
        timeout=120,
    )
    results = json.loads((tmp_path / "results-smoke.json").read_text())
    cases = ("shell_gz", "ours_gz", "ours_zst", "shell_zst", "noop", "noop_latest", "version")
    for case in (*cases, "help", "floor_inflate_zlib", "floor_zstd_decode", "floor_sha256"):
        assert results["series"][case]["runs"], case
    assert set(results["holds"]) == {
        "install_gz_ratio",
        "install_gz_vs_floor",
        "install_zst_ratio",
        "install_zst_vs_floor",
        "install_zst_vs_pipe_zst",
        "noop_latest_vs_noop",
        "noop_s",
        "version_ratio",
        "peak_rss_mb",
        "launch_overhead_ms",
    }
    assert results["values"]["peak_rss_mb"] > 0


@pytest.mark.slow
def test_bench_launch_runs() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH / "bench_launch.py"), "--runs", "20", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]  # 1: over its target, still measured
    assert "overhead_ms" in json.loads(proc.stdout)["version"]


@pytest.mark.skipif(
    any(shutil.which(t) is None for t in ("gzip", "zstd", "tar")),
    reason="the extraction baselines need gzip, zstd and tar",
)
def test_bench_extract_runs() -> None:
    proc = run(str(BENCH / "bench_extract.py"), "--size-mb", "1", "--runs", "1", timeout=120)
    assert "tar.gz" in proc.stdout and "tar.zst" in proc.stdout


@pytest.mark.skipif(
    shutil.which("docker-registry") is None, reason="needs docker-registry (bash .ci/run)"
)
@pytest.mark.slow
def test_oci_bench_smoke_syncs_twice_and_installs_from_both(tmp_path: Path) -> None:
    proc = run(str(BENCH / "bench_oci.py"), "--smoke", "--work", str(tmp_path), timeout=300)
    results = json.loads((tmp_path / "oci-results-latest.json").read_text())
    assert results["blobs_second_sync"] == 0, proc.stdout
    assert results["blobs_first_sync"] >= 3
    assert set(results["single"]) == set(results["concurrent"]) == {"static", "registry"}


def test_entry_bench_splits_a_run_at_its_marks_in_time_order() -> None:
    """bench/bench_entry.py needs PyPI and the npm registry, so only its bookkeeping runs here:
    each phase lasts from its mark to the next one in time, whatever order they are named in."""
    sys.path.insert(0, str(BENCH))
    try:
        import bench_entry
    finally:
        sys.path.remove(str(BENCH))
    pip = bench_entry.Run(
        10.0, {"venv": 0.5, "shared_libs": 0.6, "deps": 3.0, "first_line": 6.0}, 1.0
    )
    uv = bench_entry.Run(4.0, {"venv": 0.2, "deps": 0.3, "exec": 1.0, "first_line": 1.5}, 1.0)
    assert bench_entry.phases(bench_entry.Case([pip])) == {
        "start": 0.5,
        "venv": 0.1,
        "shared_libs": 2.4,
        "deps": 3.0,
        "first_line": 4.0,
    }
    assert bench_entry.phases(bench_entry.Case([uv])) == {
        "start": 0.2,
        "venv": 0.1,
        "deps": 0.7,
        "exec": 0.5,
        "first_line": 2.5,
    }
    assert [
        m for m in bench_entry.MARKS if bench_entry.MARKS[m].search("downloading codex-0.1.0-x.tgz")
    ] == ["first_line"]

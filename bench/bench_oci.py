"""A registry against a static mirror of the same bytes (issue 24): ``mirror sync`` into a
static tree (served by ``serve.py --static``) and into Debian's ``docker-registry`` on
127.0.0.1, a second sync (blobs uploaded: must be 0), then installs of the same release from
each, interleaved round by round: one at a time, and 8 at once (each process's own wall time).

    python bench/bench_oci.py [--size-mb 300] [--rounds 5] [--concurrent-rounds 3] [--smoke]

Needs ``docker-registry`` (``apt-get install docker-registry``). Prints a table; writes
``bench/.work/oci-results-latest.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "tests"))

import make_release  # noqa: E402
from run import child_env, installer_argv, must, run_timed, serving  # noqa: E402

from servers.registry import registry  # noqa: E402

WORK = BENCH / ".work"


def base_env(root: Path, api: str) -> dict[str, str]:
    return child_env(
        {
            "HOME": str(root / "home"),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "GITHUB_API_URL": api,
            "CODEX_INSTALL_CACHE_DIR": str(root / "cache"),
            "CODEX_NON_INTERACTIVE": "1",
            "NO_PROXY": "127.0.0.1,localhost",
        }
    )


def sync(
    meta: dict[str, Any], api: str, output: str, scratch: Path
) -> tuple[float, dict[str, Any]]:
    argv = [*installer_argv(), "mirror", "sync", "--version", meta["version"], "--repo",
            "bench/codex", "--target", meta["target"], "--output", output, "--json"]  # fmt: skip
    sample, out = must(run_timed(argv, env=base_env(scratch, api)), f"mirror sync {output}")
    return sample.seconds, json.loads(out)


def install_argv(meta: dict[str, Any], mirror: str, root: Path) -> list[str]:
    return [*installer_argv(), "install", "--version", meta["version"], "--target",
            meta["target"], "--mirror", mirror, "--codex-home", str(root / "home/.codex"),
            "--bin-dir", str(root / "bin"), "--no-login", "--json"]  # fmt: skip


def fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def one(meta: dict[str, Any], mirror: str, scratch: Path) -> float:
    root = fresh(scratch / "one")
    os.sync()
    sample, out = must(
        run_timed(install_argv(meta, mirror, root), env=base_env(root, "http://127.0.0.1:9")),
        f"install from {mirror}",
    )
    assert json.loads(out)["sha256"] == meta["archives"]["tar.zst"]["sha256"]
    return sample.seconds


def many(meta: dict[str, Any], mirror: str, scratch: Path, count: int) -> list[float]:
    """``count`` installs started together, each into its own CODEX_HOME: each one's time."""
    roots = [fresh(scratch / f"many-{i}") for i in range(count)]
    os.sync()
    procs = []
    for root in roots:
        env = base_env(root, "http://127.0.0.1:9")
        argv = install_argv(meta, mirror, root)
        started = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
        procs.append((proc, started))
    times = []
    for proc, started in procs:
        _, err = proc.communicate(timeout=900)
        if proc.returncode != 0:
            raise SystemExit(f"bench: concurrent install failed: {err.decode()[-600:]}")
        times.append(time.perf_counter() - started)
    return times


def summary(values: list[float]) -> dict[str, Any]:
    return {
        "median_s": round(statistics.median(values), 3),
        "min_s": round(min(values), 3),
        "max_s": round(max(values), 3),
        "runs": [round(v, 3) for v in values],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrent-rounds", type=int, default=3)
    parser.add_argument("--concurrent", type=int, default=8)
    parser.add_argument("--smoke", action="store_true", help="1 MB release, one round of each")
    parser.add_argument("--work", type=Path, default=WORK)
    args = parser.parse_args()
    if args.smoke:
        args.size_mb, args.rounds, args.concurrent_rounds, args.concurrent = 1, 1, 1, 2
    release = make_release.build(
        args.size_mb,
        zstd_level=1 if args.smoke else make_release.ZSTD_LEVEL,
        out=args.work / "oci-smoke-release" if args.smoke else None,
    )
    meta = json.loads((release / "meta.json").read_text())
    args.work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.work, prefix="oci-") as tmp:
        scratch = Path(tmp)
        with serving(release) as api, registry(scratch / "registry") as reg:
            tree = scratch / "tree"
            results: dict[str, Any] = {
                "size_mb": args.size_mb,
                "archive_bytes": meta["archives"]["tar.zst"]["size"],
            }
            results["sync_static_s"], _ = sync(meta, api, str(tree), scratch / "s1")
            results["sync_oci_s"], first = sync(meta, api, reg.oci(), scratch / "s2")
            results["resync_oci_s"], second = sync(meta, api, reg.oci(), scratch / "s3")
            results["blobs_first_sync"] = first["blobs_uploaded"]
            results["blobs_second_sync"] = second["blobs_uploaded"]
            with serving(tree, "--static") as static:
                sources = {"static": static + "/", "registry": reg.oci()}
                singles: dict[str, list[float]] = {k: [] for k in sources}
                crowds: dict[str, list[float]] = {k: [] for k in sources}
                order = list(sources)
                for n in range(args.rounds):
                    for name in order if n % 2 == 0 else order[::-1]:
                        singles[name].append(one(meta, sources[name], scratch))
                for n in range(args.concurrent_rounds):
                    for name in order if n % 2 == 0 else order[::-1]:
                        crowds[name] += many(meta, sources[name], scratch, args.concurrent)
        results["single"] = {k: summary(v) for k, v in singles.items()}
        results["concurrent"] = {k: summary(v) for k, v in crowds.items()}
        results["ratio_single"] = round(
            results["single"]["registry"]["median_s"] / results["single"]["static"]["median_s"], 3
        )
        results["ratio_concurrent"] = round(
            results["concurrent"]["registry"]["median_s"]
            / results["concurrent"]["static"]["median_s"],
            3,
        )
    (args.work / "oci-results-latest.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`codex-launch` overhead: the launcher in front of codex vs running codex directly (SPEC §11).

Sets up a throwaway CODEX_HOME with codex installed in the standalone layout (a tiny shell
stand-in by default, or a real binary given with --codex) and an API-key auth.json, then times,
interleaved so that machine noise hits both sides alike:

  * ``codex-launch --version`` vs ``codex --version`` (passthrough: no credential check), and
  * ``codex-launch hello`` vs ``codex hello`` (the hot path: read auth.json, then exec), and
  * ``python -c pass`` vs ``codex --version``: the floor that interpreter start-up alone costs.

Each run is a fresh process, timed from spawn to exit. Prints medians and the overhead (launcher
median minus direct median); the target is <= 40 ms on the ``--version`` median.

    python bench/bench_launch.py [--runs 30] [--codex /path/to/real/codex] [--json]
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

TARGET_MS = 40.0
FAKE_CODEX = """#!/bin/sh
if [ "$1" = "--version" ]; then echo "codex-cli 0.169.0"; else echo "codex ran: $*"; fi
"""


def launcher_argv() -> list[str]:
    """The installed console script when there is one (what users run), else the module."""
    script = Path(sys.executable).with_name("codex-launch")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "codex_install.launcher"]


def set_up(root: Path, real_codex: Path | None) -> tuple[dict[str, str], Path]:
    home = root / "home"
    codex_home = home / ".codex"
    release = codex_home / "packages" / "standalone" / "releases" / "0.169.0-bench"
    (release / "bin").mkdir(parents=True)
    codex = release / "bin" / "codex"
    if real_codex is None:
        codex.write_text(FAKE_CODEX)
        codex.chmod(0o755)
    else:
        codex.symlink_to(real_codex.resolve())
    current = codex_home / "packages" / "standalone" / "current"
    current.symlink_to(release.relative_to(current.parent))
    bin_dir = home / ".local" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "codex").symlink_to(current / "bin" / "codex")
    auth = codex_home / "auth.json"
    auth.write_text(json.dumps({"auth_mode": "apikey", "OPENAI_API_KEY": "sk-bench-0000"}))
    auth.chmod(0o600)
    env = {
        "HOME": str(home),
        "CODEX_HOME": str(codex_home),
        "CODEX_INSTALL_DIR": str(bin_dir),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
    }
    return env, bin_dir / "codex"


def time_once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True)
    elapsed = (time.perf_counter() - start) * 1000
    if proc.returncode != 0:
        raise SystemExit(f"{argv} failed ({proc.returncode}): {proc.stderr.decode()[-400:]}")
    return elapsed


def compare(
    launch: list[str], direct: list[str], env: dict[str, str], runs: int
) -> dict[str, float]:
    for _ in range(3):  # warm the page cache and .pyc files for both sides
        time_once(launch, env)
        time_once(direct, env)
    launched: list[float] = []
    straight: list[float] = []
    for i in range(runs):
        pair = [(launch, launched), (direct, straight)]
        for argv, sink in pair if i % 2 == 0 else reversed(pair):
            sink.append(time_once(argv, env))
    launch_ms = statistics.median(launched)
    direct_ms = statistics.median(straight)
    return {
        "runs": runs,
        "launcher_median_ms": round(launch_ms, 2),
        "direct_median_ms": round(direct_ms, 2),
        "overhead_ms": round(launch_ms - direct_ms, 2),
        "launcher_p90_ms": round(statistics.quantiles(launched, n=10)[-1], 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="runs per side (>= 20)")
    parser.add_argument("--codex", type=Path, help="a real codex binary to put behind the launcher")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if args.runs < 20:
        parser.error("--runs must be at least 20")
    with tempfile.TemporaryDirectory(prefix="bench-launch-") as tmp:
        env, codex = set_up(Path(tmp), args.codex)
        launch = launcher_argv()
        results = {
            "launcher": " ".join(launch),
            "codex": "fake (sh)" if args.codex is None else str(args.codex),
            "version": compare([*launch, "--version"], [str(codex), "--version"], env, args.runs),
            "hot_path": compare([*launch, "hello"], [str(codex), "hello"], env, args.runs),
            # How much of the overhead is the interpreter starting at all (not our code).
            "python_start": compare(
                [sys.executable, "-c", "pass"], [str(codex), "--version"], env, args.runs
            ),
        }
    results["target_ms"] = TARGET_MS
    results["within_target"] = results["version"]["overhead_ms"] <= TARGET_MS
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"launcher: {results['launcher']}  codex: {results['codex']}")
        for name in ("version", "hot_path", "python_start"):
            r = results[name]
            print(
                f"{name:12} launcher {r['launcher_median_ms']:7.2f} ms  direct "
                f"{r['direct_median_ms']:7.2f} ms  overhead {r['overhead_ms']:6.2f} ms  "
                f"(median of {r['runs']}; launcher p90 {r['launcher_p90_ms']:.2f} ms)"
            )
        verdict = "within" if results["within_target"] else "OVER"
        print(f"target: overhead <= {TARGET_MS:.0f} ms on --version: {verdict}")
    return 0 if results["within_target"] else 1


if __name__ == "__main__":
    if shutil.which("sh") is None:
        sys.exit("bench needs /bin/sh")
    sys.exit(main())

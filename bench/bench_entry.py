"""The entry points users are told to use, from a fresh machine (issue 25): ``uvx --from WHEEL``
and ``pipx run --spec WHEEL`` (uv backend, pipx's default when uv is there, and pip backend)
each to a working ``codex`` — the real package from the npm registry — against
``npm i -g --prefix DIR @openai/codex``, interleaved round by round (the order rotates), every
run with fresh caches, a fresh HOME and a fresh prefix, ``sync`` before each.

Every case ends when ``codex --version`` has answered from what it installed. Also recorded: when
codex-install's first line (``downloading …``) appeared, and for pipx where the time went (its
verbose log, timestamped line by line: shared libraries, the app's venv, installing our
dependencies, our own run). The load average is recorded with every run (a shared machine).

Needs the network (PyPI, the npm registry), ``npm``, and ``uvx``/``pipx`` next to this Python
or on PATH (``pip install uv pipx`` into a bench venv). Never run in CI.

    python bench/bench_entry.py --wheel dist/codex_install-0.1.0-py3-none-any.whl [--runs 5]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
WORK = BENCH / ".work"

# Lines (from the merged stdout+stderr) that mark where a run is, first occurrence each.
MARKS = {
    "shared_libs": re.compile(r"creating shared libraries"),
    "venv": re.compile(r"creating virtual environment"),
    "deps": re.compile(r"installing codex-install from spec"),
    "exec": re.compile(r"exec_app: "),
    "first_line": re.compile(r"^downloading codex-"),
}
# pipx's phases, each from one mark to the next one in time (absent marks are skipped).
PHASES = ("shared_libs", "venv", "deps", "exec", "first_line")


@dataclass
class Run:
    seconds: float
    marks: dict[str, float]
    load: float


@dataclass
class Case:
    runs: list[Run] = field(default_factory=list)

    def median(self, key: str = "end") -> float:
        if key == "end":
            values = [r.seconds for r in self.runs]
        else:
            values = [r.marks[key] for r in self.runs if key in r.marks]
        return statistics.median(values) if values else float("nan")


def tool(name: str) -> str:
    local = Path(sys.executable).with_name(name)
    found = str(local) if local.exists() else shutil.which(name)
    if found is None:
        raise SystemExit(f"bench: {name} is not next to {sys.executable} nor on PATH")
    return found


def clean_env(root: Path, registry: str) -> dict[str, str]:
    """This machine's environment (its CA bundle, its proxies) with every cache and home in
    ``root``; pip's local wheel directories and config files off, as on a fresh machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "PIPX_"))}
    if os.environ.get("PIP_CERT"):
        env["PIP_CERT"] = os.environ["PIP_CERT"]
    home = root / "home"
    home.mkdir(parents=True)
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(root / "xdg-cache"),
        XDG_DATA_HOME=str(root / "xdg-data"),
        XDG_CONFIG_HOME=str(root / "xdg-config"),
        PIP_CONFIG_FILE=os.devnull,
        UV_CACHE_DIR=str(root / "uv-cache"),
        UV_TOOL_DIR=str(root / "uv-tools"),
        PIPX_HOME=str(root / "pipx"),
        PIPX_BIN_DIR=str(root / "pipx-bin"),
        npm_config_cache=str(root / "npm-cache"),
        NPM_CONFIG_REGISTRY=registry,
        CODEX_NON_INTERACTIVE="1",
        LANG="C.UTF-8",
    )
    return env


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, dict[str, float]]:
    """Spawn-to-exit seconds, and when each mark's line arrived (seconds after spawn)."""
    marks: dict[str, float] = {}
    tail: list[str] = []
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        now = time.perf_counter() - start
        for name, pattern in MARKS.items():
            if name not in marks and pattern.search(line):
                marks[name] = now
        tail = [*tail[-20:], line]
    code = proc.wait(timeout=600)
    elapsed = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"bench: {argv[0]} exited {code}:\n{''.join(tail)}")
    return elapsed, marks


def working_codex(codex: Path, env: dict[str, str]) -> None:
    out = subprocess.run(
        [str(codex), "--version"], env=env, capture_output=True, text=True, timeout=60
    )
    if out.returncode != 0 or not out.stdout.startswith("codex-cli "):
        raise SystemExit(f"bench: {codex} --version: {out.stdout}{out.stderr}")


class Bench:
    def __init__(self, wheel: Path, scratch: Path, registry: str) -> None:
        self.wheel = wheel
        self.scratch = scratch
        self.registry = registry
        self.cases: dict[str, Case] = {}
        self.uvx, self.pipx, self.npm = tool("uvx"), tool("pipx"), shutil.which("npm") or "npm"

    def _run(
        self, name: str, argv: Callable[[Path], list[str]], codex: Callable[[Path], Path]
    ) -> None:
        root = self.scratch / name
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        env = clean_env(root, self.registry)
        os.sync()
        load = os.getloadavg()[0]
        start = time.perf_counter()
        _, marks = timed(argv(root), env, root)
        working_codex(codex(root), env)
        seconds = time.perf_counter() - start
        self.cases.setdefault(name, Case()).runs.append(Run(seconds, marks, load))
        shutil.rmtree(root, ignore_errors=True)

    def ours(self, root: Path) -> list[str]:
        return [
            "codex-install",
            "install",
            "--source",
            "npm",
            "--no-login",
            "--bin-dir",
            str(root / "bin"),
        ]

    def uvx_case(self) -> None:
        self._run(
            "uvx",
            lambda root: [self.uvx, "--from", str(self.wheel), *self.ours(root)],
            lambda root: root / "bin" / "codex",
        )

    def pipx_case(self, backend: str) -> None:
        self._run(
            f"pipx_{backend}",
            lambda root: [
                self.pipx,
                "run",
                "--verbose",
                "--backend",
                backend,
                "--spec",
                str(self.wheel),
                *self.ours(root),
            ],
            lambda root: root / "bin" / "codex",
        )

    def npm_case(self) -> None:
        self._run(
            "npm",
            lambda root: [self.npm, "i", "-g", "--prefix", str(root / "prefix"), "@openai/codex"],
            lambda root: root / "prefix" / "bin" / "codex",
        )


def phases(case: Case) -> dict[str, float]:
    """Median seconds of each pipx phase (from one mark to the next one present)."""
    spans: dict[str, list[float]] = {}
    for run in case.runs:
        marks = sorted((at, k) for k, at in run.marks.items() if k in PHASES)
        points = [("start", 0.0), *((k, at) for at, k in marks), ("end", run.seconds)]
        for (name, at), (_, until) in itertools.pairwise(points):
            spans.setdefault(name, []).append(until - at)
    return {name: round(statistics.median(v), 3) for name, v in spans.items()}


PHASE_LABELS = {
    "start": "pipx starting",
    "shared_libs": "pipx's shared libraries (venv + pip upgrade)",
    "venv": "the app's venv",
    "deps": "installing codex-install's dependencies",
    "exec": "codex-install until its first line",
    "first_line": "codex-install: download, verify, install, codex --version",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", type=Path, required=True, help="the built wheel")
    parser.add_argument("--runs", type=int, default=5, help="rounds (5)")
    parser.add_argument("--work", type=Path, default=WORK, help="scratch (bench/.work)")
    args = parser.parse_args()
    registry = subprocess.run(
        ["npm", "config", "get", "registry"], capture_output=True, text=True, check=True
    ).stdout.strip()
    scratch = Path(tempfile.mkdtemp(prefix="entry-", dir=args.work))
    bench = Bench(args.wheel.resolve(), scratch, registry)
    cases: list[Callable[[], None]] = [
        bench.uvx_case,
        lambda: bench.pipx_case("uv"),
        lambda: bench.pipx_case("pip"),
        bench.npm_case,
    ]
    try:
        for i in range(args.runs):
            for case in cases[i % len(cases) :] + cases[: i % len(cases)]:
                case()
            print(
                f"round {i + 1}/{args.runs} done (load {os.getloadavg()[0]:.2f})", file=sys.stderr
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    npm = bench.cases["npm"].median()
    print(f"\n{'case':34} {'to codex':>9} {'min':>7} {'max':>7} {'first line':>11} {'× npm':>6}")
    for name, case in bench.cases.items():
        times = [r.seconds for r in case.runs]
        first = case.median("first_line")
        first_text = "—" if first != first else f"{first:.2f}s"
        print(
            f"{name:34} {case.median():8.2f}s {min(times):6.2f}s {max(times):6.2f}s "
            f"{first_text:>11} {case.median() / npm:5.2f}×"
        )
    for backend in ("uv", "pip"):
        print(f"\npipx run ({backend} backend), median seconds per phase:")
        for phase, seconds in phases(bench.cases[f"pipx_{backend}"]).items():
            print(f"  {PHASE_LABELS.get(phase, phase):58} {seconds:6.2f}s")
    loads = [r.load for c in bench.cases.values() for r in c.runs]
    print(
        f"\nload average at the runs' start: {min(loads):.2f}–{max(loads):.2f} "
        f"(nproc {os.cpu_count()})"
    )
    results: dict[str, Any] = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": " ".join(["python", "bench/bench_entry.py", *sys.argv[1:]]),
        "wheel": args.wheel.name,
        "registry": registry,
        "cases": {
            name: {
                "median_s": round(c.median(), 3),
                "first_line_median_s": round(c.median("first_line"), 3),
                "vs_npm": round(c.median() / npm, 3),
                "runs": [
                    {"s": round(r.seconds, 3), "marks": r.marks, "load": r.load} for r in c.runs
                ],
            }
            for name, c in bench.cases.items()
        },
        "pipx_phases": {b: phases(bench.cases[f"pipx_{b}"]) for b in ("uv", "pip")},
    }
    args.work.mkdir(parents=True, exist_ok=True)
    out = args.work / f"entry-results-{results['date'].replace(':', '')}.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

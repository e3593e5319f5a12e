"""codex-install against the shell sequences a user would otherwise run, as ratios (SPEC §11).

Builds (or reuses) the synthetic ~170 MB release of bench/make_release.py, serves it from
bench/serve.py in a separate process on 127.0.0.1, then measures, interleaved round by round
so machine noise hits every side alike, each run a fresh process into a fresh empty directory:

  1. ``codex-install install`` of a release with only the .tar.gz, vs the shell baseline
     ``curl -sSfo a.tgz URL && sha256sum a.tgz && tar xzf a.tgz``;
  2. the same with the .tar.zst preferred (still against the .tar.gz baseline), also reported
     against ``curl; sha256sum; zstd -d | tar x`` and the unverified ``curl | zstd -d | tar x``;
  3. a no-op reinstall of the installed version;
  4. ``codex-install --version`` / ``--help`` cold start vs ``python -c pass``;
  5. peak RSS of every install (GNU time's %M around the child, else ``wait4`` rusage);
  6. ``codex-launch --version`` vs ``codex --version`` (bench/bench_launch.py).

Prints medians, ratios and verdicts against the targets; writes the results as JSON to
bench/.work/results-latest.json (and a dated copy).

    python bench/run.py [--runs 5] [--size-mb 300]
    python bench/run.py --smoke          # tiny release, one run each: checks the harness works
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import make_release  # noqa: E402

# Codex's own installer is not vendored (another project's code): put a copy of
# openai/codex scripts/install/install.sh here, or pass --install-sh.
INSTALL_SH = make_release.WORK / "install.sh"

TARGETS = {
    "install_gz_ratio": 0.5,  # install (.tar.gz) / shell .tar.gz baseline (issue 14)
    "install_gz_vs_floor": 1.15,  # install (.tar.gz) / fastest inflate alone, same bytes
    "install_zst_ratio": 0.7,  # install (.tar.zst preferred) / shell .tar.gz baseline
    "install_zst_vs_floor": 1.15,  # install (.tar.zst) / zstd decode alone, same bytes
    "install_zst_vs_pipe_zst": 0.8,  # install (.tar.zst) / curl | zstd -d | tar x
    # The decoder swap (issue 25): install (.tar.zst) / the same by --baseline-installer.
    "install_zst_vs_baseline": 1.0,
    # Re-run against re-run: --version latest with latest installed, the second time.
    "noop_latest_vs_installsh": 1.0,  # / install.sh re-run
    "noop_latest_vs_noop": 1.2,  # / the pinned no-op's re-run
    "noop_s": 0.3,
    "version_ratio": 4.0,  # codex-install --version / python -c pass
    "peak_rss_mb": 80.0,  # 10^6 bytes, like the target; the table shows MiB
    "launch_overhead_ms": 40.0,
}

SHELL = {
    "shell_gz": 'curl -sSfo a.tgz "$1" && sha256sum a.tgz >/dev/null && tar xzf a.tgz',
    "shell_zst": (
        'curl -sSfo a.tzst "$1" && sha256sum a.tzst >/dev/null && zstd -qdc a.tzst | tar xf -'
    ),
    "pipe_zst": 'curl -sSf "$1" | zstd -qdc | tar xf -',
    "curl": 'curl -sSfo /dev/null "$1"',
}


# The floor of each stage, in a fresh process on the very bytes served: what this machine
# can do at best, one stage at a time (the stream overlaps them on 2 cores).
FLOORS = r"""
import hashlib, json, os, sys, time, zlib
gz, zst, scratch = sys.argv[1], sys.argv[2], sys.argv[3]
def timed(fn):
    start = time.perf_counter(); fn(); return time.perf_counter() - start
def inflate(mod):
    def run():
        d = mod.decompressobj(31)
        with open(gz, "rb") as f:
            while chunk := f.read(1 << 20):
                while chunk:
                    d.decompress(chunk, 1 << 20); chunk = d.unconsumed_tail
    return run
def unzstd():
    # The decoder codex-install uses (archive/decompress.py): compression.zstd on 3.14+,
    # backports.zstd below; one frame per decompressor, output capped per call as there.
    if sys.version_info >= (3, 14):
        from compression.zstd import ZstdDecompressor
    else:
        from backports.zstd import ZstdDecompressor
    d = ZstdDecompressor()
    with open(zst, "rb") as f:
        while chunk := f.read(1 << 20):
            while True:
                d.decompress(chunk, 1 << 20); chunk = b""
                if d.eof:
                    chunk, d = d.unused_data, ZstdDecompressor()
                    if not chunk: break
                elif d.needs_input: break
def sha():
    h = hashlib.sha256()
    with open(gz, "rb") as f:
        while chunk := f.read(1 << 20): h.update(chunk)
def writes():
    size = json.loads(sys.argv[4])
    block = os.urandom(1 << 20)
    fd = os.open(os.path.join(scratch, "w.bin"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    for _ in range(size >> 20): os.write(fd, block)
    os.close(fd)
out = {"inflate_zlib": timed(inflate(zlib))}
try:
    from isal import isal_zlib
    out["inflate_isal"] = timed(inflate(isal_zlib))
except ImportError:
    pass
def unzstd_zstandard():
    import zstandard  # the decoder before issue 25, where the bench venv has it
    with open(zst, "rb") as f:
        r = zstandard.ZstdDecompressor().stream_reader(
            f, read_size=1 << 20, read_across_frames=True)
        while r.read(1 << 20): pass
out.update(zstd_decode=timed(unzstd), sha256=timed(sha), writes=timed(writes))
try:
    out["zstd_decode_zstandard"] = timed(unzstd_zstandard)
except ImportError:
    pass
# Not timed: freeing 300 MB of page cache is no part of writing it (an install never does).
os.unlink(os.path.join(scratch, "w.bin"))
print(json.dumps(out))
"""


@dataclass(frozen=True)
class Sample:
    seconds: float
    rss_mib: float


@dataclass
class Series:
    samples: list[Sample] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def peak_rss(self) -> float:
        return max(s.rss_mib for s in self.samples)

    def to_json(self) -> dict[str, Any]:
        return {
            "median_s": round(self.median, 4),
            "min_s": round(min(s.seconds for s in self.samples), 4),
            "max_s": round(max(s.seconds for s in self.samples), 4),
            "runs": [round(s.seconds, 4) for s in self.samples],
            "peak_rss_mib": round(self.peak_rss, 1),
        }


def installer_argv() -> list[str]:
    """The console script next to this interpreter (what users run), else the module from
    this checkout (see ``child_env``)."""
    script = Path(sys.executable).with_name("codex-install")
    return [str(script)] if script.exists() else [sys.executable, "-m", "codex_install"]


def child_env(base: dict[str, str]) -> dict[str, str]:
    if Path(sys.executable).with_name("codex-install").exists():
        return base
    return {**base, "PYTHONPATH": str(BENCH.parent / "installer")}


GNU_TIME = Path("/usr/bin/time")


def run_timed(
    argv: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    rss: bool = False,
) -> tuple[Sample, int, bytes, bytes]:
    """Spawn-to-exit wall time and the peak RSS of the child and everything it waited for.

    ``wait4``'s ru_maxrss of a child forked from this process starts at this process's own RSS
    (Linux carries the pre-exec high-water mark over); with ``rss`` the command runs under
    GNU time, forked from a 2 MB process, when there is one.
    """
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as rss_file,
    ):
        use_time = rss and GNU_TIME.exists()
        if use_time:
            argv = [str(GNU_TIME), "-q", "-f", "%M", "-o", rss_file.name, *argv]
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        rss_mib = usage.ru_maxrss / 1024
        if use_time:
            text = rss_file.read().strip().splitlines()
            if text and text[-1].isdigit():
                rss_mib = int(text[-1]) / 1024
        return Sample(elapsed, rss_mib), proc.returncode, out.read(), err.read()


def must(result: tuple[Sample, int, bytes, bytes], what: str) -> tuple[Sample, bytes]:
    sample, code, out, err = result
    if code != 0:
        tail = (err or out).decode(errors="replace")[-600:]
        raise SystemExit(f"bench: {what} exited {code}:\n{tail}")
    return sample, out


@contextmanager
def serving(release: Path, *flags: str, timeout: float = 30.0) -> Iterator[str]:
    """serve.py on ``release`` (with ``flags``, e.g. ``--static``) until the block ends."""
    proc = subprocess.Popen(
        [sys.executable, str(BENCH / "serve.py"), str(release), *flags],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], timeout)
        line = proc.stdout.readline() if ready else b""
        if not line:
            raise SystemExit(f"bench: serve.py {' '.join(flags)} did not start")
        yield str(json.loads(line)["url"])
    finally:
        proc.terminate()
        proc.wait(10)


class Bench:
    def __init__(self, release: Path, url: str, scratch: Path) -> None:
        self.release = release
        self.meta = json.loads((release / "meta.json").read_text())
        self.url = url
        self.scratch = scratch
        self.installer = installer_argv()
        self.series: dict[str, Series] = {}

    def asset_url(self, fmt: str) -> str:
        return f"{self.url}/download/{self.meta['archives'][fmt]['name']}"

    def fresh(self, name: str) -> Path:
        path = self.scratch / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        os.sync()  # the previous run's dirty pages must not be written back during this one
        return path

    def record(self, name: str, sample: Sample) -> None:
        self.series.setdefault(name, Series()).samples.append(sample)

    # --- one run of each case ---

    def shell(self, name: str) -> None:
        fmt = "tar.zst" if "zst" in name else "tar.gz"
        cwd = self.fresh(name)
        argv = ["sh", "-c", SHELL[name], "sh", self.asset_url(fmt)]
        sample, _ = must(run_timed(argv, cwd=cwd), name)
        if name != "curl":
            codex = cwd / "bin" / "codex"
            if not codex.is_file() or codex.stat().st_size < 1000:
                raise SystemExit(f"bench: {name} did not extract bin/codex")
        self.record(name, sample)

    def install_argv(self, root: Path, repo: str) -> tuple[list[str], dict[str, str]]:
        env = {
            "HOME": str(root / "home"),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "GITHUB_API_URL": self.url,
            "CODEX_INSTALL_CACHE_DIR": str(root / "cache"),
            "CODEX_NON_INTERACTIVE": "1",
            "NO_PROXY": "127.0.0.1,localhost",
        }
        env = child_env(env)
        argv = [
            *self.installer,
            "install",
            "--version",
            self.meta["version"],
            "--repo",
            repo,
            "--codex-home",
            str(root / "home" / ".codex"),
            "--bin-dir",
            str(root / "bin"),
            "--no-login",
            "--json",
        ]
        return argv, env

    def install(
        self, name: str, *, noop_too: bool = False, installer: list[str] | None = None
    ) -> None:
        fmt, repo = ("tar.zst", "bench/codex") if "zst" in name else ("tar.gz", "bench/codex-gz")
        root = self.fresh(name)
        argv, env = self.install_argv(root, repo)
        if installer is not None:  # another codex-install (an older one), same arguments
            argv = [*installer, *argv[len(self.installer) :]]
            env = {k: v for k, v in env.items() if k != "PYTHONPATH"}
        sample, out = must(run_timed(argv, env=env, rss=True), name)
        data = json.loads(out)
        want = self.meta["archives"][fmt]["sha256"]
        if not data.get("ok") or data.get("reused") or data.get("sha256") != want:
            raise SystemExit(f"bench: {name} did not install the {fmt} archive: {data}")
        self.record(name, sample)
        if noop_too:
            # Each no-op twice: the first after another command, then its re-run, as
            # install.sh's re-run is the second run of the same command (both run the same
            # code: the re-run differs only by a warm page cache).
            for suffix in ("", "_rerun"):
                sample, out = must(run_timed(argv, env=env, rss=True), "no-op reinstall")
                if not json.loads(out).get("reused"):
                    raise SystemExit("bench: the reinstall downloaded again")
                self.record("noop" + suffix, sample)
            at = argv.index("--version") + 1
            latest = [*argv[:at], "latest", *argv[at + 1 :]]
            for suffix in ("", "_rerun"):
                sample, out = must(run_timed(latest, env=env, rss=True), "no-op (latest)")
                if not json.loads(out).get("reused"):
                    raise SystemExit("bench: the reinstall of latest downloaded again")
                self.record("noop_latest" + suffix, sample)

    def floors(self) -> None:
        gz, zst = (self.release / self.meta["archives"][f]["name"] for f in ("tar.gz", "tar.zst"))
        scratch = self.fresh("floors")
        size = str(self.meta["unpacked_tar_bytes"])
        argv = [sys.executable, "-c", FLOORS, str(gz), str(zst), str(scratch), size]
        _, out = must(run_timed(argv, env=child_env(dict(os.environ))), "floors")
        for key, seconds in json.loads(out).items():
            self.record(f"floor_{key}", Sample(seconds, 0.0))

    def install_sh(self, script: Path) -> None:
        """Codex's own install.sh, its URLs pointed at the loopback server: a full install into
        a fresh root, then its re-run with that release installed (the peer of our no-op)."""
        text = script.read_text()
        text = text.replace(
            "https://api.github.com/repos/openai/codex/", f"{self.url}/repos/bench/codex-gz/"
        )
        text = text.replace(
            "https://github.com/openai/codex/releases/download/rust-v%s/%s",
            f"{self.url}/download/%.0s%s",
        )
        root = self.fresh("install_sh")
        patched = root / "install.sh"
        patched.write_text(text)
        home, bin_dir = root / "home", root / "bin"
        env = {
            "HOME": str(home),
            "PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "LANG": "C.UTF-8",
            "CODEX_HOME": str(home / ".codex"),
            "CODEX_INSTALL_DIR": str(bin_dir),
            "CODEX_NON_INTERACTIVE": "1",
            "NO_PROXY": "127.0.0.1,localhost",
        }
        argv = ["sh", str(patched)]
        sample, _ = must(run_timed(argv, env=env, rss=True), "install.sh")
        self.record("installsh", sample)
        sample, out = must(run_timed(argv, env=env, rss=True), "install.sh re-run")
        if b"Downloading" in out:
            raise SystemExit("bench: install.sh's re-run downloaded again")
        self.record("installsh_rerun", sample)

    def cold(self, name: str) -> None:
        argv = {
            "python": [sys.executable, "-c", "pass"],
            "version": [*self.installer, "--version"],
            "help": [*self.installer, "--help"],
        }[name]
        sample, _ = must(run_timed(argv, env=child_env(dict(os.environ))), name)
        self.record(name, sample)


def rotated(items: list[Callable[[], None]], shift: int) -> list[Callable[[], None]]:
    shift %= len(items)
    return items[shift:] + items[:shift]


def launch_overhead(smoke: bool, runs: int) -> dict[str, Any]:
    """bench/bench_launch.py when it is there (the launcher's own harness), else a minimal one."""
    script = BENCH / "bench_launch.py"
    if script.exists() and not smoke:
        proc = subprocess.run(
            [sys.executable, str(script), "--json", "--runs", str(max(runs, 20))],
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            data: dict[str, Any] = json.loads(proc.stdout)
        except ValueError:
            return {"error": (proc.stderr or proc.stdout)[-400:]}
        version = data["version"]
        return {
            "source": "bench/bench_launch.py",
            "launcher_ms": version["launcher_median_ms"],
            "direct_ms": version["direct_median_ms"],
            "overhead_ms": version["overhead_ms"],
            "hot_path_overhead_ms": data.get("hot_path", {}).get("overhead_ms"),
        }
    return _launch_minimal(runs)


def _launch_minimal(runs: int) -> dict[str, Any]:
    launcher = Path(sys.executable).with_name("codex-launch")
    argv = (
        [str(launcher)] if launcher.exists() else [sys.executable, "-m", "codex_install.launcher"]
    )
    with tempfile.TemporaryDirectory(prefix="bench-launch-") as tmp:
        codex = Path(tmp) / "codex"
        codex.write_text('#!/bin/sh\necho "codex-cli 0.169.0"\n')
        codex.chmod(0o755)
        env = {
            "HOME": tmp,
            "CODEX_HOME": tmp,
            "CODEX_INSTALL_DIR": tmp,
            "PATH": f"{tmp}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        }
        launched: list[float] = []
        direct: list[float] = []
        for _ in range(runs):
            launched.append(run_timed([*argv, "--version"], env=env)[0].seconds * 1000)
            direct.append(run_timed([str(codex), "--version"], env=env)[0].seconds * 1000)
    return {
        "source": "bench/run.py (minimal)",
        "launcher_ms": round(statistics.median(launched), 2),
        "direct_ms": round(statistics.median(direct), 2),
        "overhead_ms": round(statistics.median(launched) - statistics.median(direct), 2),
    }


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def summarize(bench: Bench, launch: dict[str, Any]) -> dict[str, Any]:
    s = bench.series
    ratios: dict[str, float] = {}
    base = s["shell_gz"].median
    ratios["install_gz_ratio"] = s["ours_gz"].median / base
    ratios["install_zst_ratio"] = s["ours_zst"].median / base
    ratios["install_zst_vs_shell_zst"] = s["ours_zst"].median / s["shell_zst"].median
    ratios["install_zst_vs_pipe_zst"] = s["ours_zst"].median / s["pipe_zst"].median
    if "ours_zst_baseline" in s:
        ratios["install_zst_vs_baseline"] = s["ours_zst"].median / s["ours_zst_baseline"].median
    inflate = min(s[k].median for k in ("floor_inflate_isal", "floor_inflate_zlib") if k in s)
    ratios["install_gz_vs_floor"] = s["ours_gz"].median / inflate
    ratios["install_zst_vs_floor"] = s["ours_zst"].median / s["floor_zstd_decode"].median
    # The stages overlap on 2 cores, so the limit is the slowest single stage, whichever it is
    # (on a busy VM page-cache writes can be slower than ISA-L inflate).
    receive = s["curl"].median + s["floor_sha256"].median
    writes = s["floor_writes"].median
    ratios["install_gz_vs_limit"] = s["ours_gz"].median / max(inflate, writes, receive)
    zst_limit = max(s["floor_zstd_decode"].median, writes, receive)
    ratios["install_zst_vs_limit"] = s["ours_zst"].median / zst_limit
    if "installsh_rerun" in s:
        rerun = s["installsh_rerun"].median
        ratios["noop_latest_vs_installsh"] = s["noop_latest_rerun"].median / rerun
        ratios["noop_latest_first_vs_installsh"] = s["noop_latest"].median / rerun
        ratios["install_gz_vs_installsh"] = s["ours_gz"].median / s["installsh"].median
    ratios["noop_latest_vs_noop"] = s["noop_latest_rerun"].median / s["noop_rerun"].median
    ratios["noop_latest_first_vs_noop"] = s["noop_latest"].median / s["noop"].median
    ratios["version_ratio"] = s["version"].median / s["python"].median
    ratios["help_ratio"] = s["help"].median / s["python"].median
    values = {
        **ratios,
        "noop_s": s["noop"].median,
        "peak_rss_mb": max(s["ours_gz"].peak_rss, s["ours_zst"].peak_rss) * 2**20 / 1e6,
        "launch_overhead_ms": launch.get("overhead_ms", float("nan")),
    }
    verdicts = {k: bool(values[k] <= limit) for k, limit in TARGETS.items() if k in values}
    gz_mb = bench.meta["archives"]["tar.gz"]["size"] / 1e6
    return {
        "values": {k: round(v, 4) for k, v in values.items()},
        "targets": TARGETS,
        "holds": verdicts,
        "curl_mb_per_s": round(gz_mb / s["curl"].median, 1),
    }


def print_table(bench: Bench, summary: dict[str, Any], launch: dict[str, Any]) -> None:
    labels = {
        "curl": "curl -o /dev/null (.tar.gz, raw loopback)",
        "shell_gz": "shell: curl; sha256sum; tar xzf",
        "ours_gz": "codex-install install (.tar.gz)",
        "shell_zst": "shell: curl; sha256sum; zstd -d | tar x",
        "pipe_zst": "shell: curl | zstd -d | tar x (unverified)",
        "ours_zst": "codex-install install (.tar.zst)",
        "ours_zst_baseline": "  the same with --baseline-installer",
        "noop": "codex-install install (no-op reinstall)",
        "noop_rerun": "  its re-run",
        "noop_latest": "  the same with --version latest",
        "noop_latest_rerun": "  its re-run (one 304)",
        "installsh": "Codex install.sh (.tar.gz, loopback URLs)",
        "installsh_rerun": "  its re-run, latest installed",
        "floor_inflate_zlib": "floor: zlib inflate alone (in-process)",
        "floor_inflate_isal": "floor: ISA-L inflate alone (in-process)",
        "floor_zstd_decode": "floor: zstd decode alone (in-process)",
        "floor_zstd_decode_zstandard": "  the same with zstandard (the old decoder)",
        "floor_sha256": "floor: SHA-256 of the .tar.gz (in-process)",
        "floor_writes": "floor: write the unpacked bytes (1 MiB writes)",
        "python": "python -c pass",
        "version": "codex-install --version",
        "help": "codex-install --help",
    }
    print(f"\n{'case':46} {'median':>9} {'min':>9} {'max':>9} {'peak RSS':>10}")
    for key, label in labels.items():
        series = bench.series.get(key)
        if series is None:
            continue
        j = series.to_json()
        print(
            f"{label:46} {j['median_s']:8.3f}s {j['min_s']:8.3f}s {j['max_s']:8.3f}s "
            f"{j['peak_rss_mib']:7.1f} MiB"
        )
    if "overhead_ms" in launch:
        print(
            f"{'codex-launch --version vs codex --version':46} {launch['launcher_ms']:7.1f}ms "
            f"vs {launch['direct_ms']:.1f}ms  ({launch['source']})"
        )
    print(f"\nraw curl throughput: {summary['curl_mb_per_s']} MB/s")
    v = summary["values"]
    rows = [
        ("install .tar.gz / shell .tar.gz", "install_gz_ratio", "×"),
        ("install .tar.zst / shell .tar.gz", "install_zst_ratio", "×"),
        ("install .tar.zst / shell .tar.zst", "install_zst_vs_shell_zst", "×"),
        ("install .tar.zst / curl|zstd|tar", "install_zst_vs_pipe_zst", "×"),
        ("install .tar.zst / --baseline-installer's", "install_zst_vs_baseline", "×"),
        ("install .tar.gz / fastest inflate alone", "install_gz_vs_floor", "×"),
        ("install .tar.zst / zstd decode alone", "install_zst_vs_floor", "×"),
        ("install .tar.gz / slowest stage alone", "install_gz_vs_limit", "×"),
        ("install .tar.zst / slowest stage alone", "install_zst_vs_limit", "×"),
        ("install .tar.gz / install.sh", "install_gz_vs_installsh", "×"),
        ("latest no-op re-run / install.sh re-run", "noop_latest_vs_installsh", "×"),
        ("latest no-op re-run / pinned no-op re-run", "noop_latest_vs_noop", "×"),
        ("first latest no-op / install.sh re-run", "noop_latest_first_vs_installsh", "×"),
        ("first latest no-op / first pinned no-op", "noop_latest_first_vs_noop", "×"),
        ("no-op reinstall", "noop_s", "s"),
        ("--version / python -c pass", "version_ratio", "×"),
        ("--help / python -c pass", "help_ratio", "×"),
        ("peak RSS of an install", "peak_rss_mb", " MB"),
        ("codex-launch overhead", "launch_overhead_ms", " ms"),
    ]
    print(f"\n{'measure':42} {'value':>10}   target")
    for label, key, unit in rows:
        if key not in v:
            continue
        limit = TARGETS.get(key)
        verdict = ""
        if limit is not None:
            verdict = (
                f"≤ {limit:g}{unit.strip() or '×'}  {'ok' if summary['holds'][key] else 'MISSED'}"
            )
        print(f"{label:42} {v[key]:>9.3f}{unit:4} {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each install case (5)")
    parser.add_argument("--cold-runs", type=int, default=20, help="runs of each cold start (20)")
    parser.add_argument("--size-mb", type=int, default=300, help="size of bin/codex (300)")
    parser.add_argument("--smoke", action="store_true", help="tiny release, one run of each")
    parser.add_argument("--work", type=Path, help="scratch directory (default: bench/.work)")
    parser.add_argument("--no-launch", action="store_true", help="skip the codex-launch bench")
    parser.add_argument(
        "--install-sh",
        type=Path,
        default=INSTALL_SH,
        help="Codex's scripts/install/install.sh, for its peer cases (default: bench/.work/)",
    )
    parser.add_argument(
        "--baseline-installer",
        type=Path,
        help="another codex-install console script (an older release's venv): its .tar.zst "
        "install runs interleaved with ours, reported as a ratio",
    )
    args = parser.parse_args()
    if args.smoke:
        args.runs, args.cold_runs, args.size_mb = 1, 1, 2
    elif args.runs < 5:
        parser.error("--runs must be at least 5 (use --smoke to check the harness)")
    for tool in ("curl", "sha256sum", "tar", "zstd"):
        if shutil.which(tool) is None:
            raise SystemExit(f"bench: the baselines need {tool} on PATH")
    work = args.work or make_release.WORK
    work.mkdir(parents=True, exist_ok=True)
    release = make_release.build(
        args.size_mb,
        zstd_level=3 if args.smoke else make_release.ZSTD_LEVEL,
        out=work / "smoke-release" if args.smoke else None,
    )
    scratch = work / "runs"
    with serving(release) as url:
        bench = Bench(release, url, scratch)
        cases: list[Callable[[], None]] = [
            lambda: bench.shell("curl"),
            lambda: bench.shell("shell_gz"),
            lambda: bench.install("ours_gz"),
            lambda: bench.shell("shell_zst"),
            lambda: bench.shell("pipe_zst"),
            lambda: bench.install("ours_zst", noop_too=True),
            bench.floors,
        ]
        if args.baseline_installer is not None:
            baseline = [str(args.baseline_installer)]
            cases.append(lambda: bench.install("ours_zst_baseline", installer=baseline))
        if args.install_sh.is_file():
            cases.append(lambda: bench.install_sh(args.install_sh))
        else:
            print(f"bench: no {args.install_sh}: install.sh cases skipped", file=sys.stderr)
        if not args.smoke:
            for case in cases:  # warm-up: page cache, .pyc files, server threads; not recorded
                case()
            bench.series.clear()
        for i in range(args.runs):
            for case in rotated(cases, i):
                case()
            print(f"round {i + 1}/{args.runs} done", file=sys.stderr)
        shutil.rmtree(scratch, ignore_errors=True)
    colds: list[Callable[[], None]] = [
        lambda: bench.cold("python"),
        lambda: bench.cold("version"),
        lambda: bench.cold("help"),
    ]
    if not args.smoke:
        for case in colds:
            case()
        for name in ("python", "version", "help"):
            bench.series.pop(name, None)
    for i in range(args.cold_runs):
        for case in rotated(colds, i):
            case()
    launch = {} if args.no_launch else launch_overhead(args.smoke, max(args.cold_runs, 1))
    summary = summarize(bench, launch)
    print_table(bench, summary, launch)
    results = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": " ".join(["python", "bench/run.py", *sys.argv[1:]]),
        "machine": machine(),
        "release": bench.meta,
        "series": {k: v.to_json() for k, v in bench.series.items()},
        "launch": launch,
        **summary,
    }
    out = work / ("results-smoke.json" if args.smoke else "results-latest.json")
    out.write_text(json.dumps(results, indent=2))
    if not args.smoke:
        stamp = results["date"].replace(":", "")
        (work / f"results-{stamp}.json").write_text(json.dumps(results, indent=2))
    if args.smoke:
        print("\n(--smoke: a tiny release and one run; the verdicts above mean nothing)")
    print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Streaming extraction vs `tar xzf` / `tar --zstd -xf` on a Codex-sized package archive.

Builds (once, cached under bench/.work/) a package-layout archive whose bin/codex is ~300 MB of
random blocks mixed with zero blocks, so gzip shrinks it to ~170 MB like a real release. Each
measurement runs in a fresh child process: our StreamExtractor fed 1 MiB chunks (timed inside
the child, plus its peak RSS), and GNU tar on the same file. Prints the median of 3.

    python bench/bench_extract.py [--runs 3] [--size-mb 300]
"""

from __future__ import annotations

import argparse
import filecmp
import io
import json
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
WORK = ROOT / ".work"
TARGET = "x86_64-unknown-linux-musl"
RANDOM_SHARE = 0.57  # fraction of 64 KiB blocks that are incompressible

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from codex_install.archive import ExtractSpec, StreamExtractor
archive, dest, fmt = Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
spec = ExtractSpec(format=fmt, layout="package", target=sys.argv[5])
start = time.perf_counter()
with open(archive, "rb", buffering=0) as f, StreamExtractor(dest, spec) as ex:
    while chunk := f.read(1 << 20):
        ex.feed(chunk)
    result = ex.finish()
elapsed = time.perf_counter() - start
rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": elapsed, "rss_mib": rss_kib / 1024, "bytes": result.unpacked_bytes}))
"""


def build_binary(path: Path, size_mb: int) -> None:
    rng = random.Random(1234)
    block = 64 << 10
    zeros = bytes(block)
    with open(path, "wb") as f:
        for _ in range(size_mb * (1 << 20) // block):
            f.write(rng.randbytes(block) if rng.random() < RANDOM_SHARE else zeros)


def build_archives(size_mb: int) -> dict[str, Path]:
    WORK.mkdir(exist_ok=True)
    tar_path = WORK / f"codex-package-{size_mb}.tar"
    out = {"tar.gz": tar_path.with_suffix(".tar.gz"), "tar.zst": tar_path.with_suffix(".tar.zst")}
    if all(p.exists() for p in out.values()):
        return out
    binary = WORK / "codex.bin"
    build_binary(binary, size_mb)
    binary.chmod(0o755)
    meta = json.dumps({"layoutVersion": 1, "version": "0.0.0", "target": TARGET}).encode()
    with tarfile.open(tar_path, "w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("codex-package.json")
        info.size = len(meta)
        tar.addfile(info, io.BytesIO(meta))
        tar.add(binary, "bin/codex")
        rg = tarfile.TarInfo("codex-path/rg")
        rg.size, rg.mode = 4096, 0o755
        tar.addfile(rg, io.BytesIO(bytes(4096)))
    binary.unlink()
    with open(out["tar.gz"], "wb") as f:
        subprocess.run(["gzip", "-6", "-c", str(tar_path)], stdout=f, check=True)
    subprocess.run(
        ["zstd", "-q", "-f", "-19", "-T0", str(tar_path), "-o", str(out["tar.zst"])], check=True
    )
    tar_path.unlink()
    return out


def fresh_dir(name: str) -> Path:
    path = WORK / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir()
    return path


def run_ours(archive: Path, fmt: str) -> dict[str, float]:
    dest = fresh_dir("out-ours")
    installer = str(ROOT.parent / "installer")
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, installer, str(archive), str(dest), fmt, TARGET],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(proc.stdout)
    result["wall"] = time.perf_counter() - start  # includes interpreter start-up and imports
    return result


def run_tar(archive: Path, fmt: str) -> float:
    dest = fresh_dir("out-tar")
    flag = ["-xzf"] if fmt == "tar.gz" else ["--zstd", "-xf"]
    start = time.perf_counter()
    subprocess.run(["tar", *flag, str(archive), "-C", str(dest)], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size-mb", type=int, default=300)
    args = parser.parse_args()
    archives = build_archives(args.size_mb)
    for fmt, archive in archives.items():
        ours = [run_ours(archive, fmt) for _ in range(args.runs)]
        tar = [run_tar(archive, fmt) for _ in range(args.runs)]
        ours_s = statistics.median(r["seconds"] for r in ours)
        tar_s = statistics.median(tar)
        wall_s = statistics.median(r["wall"] for r in ours)
        rss = max(r["rss_mib"] for r in ours)
        same = filecmp.cmp(WORK / "out-ours/bin/codex", WORK / "out-tar/bin/codex", shallow=False)
        print(
            f"{fmt:8} {archive.stat().st_size / 1e6:6.1f} MB -> {ours[0]['bytes'] / 1e6:.1f} MB  "
            f"ours {ours_s:.2f}s (process {wall_s:.2f}s)  tar {tar_s:.2f}s  "
            f"ratio {ours_s / tar_s:.2f} ({wall_s / tar_s:.2f})  peak RSS {rss:.1f} MiB  "
            f"identical {same}"
        )
    shutil.rmtree(WORK / "out-ours", ignore_errors=True)
    shutil.rmtree(WORK / "out-tar", ignore_errors=True)


if __name__ == "__main__":
    main()

"""Build (once, cached) a synthetic Codex release the size of a real one, for the benchmarks.

``bin/codex`` is a ~300 MB shell script: three lines that print ``codex-cli <ver>`` and exit,
then a payload the shell never reads. The payload mixes 64 KiB blocks the way a native binary
mixes sections, so gzip gets it down to ~54 % (~170 MB) and decompression costs what it costs
on a real release: random blocks (stored, incompressible), low-entropy blocks (Huffman-only)
and text-like blocks (LZ matches). The release directory holds::

    codex-package-<T>.tar.gz  codex-package-<T>.tar.zst  codex-package_SHA256SUMS
    release.json      GitHub-shaped release JSON listing every asset
    release-gz.json   the same release without the .tar.zst (an install must take the .tar.gz)
    meta.json         version, target, sizes and digests (what bench/run.py checks against)

Asset URLs in the JSON are host-relative (``/download/<name>``); the installer resolves them
against the API URL, so any port works.

    python bench/make_release.py [--size-mb 300] [--version 0.169.0] [--out DIR] [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
WORK = BENCH / ".work"
DEFAULT_VERSION = "0.169.0"
BLOCK = 64 << 10
SEED = 20261124
# Shares of 64 KiB blocks: random, low-entropy (16 symbols), text-like (small vocabulary).
# 300 MiB of this is ~170 MB as .tar.gz (level 6), about the size of a real Codex package.
MIX = (0.39, 0.10, 0.51)
# zstd -10 -T0: decompresses as fast as -19 and builds in a minute, not ten.
ZSTD_LEVEL = 10
RECIPE = 3  # bump when the content recipe changes, so cached releases are rebuilt


def default_target() -> str:
    sys.path.insert(0, str(BENCH.parent / "installer"))
    from codex_install.platforms import resolve_target

    return resolve_target(None)


def release_dir(size_mb: int, version: str, target: str, zstd_level: int) -> Path:
    return WORK / f"release-{size_mb}mb-{version}-{target}-z{zstd_level}-r{RECIPE}"


def codex_header(version: str) -> bytes:
    # `exit 0` ends the script before the shell reads the payload after it.
    return f'#!/bin/sh\necho "codex-cli {version}"\nexit 0\n'.encode()


def write_binary(path: Path, size: int, version: str) -> None:
    rng = random.Random(SEED)
    nibbles = bytes(b & 0x0F for b in range(256))
    words = [
        bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz_.") for _ in range(rng.randint(3, 12)))
        for _ in range(40)
    ]
    header = codex_header(version) + b"\n"
    with open(path, "wb") as f:
        f.write(header)
        left = size - len(header)
        while left > 0:
            n = min(BLOCK, left)
            roll = rng.random()
            if roll < MIX[0]:
                block = rng.randbytes(n)
            elif roll < MIX[0] + MIX[1]:
                block = rng.randbytes(n).translate(nibbles)
            else:
                block = b" ".join(rng.choices(words, k=n // 5 + 1))[:n]
            f.write(block)
            left -= n
    path.chmod(0o755)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, 1_700_000_000
    tar.addfile(info, io.BytesIO(data))


def _add_dir(tar: tarfile.TarFile, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 1_700_000_000
    tar.addfile(info)


def write_tar(path: Path, binary: Path, version: str, target: str) -> None:
    package = {
        "layoutVersion": 1,
        "version": version,
        "target": target,
        "variant": "codex",
        "entrypoint": "bin/codex",
        "resourcesDir": "codex-resources",
        "pathDir": "codex-path",
    }
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        _add_bytes(tar, "codex-package.json", json.dumps(package, indent=2).encode())
        _add_dir(tar, "bin")
        info = tar.gettarinfo(str(binary), "bin/codex")
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mtime = 1_700_000_000
        with open(binary, "rb") as f:
            tar.addfile(info, f)
        _add_bytes(tar, "bin/codex-code-mode-host", b"#!/bin/sh\nexit 0\n", 0o755)
        _add_dir(tar, "codex-path")
        _add_bytes(tar, "codex-path/rg", b"#!/bin/sh\necho 'ripgrep 14.1.1'\n", 0o755)
        _add_dir(tar, "codex-resources")
        _add_bytes(tar, "codex-resources/prompt.md", b"You are Codex.\n" * 64)
        # install.sh counts a Linux release complete only with bwrap (its re-run peer needs it)
        _add_bytes(tar, "codex-resources/bwrap", b"#!/bin/sh\nexit 0\n", 0o755)


def compress(tar_path: Path, gz_path: Path, zst_path: Path, zstd_level: int) -> None:
    """gzip -6 and zstd, like the real release pipeline; the CLIs run in parallel when present."""
    procs: list[subprocess.Popen[bytes]] = []
    gz_out = open(gz_path, "wb")  # noqa: SIM115 - closed after the process exits
    try:
        if shutil.which("gzip"):
            procs.append(subprocess.Popen(["gzip", "-6", "-n", "-c", str(tar_path)], stdout=gz_out))
        else:
            import gzip

            with (
                open(tar_path, "rb") as src,
                gzip.GzipFile(fileobj=gz_out, mode="wb", compresslevel=6, mtime=0) as dst,
            ):
                shutil.copyfileobj(src, dst, 1 << 20)
        if shutil.which("zstd"):
            argv = ["zstd", "-q", "-f", f"-{zstd_level}", "-T0", str(tar_path), "-o", str(zst_path)]
            if zstd_level > 19:
                argv.insert(1, "--ultra")
            procs.append(subprocess.Popen(argv))
        else:
            import zstandard

            cctx = zstandard.ZstdCompressor(level=zstd_level, threads=-1, write_checksum=True)
            with open(tar_path, "rb") as src, open(zst_path, "wb") as dst:
                cctx.copy_stream(src, dst, read_size=1 << 20, write_size=1 << 20)
        for proc in procs:
            if proc.wait() != 0:
                raise SystemExit(f"{proc.args!r} failed")
    finally:
        gz_out.close()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(4 << 20):
            h.update(chunk)
    return h.hexdigest()


def release_json(tag: str, assets: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "tag_name": tag,
        "name": tag,
        "prerelease": False,
        "assets": [
            {
                "name": a["name"],
                "size": a["size"],
                "digest": f"sha256:{a['sha256']}",
                "browser_download_url": f"/download/{a['name']}",
            }
            for a in assets
        ],
    }


def build(
    size_mb: int = 300,
    version: str = DEFAULT_VERSION,
    target: str | None = None,
    *,
    out: Path | None = None,
    zstd_level: int = ZSTD_LEVEL,
    force: bool = False,
) -> Path:
    """The release directory, built unless a complete one is cached."""
    target = target or default_target()
    dest = out or release_dir(size_mb, version, target, zstd_level)
    if (dest / "meta.json").exists() and not force:
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    binary, tar_path = dest / "codex.bin", dest / "package.tar"
    gz = dest / f"codex-package-{target}.tar.gz"
    zst = dest / f"codex-package-{target}.tar.zst"
    write_binary(binary, size_mb << 20, version)
    write_tar(tar_path, binary, version, target)
    binary.unlink()
    compress(tar_path, gz, zst, zstd_level)
    unpacked = tar_path.stat().st_size
    tar_path.unlink()
    archives = [
        {"name": p.name, "size": p.stat().st_size, "sha256": sha256_file(p)} for p in (zst, gz)
    ]
    sums = dest / "codex-package_SHA256SUMS"
    sums.write_text("".join(f"{a['sha256']}  {a['name']}\n" for a in archives))
    sums_asset = {"name": sums.name, "size": sums.stat().st_size, "sha256": sha256_file(sums)}
    tag = f"rust-v{version}"
    full = release_json(tag, [*archives, sums_asset])
    gz_only = release_json(tag, [archives[1], sums_asset])
    (dest / "release.json").write_text(json.dumps(full, indent=2))
    (dest / "release-gz.json").write_text(json.dumps(gz_only, indent=2))
    meta = {
        "version": version,
        "target": target,
        "size_mb": size_mb,
        "unpacked_tar_bytes": unpacked,
        "zstd_level": zstd_level,
        "archives": {"tar.zst": archives[0], "tar.gz": archives[1]},
        "sums": sums_asset,
    }
    tmp = dest / "meta.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2))
    os.replace(tmp, dest / "meta.json")  # written last: its presence means the release is whole
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=300, help="size of bin/codex (300)")
    parser.add_argument("--version", default=DEFAULT_VERSION)
    parser.add_argument("--target", help="target triple (default: this machine's)")
    parser.add_argument("--zstd-level", type=int, default=ZSTD_LEVEL)
    parser.add_argument("--out", type=Path, help="release directory (default: under bench/.work)")
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    args = parser.parse_args()
    dest = build(
        args.size_mb,
        args.version,
        args.target,
        out=args.out,
        zstd_level=args.zstd_level,
        force=args.force,
    )
    meta = json.loads((dest / "meta.json").read_text())
    for fmt, a in meta["archives"].items():
        print(f"{fmt:8} {a['size'] / 1e6:7.1f} MB  sha256 {a['sha256'][:16]}…  {a['name']}")
    print(f"unpacked {meta['unpacked_tar_bytes'] / 1e6:.1f} MB → {dest}")


if __name__ == "__main__":
    main()

"""Builders for tiny tar archives and a feeder that drives ``StreamExtractor`` in random chunks."""

from __future__ import annotations

import gzip
import io
import os
import random
import stat
import tarfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import zstandard

from codex_install.archive import ArchiveFormat, ExtractResult, ExtractSpec, StreamExtractor

TARGET = "x86_64-unknown-linux-musl"
NPM_PREFIX = f"package/vendor/{TARGET}/"
MANIFEST = b'{"layoutVersion":1,"version":"0.169.0","target":"x86_64-unknown-linux-musl"}'


# --------------------------------------------------------------------------------------------
# Building archives


@dataclass(frozen=True)
class E:
    """One tar entry to write."""

    name: str
    data: bytes = b""
    type: bytes = tarfile.REGTYPE
    mode: int = 0o644
    linkname: str = ""


def file(name: str, data: bytes = b"x", mode: int = 0o644) -> E:
    return E(name, data, mode=mode)


def directory(name: str) -> E:
    return E(name, type=tarfile.DIRTYPE, mode=0o755)


def symlink(name: str, target: str) -> E:
    return E(name, type=tarfile.SYMTYPE, linkname=target, mode=0o777)


def hardlink(name: str, target: str) -> E:
    return E(name, type=tarfile.LNKTYPE, linkname=target)


def binary(size: int = 4096, seed: int = 0) -> bytes:
    """Random-ish bytes that still compress a bit, like a real executable."""
    rng = random.Random(seed)
    blocks = [rng.randbytes(512) if rng.random() < 0.6 else bytes(512) for _ in range(size // 512)]
    return b"".join(blocks) + rng.randbytes(size % 512)


CODEX = binary(200_000)


def package_entries(prefix: str = "") -> list[E]:
    return [
        directory(prefix + "bin/"),
        file(prefix + "codex-package.json", MANIFEST),
        file(prefix + "bin/codex", CODEX, mode=0o755),
        file(prefix + "bin/codex-code-mode-host", b"host", mode=0o755),
        file(prefix + "codex-path/rg", b"rg-binary", mode=0o755),
        file(prefix + "codex-resources/prompts/default.md", b"# prompt\n"),
        symlink(prefix + "codex-resources/latest.md", "prompts/default.md"),
        symlink(prefix + "codex-resources/prompts/up.md", "../prompts/default.md"),
        hardlink(prefix + "codex-resources/copy.md", prefix + "codex-resources/prompts/default.md"),
    ]


def make_tar(entries: list[E], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for e in entries:
            info = tarfile.TarInfo(e.name)
            info.type, info.mode, info.linkname = e.type, e.mode, e.linkname
            info.mtime = 1_700_000_000
            info.size = len(e.data) if e.type == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(e.data) if e.type == tarfile.REGTYPE else None)
    return buf.getvalue()


def compress(raw: bytes, fmt: ArchiveFormat) -> bytes:
    if fmt == "tar.gz":
        return gzip.compress(raw, compresslevel=6, mtime=0)
    if fmt == "tar.zst":
        return zstandard.ZstdCompressor(level=3, write_checksum=True).compress(raw)
    return raw


def build(entries: list[E], fmt: ArchiveFormat = "tar.gz") -> bytes:
    return compress(make_tar(entries), fmt)


OK = file("bin/codex", b"x", mode=0o755)


# --------------------------------------------------------------------------------------------
# Feeding


def random_chunks(data: bytes, seed: int) -> Iterator[bytes]:
    """Chunk sizes log-uniform between 1 byte and 2 MiB, so tiny and huge both occur."""
    rng = random.Random(seed)
    pos = 0
    while pos < len(data):
        size = int(2 ** rng.uniform(0, 21))
        yield data[pos : pos + size]
        pos += size


def spec(fmt: ArchiveFormat = "tar.gz", layout: str = "package", **kw: object) -> ExtractSpec:
    return ExtractSpec(format=fmt, layout=layout, target=TARGET, **kw)  # type: ignore[arg-type]


def extract(
    data: bytes, dest: Path, extract_spec: ExtractSpec, chunks: Iterator[bytes] | None = None
) -> ExtractResult:
    with StreamExtractor(dest, extract_spec) as ex:
        for chunk in chunks if chunks is not None else random_chunks(data, 1):
            ex.feed(chunk)
        return ex.finish()


def no_worker_threads() -> bool:
    return not any(t.name.startswith("codex-") for t in threading.enumerate())


def assert_package_installed(staging: Path, result: ExtractResult) -> None:
    assert result.entrypoint == staging / "bin" / "codex"
    assert_package_tree(staging)
    assert result.files == 6
    assert result.unpacked_bytes == len(CODEX) + len(MANIFEST) + 4 + 9 + 9


def assert_package_tree(staging: Path) -> None:
    """The files, modes and links ``package_entries()`` unpacks to."""
    assert (staging / "bin" / "codex").read_bytes() == CODEX
    assert stat.S_IMODE((staging / "bin" / "codex").stat().st_mode) == 0o755
    assert stat.S_IMODE((staging / "codex-package.json").stat().st_mode) == 0o644
    assert (staging / "codex-path" / "rg").read_bytes() == b"rg-binary"
    assert os.readlink(staging / "codex-resources" / "latest.md") == "prompts/default.md"
    assert (staging / "codex-resources" / "latest.md").read_bytes() == b"# prompt\n"
    assert (staging / "codex-resources" / "copy.md").stat().st_nlink == 2


def good(fmt: ArchiveFormat) -> bytes:
    return build(package_entries(), fmt)

"""gzip and zstd streams: concatenated members, truncation, corruption, error pages
(archive/decompress.py)."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import pytest
import zstandard

from codex_install.archive import ArchiveFormat
from codex_install.archive.decompress import _INFLATE as INFLATE
from codex_install.archive.decompress import ZstdFrameWalker, gunzip, unzstd
from codex_install.errors import VerificationError

from .helpers import (
    assert_package_installed,
    binary,
    build,
    extract,
    file,
    good,
    make_tar,
    package_entries,
    random_chunks,
    spec,
)


def zstd_frames() -> bytes:
    checked = zstandard.ZstdCompressor(write_checksum=True)
    plain = zstandard.ZstdCompressor(write_content_size=False)
    skippable = (0x184D2A53).to_bytes(4, "little") + (3).to_bytes(4, "little") + b"abc"
    return checked.compress(binary(3000)) + skippable + plain.compress(b"tail" * 100)


@pytest.mark.slow
def test_zstd_frame_walker_accepts_only_whole_streams() -> None:
    data = zstd_frames()
    for cut in range(len(data) + 1):
        walker = ZstdFrameWalker()
        for chunk in random_chunks(data[:cut], cut):
            walker.update(chunk)
        # a cut right after a complete frame is a valid (shorter) stream; the tar layer and
        # the digest catch those
        assert walker.complete == (cut in frame_ends(data)), cut


def frame_ends(data: bytes) -> set[int]:
    ends = set()
    walker = ZstdFrameWalker()
    for i in range(len(data)):
        walker.update(data[i : i + 1])
        if walker.complete:
            ends.add(i + 1)
    return ends


def test_zstd_frame_walker_refuses_html() -> None:
    with pytest.raises(VerificationError, match="HTML"):
        ZstdFrameWalker().update(b"<!DOCTYPE html><html>")


@pytest.mark.parametrize("fmt", ["tar.gz", "tar.zst"])
def test_multi_megabyte_binary_in_two_mib_chunks(dest: Path, fmt: ArchiveFormat) -> None:
    big = binary(5 << 20, seed=7)
    data = build([file("./bin/codex", big, mode=0o755)], fmt)
    chunks = (data[i : i + (2 << 20)] for i in range(0, len(data), 2 << 20))
    assert extract(data, dest, spec(fmt), chunks).unpacked_bytes == len(big)
    assert (dest / "bin" / "codex").read_bytes() == big


def test_concatenated_gzip_members_and_zstd_frames(dest: Path, tmp_path: Path) -> None:
    raw = make_tar(package_entries())
    half = len(raw) // 2
    gz = gzip.compress(raw[:half]) + gzip.compress(raw[half:])
    assert_package_installed(dest, extract(gz, dest, spec("tar.gz")))
    other = tmp_path / "zst"
    other.mkdir()
    cctx = zstandard.ZstdCompressor(write_checksum=True)
    zst = cctx.compress(raw[:half]) + cctx.compress(raw[half:])
    assert_package_installed(other, extract(zst, other, spec("tar.zst")))


@pytest.mark.parametrize("fmt", ["tar.gz", "tar.zst", "tar"])
@pytest.mark.parametrize("keep", [0.0, 0.1, 0.5, 0.9, 0.999, -4, -1])
def test_truncated_stream_is_refused(dest: Path, fmt: ArchiveFormat, keep: float) -> None:
    data = good(fmt)
    cut = int(len(data) * keep) if keep >= 0 else len(data) + int(keep)
    with pytest.raises(VerificationError, match="archive is truncated or corrupt") as info:
        extract(data[:cut], dest, spec(fmt))
    assert type(info.value) is VerificationError


@pytest.mark.parametrize("fmt", ["tar.gz", "tar.zst"])
@pytest.mark.parametrize("where", [0.3, 0.6, 0.95])
def test_corrupted_bytes_are_refused(dest: Path, fmt: ArchiveFormat, where: float) -> None:
    data = bytearray(good(fmt))
    pos = int(len(data) * where)
    data[pos : pos + 8] = bytes(b ^ 0x5A for b in data[pos : pos + 8])
    with pytest.raises(VerificationError, match="archive is truncated or corrupt"):
        extract(bytes(data), dest, spec(fmt))


HTML = b"<!DOCTYPE html>\n<html><head><title>Rate limited</title></head><body>...</body></html>\n"


@pytest.mark.parametrize("fmt", ["tar.gz", "tar.zst", "tar"])
def test_html_page_instead_of_an_archive(dest: Path, fmt: ArchiveFormat) -> None:
    with pytest.raises(VerificationError, match="got an HTML/XML page, not an archive"):
        extract(HTML * 20, dest, spec(fmt))


@pytest.mark.parametrize("fmt", ["tar.gz", "tar.zst", "tar"])
def test_empty_download(dest: Path, fmt: ArchiveFormat) -> None:
    with pytest.raises(VerificationError, match="archive is truncated or corrupt"):
        extract(b"", dest, spec(fmt))


def _inflaters() -> list[object]:
    """zlib always, and python-isal when installed (the default inflater then)."""
    return [zlib] if INFLATE is zlib else [zlib, INFLATE]


def _gunzip_all(data: bytes, inflate: object, step: int = 7001) -> bytes:
    chunks = iter([data[i : i + step] for i in range(0, len(data), step)])
    return b"".join(gunzip(lambda: next(chunks, b""), inflate))  # type: ignore[arg-type]


@pytest.mark.parametrize("inflate", _inflaters(), ids=lambda m: m.__name__)  # type: ignore[attr-defined]
def test_gunzip_behaves_the_same_with_zlib_and_isal(inflate: object) -> None:
    one, two = binary(300_000, seed=3), b"second member " * 5000
    assert _gunzip_all(gzip.compress(one) + gzip.compress(two), inflate) == one + two
    whole = gzip.compress(one)
    with pytest.raises(VerificationError, match="ended early"):
        _gunzip_all(whole[:-5], inflate)
    with pytest.raises(VerificationError, match="bad gzip data"):
        _gunzip_all(whole + b"trailing garbage, not a gzip member", inflate)
    with pytest.raises(VerificationError, match="empty download"):
        _gunzip_all(b"", inflate)


@pytest.mark.parametrize("inflate", _inflaters(), ids=lambda m: m.__name__)  # type: ignore[attr-defined]
def test_gunzip_output_is_capped_per_chunk(inflate: object) -> None:
    bomb = gzip.compress(bytes(64 << 20))  # 64 MiB of zeros in ~64 KiB
    chunks = iter([bomb])
    sizes = [len(c) for c in gunzip(lambda: next(chunks, b""), inflate)]  # type: ignore[arg-type]
    assert sum(sizes) == 64 << 20 and max(sizes) <= 1 << 20


def test_unzstd_pushes_bounded_chunks_across_frames() -> None:
    bomb = zstandard.ZstdCompressor().compress(bytes(64 << 20))  # 64 MiB of zeros in ~2 KiB
    tail = zstandard.ZstdCompressor(write_checksum=True).compress(b"tail" * 1000)
    chunks = iter([bomb + tail])
    sizes: list[int] = []
    unzstd(lambda: next(chunks, b""), lambda chunk: sizes.append(len(chunk)))
    assert sum(sizes) == (64 << 20) + 4000 and max(sizes) <= 1 << 20

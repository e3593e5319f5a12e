"""Decompression bombs: the unpacked cap counts every byte inflated, wherever it lands (skipped
npm entries, data after the end marker, extra gzip members, extra zstd frames), and a bomb is
refused once the cap is crossed, not after inflating all of it."""

from __future__ import annotations

import itertools
import random
import tarfile
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest
import zstandard

from archive.helpers import NPM_PREFIX, OK, compress, file, make_tar, package_entries, spec
from codex_install.archive import ArchiveFormat, ExtractSpec, StreamExtractor
from codex_install.errors import UnsafeArchiveError

CAP = 4 << 20
_ZEROS = bytes(1 << 20)


def _member(fmt: ArchiveFormat, data: bytes) -> bytes:
    """One complete gzip member or zstd frame."""
    if fmt == "tar.zst":
        return zstandard.ZstdCompressor(level=1).compress(data)
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    return deflate.compress(data) + deflate.flush()


def _refuse(chunks: Iterable[bytes], dest: Path, extract_spec: ExtractSpec) -> tuple[str, int]:
    """The refusal message and how many compressed bytes were fed before it."""
    fed = 0
    with pytest.raises(UnsafeArchiveError) as info, StreamExtractor(dest, extract_spec) as ex:
        for chunk in chunks:
            ex.feed(chunk)
            fed += len(chunk)
        ex.finish()
    return str(info.value), fed


# Far more than the 4 MiB input pipe: feeding stops soon after the cap, or this never ends.
_ENDLESS = 1 << 20


@pytest.mark.parametrize("fmt", ["tar.gz", "tar.zst"])
def test_trailing_members_or_frames_count_and_stop_the_inflating_early(
    dest: Path, fmt: ArchiveFormat
) -> None:
    zeros = _member(fmt, _ZEROS)
    bomb = itertools.chain([_member(fmt, make_tar([OK]))], itertools.repeat(zeros, _ENDLESS))
    started = time.monotonic()
    message, fed = _refuse(bomb, dest, spec(fmt, max_unpacked=CAP))
    assert message.endswith(f"more than {CAP} bytes (after its end)")
    assert fed < 16 << 20
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("fmt", ["tar.gz", "tar.zst"])
def test_zeros_after_the_end_marker_count(dest: Path, fmt: ArchiveFormat) -> None:
    bomb = _member(fmt, make_tar(package_entries()) + _ZEROS * 64)
    message, _ = _refuse([bomb], dest, spec(fmt, max_unpacked=CAP))
    assert message.endswith(f"more than {CAP} bytes (after its end)")


def _npm_with_junk_first(fmt: ArchiveFormat) -> Iterator[bytes]:
    """An npm tarball whose endless junk entries outside the prefix come before the package."""
    rng = random.Random(0)
    if fmt == "tar.zst":
        zstd = zstandard.ZstdCompressor(level=1).compressobj()
        encode: Callable[[bytes], bytes] = zstd.compress
    else:
        encode = zlib.compressobj(1, zlib.DEFLATED, 31).compress
    for i in range(_ENDLESS):  # incompressible, so the compressed input outgrows the pipe
        yield encode(make_tar([file(f"package/junk/{i}", rng.randbytes(64 << 10))])[:-1024])


@pytest.mark.parametrize("fmt", ["tar.gz", "tar.zst"])
def test_npm_entries_outside_the_prefix_count_although_skipped(
    dest: Path, fmt: ArchiveFormat
) -> None:
    extract_spec = spec(fmt, strip_prefix=NPM_PREFIX, max_unpacked=CAP)
    message, fed = _refuse(_npm_with_junk_first(fmt), dest, extract_spec)
    assert f"more than {CAP} bytes" in message
    assert fed < 16 << 20
    assert list(dest.iterdir()) == []


def _header_only(name: str, size: int) -> bytes:
    """A tar header stating ``size`` bytes of data that never follow."""
    info = tarfile.TarInfo(name)
    info.size = size
    return info.tobuf(tarfile.PAX_FORMAT)


@pytest.mark.parametrize("name", ["package/huge", NPM_PREFIX + "codex-path/huge"])
def test_a_stated_size_past_the_cap_is_refused_before_its_data(dest: Path, name: str) -> None:
    data = compress(_header_only(name, 10 << 30), "tar.gz")
    message, _ = _refuse([data], dest, spec(strip_prefix=NPM_PREFIX, max_unpacked=CAP))
    assert message.endswith(f"more than {CAP} bytes (at entry {name!r})")


def test_an_archive_exactly_at_the_cap_still_extracts(dest: Path) -> None:
    raw = make_tar(package_entries())
    with StreamExtractor(dest, spec("tar", max_unpacked=len(raw))) as ex:
        ex.feed(raw)
        assert ex.finish().entrypoint.is_file()


def test_a_plain_tar_is_held_to_the_cap_too(dest: Path) -> None:
    raw = make_tar([OK]) + bytes(CAP)
    message, _ = _refuse([raw], dest, spec("tar", max_unpacked=CAP))
    assert message.endswith("(after its end)")


def test_the_default_cap_is_4_gib() -> None:
    assert spec().max_unpacked == 4 * 1024**3

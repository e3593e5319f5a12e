"""Streaming decompression of gzip and zstd, with truncation and garbage told apart from a
complete stream (zstd's decoder alone cannot: hence the frame walker)."""

from __future__ import annotations

import sys
import zlib
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Protocol

from codex_install.archive.spec import ArchiveFormat, corrupt


def _inflater_module() -> ModuleType:
    """ISA-L's inflate (python-isal) when it is installed: 1.7-2x stock zlib on the same bytes
    (bench/README.md); zlib otherwise. Both speak the same decompressobj API."""
    try:
        from isal import isal_zlib
    except ImportError:
        return zlib
    return isal_zlib


_INFLATE = _inflater_module()

# A chunk source: the next chunk of compressed bytes, b"" at the end of input.
Read = Callable[[], bytes]
# Where decompressed chunks go (it blocks while the consumer is behind).
Emit = Callable[[bytes], object]

_CHUNK = 1 << 20  # decompressed chunk size; big buffers keep per-chunk Python overhead negligible
# zlib copies the unconsumed input after every capped call; small slices keep that cheap.
_GZIP_SLICE = 256 << 10
_GZIP_WBITS = 31  # a gzip header and trailer around the deflate stream
_ZSTD_MAGIC = 0xFD2FB528
_ZSTD_SKIPPABLE = 0x184D2A50  # ..0x184D2A5F: skippable frames
_FCS_SIZES = (0, 2, 4, 8)
_DICT_SIZES = (0, 1, 2, 4)


def decompress(fmt: ArchiveFormat, read: Read, emit: Emit) -> None:
    """Pushes the plain tar bytes of a compressed archive (``fmt`` is "tar.gz" or "tar.zst")
    into ``emit``, at most 1 MiB at a time."""
    if fmt == "tar.zst":
        unzstd(read, emit)
        return
    for chunk in gunzip(read):
        emit(chunk)


class _Gunzip:
    """Inflates (possibly multi-member) gzip; output is capped per call so bombs stay small."""

    def __init__(self, inflate: ModuleType) -> None:
        self._zlib = inflate
        self._inflater = inflate.decompressobj(_GZIP_WBITS)
        self._start = b""

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        self._start = self._start or chunk[:64]
        view = memoryview(chunk)
        for pos in range(0, len(view), _GZIP_SLICE):
            yield from self._inflate(view[pos : pos + _GZIP_SLICE])

    def finish(self) -> Iterator[bytes]:
        try:
            tail = self._inflater.flush()
        except self._zlib.error as e:
            raise corrupt(f"bad gzip data ({e})", self._start) from e
        if tail:
            yield tail
        if not self._inflater.eof:
            detail = "gzip stream ended early" if self._start else "empty download"
            raise corrupt(detail, self._start)

    def _inflate(self, data: bytes | memoryview) -> Iterator[bytes]:
        while data:
            try:
                out = self._inflater.decompress(data, _CHUNK)
            except self._zlib.error as e:
                raise corrupt(f"bad gzip data ({e})", self._start) from e
            if out:
                yield out
            if not self._inflater.eof:
                data = self._inflater.unconsumed_tail
                continue
            data = self._inflater.unused_data
            if data:  # the next member of a concatenated gzip file
                self._inflater = self._zlib.decompressobj(_GZIP_WBITS)


def gunzip(read: Read, inflate: ModuleType = _INFLATE) -> Iterator[bytes]:
    """``inflate``: isal_zlib or zlib (the same API; tests run both)."""
    stream = _Gunzip(inflate)
    for chunk in iter(read, b""):
        yield from stream.feed(chunk)
    yield from stream.finish()


class ZstdFrameWalker:
    """Follows zstd frame and block headers over the compressed bytes, skipping contents.

    A zstd decoder waits quietly for the rest of a cut-off frame, and a stream cut right after
    a frame's header has decoded nothing yet; this tells a complete stream (every frame reached
    its last block and checksum) from a truncated one.
    """

    def __init__(self) -> None:
        self._want = 4
        self._header = bytearray()
        self._skip = 0
        self._on_header: Callable[[bytes], None] = self._magic
        self._checksum = 0
        self.frames = 0

    def update(self, data: bytes) -> None:
        pos, n = 0, len(data)
        while pos < n:
            if self._skip:
                step = min(self._skip, n - pos)
                self._skip -= step
                pos += step
                continue
            step = min(self._want - len(self._header), n - pos)
            self._header += data[pos : pos + step]
            pos += step
            if len(self._header) == self._want:
                header = bytes(self._header)
                self._header.clear()
                self._on_header(header)

    @property
    def complete(self) -> bool:
        return (
            self.frames > 0
            and self._on_header == self._magic
            and not self._header
            and not self._skip
        )

    @property
    def started(self) -> bool:
        """Whether any frame was seen or begun (an empty download is neither)."""
        return self.frames > 0 or bool(self._header)

    def _expect(self, want: int, handler: Callable[[bytes], None], skip: int = 0) -> None:
        self._want, self._on_header, self._skip = want, handler, skip

    def _magic(self, header: bytes) -> None:
        magic = int.from_bytes(header, "little")
        if magic == _ZSTD_MAGIC:
            self._expect(1, self._frame_descriptor)
        elif magic & 0xFFFFFFF0 == _ZSTD_SKIPPABLE:
            self._expect(4, self._skippable_size)
        else:
            raise corrupt("not a zstd stream", header if self.frames == 0 else b"")

    def _skippable_size(self, header: bytes) -> None:
        self._expect(4, self._magic, skip=int.from_bytes(header, "little"))

    def _frame_descriptor(self, header: bytes) -> None:
        fhd = header[0]
        if fhd & 0x08:
            raise corrupt("bad zstd frame header")
        single_segment = bool(fhd & 0x20)
        fcs = _FCS_SIZES[fhd >> 6] or (1 if single_segment else 0)
        self._checksum = 4 if fhd & 0x04 else 0
        rest = (0 if single_segment else 1) + _DICT_SIZES[fhd & 0x03] + fcs
        self._expect(3, self._block, skip=rest)

    def _block(self, header: bytes) -> None:
        value = int.from_bytes(header, "little")
        last, block_type, size = value & 1, (value >> 1) & 3, value >> 3
        if block_type == 3:
            raise corrupt("bad zstd block header")
        skip = 1 if block_type == 1 else size
        if last:
            self.frames += 1
            self._expect(4, self._magic, skip=skip + self._checksum)
        else:
            self._expect(3, self._block, skip=skip)


class _Decompressor(Protocol):
    """One zstd frame's decoder: ``compression.zstd.ZstdDecompressor`` (PEP 784) on 3.14+,
    ``backports.zstd``'s below: the same API."""

    @property
    def eof(self) -> bool: ...
    @property
    def needs_input(self) -> bool: ...
    @property
    def unused_data(self) -> bytes: ...
    def decompress(self, data: bytes, max_length: int = -1) -> bytes: ...


def _decode(
    frame: _Decompressor, data: bytes, emit: Emit, new: Callable[[], _Decompressor]
) -> _Decompressor:
    """Pushes what ``data`` decodes to, at most ``_CHUNK`` bytes at a time, across frame
    boundaries (a decoder ends with its frame; the next frame gets a new one); returns the
    decoder of the frame the next bytes belong to."""
    while True:
        out = frame.decompress(data, _CHUNK)
        data = b""
        if out:
            emit(out)
        if frame.eof:
            data = frame.unused_data
            frame = new()
            if not data:
                return frame
        elif frame.needs_input:
            return frame


def unzstd(read: Read, emit: Emit) -> None:
    """Network chunks go straight into the decoder, which pushes at most ``_CHUNK`` bytes at a
    time into ``emit``: a bomb never piles up in memory."""
    # Imported on first use: the CLI's cold start (`--version`, `--help`) loads no zstd stack.
    if sys.version_info >= (3, 14):
        from compression.zstd import ZstdDecompressor, ZstdError
    else:
        from backports.zstd import ZstdDecompressor, ZstdError

    walker = ZstdFrameWalker()
    frame: _Decompressor = ZstdDecompressor()
    try:
        for chunk in iter(read, b""):
            walker.update(chunk)  # first: an HTML page or garbage is named as such
            frame = _decode(frame, chunk, emit, ZstdDecompressor)
    except ZstdError as e:
        raise corrupt(f"bad zstd data ({e})") from e
    if not walker.complete:
        raise corrupt("zstd stream ended early" if walker.started else "empty download")

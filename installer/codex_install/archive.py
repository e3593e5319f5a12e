"""Safe, streaming extraction of Codex release archives into a staging directory (SPEC §5).

Bytes arrive in order through ``StreamExtractor.feed`` while they are downloaded and hashed.
Two worker threads overlap the work, like ``tar xzf`` overlaps gzip and tar::

    feed() ──▶ [compressed pipe] ──▶ decompress thread ──▶ [plain pipe] ──▶ tar thread ──▶ disk

Both pipes are bounded, so memory stays flat whatever the archive size. The tar reader is our
own (``tarfile`` only parses single header blocks): every member is checked by the pure
``_Admission`` rules *before* anything touches the disk, and the writer never follows a
symlink (``O_NOFOLLOW`` directory walk from the staging root, ``O_EXCL`` files).

Promoting the staging directory after the digest verifies is the caller's job; so is removing
it after a failure.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tarfile
import threading
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal

from .errors import (
    FilesystemError,
    UnsafeArchiveError,
    UsageError,
    VerificationError,
)
from .models import Layout

ArchiveFormat = Literal["tar.gz", "tar.zst", "tar"]

__all__ = [
    "ArchiveFormat",
    "ExtractResult",
    "ExtractSpec",
    "StreamExtractor",
    "archive_format",
    "extract_file",
]

_SUFFIXES: tuple[tuple[str, ArchiveFormat], ...] = (
    (".tar.gz", "tar.gz"),
    (".tgz", "tar.gz"),
    (".tar.zst", "tar.zst"),
    (".tzst", "tar.zst"),
    (".tar", "tar"),
)

_CHUNK = 1 << 20  # decompressed chunk size; big buffers keep per-chunk Python overhead negligible
_PIPE_LIMIT = 4 << 20  # bytes buffered per pipe before the writer side blocks
# zlib copies the unconsumed input after every capped call; small slices keep that cheap.
_GZIP_SLICE = 256 << 10
_MAX_META = 1 << 20  # pax / GNU long-name payloads are names, never megabytes
_BLOCK = 512
_MAX_MTIME = 1 << 33  # year 2242; anything else is junk we do not hand to utime()
_ZERO_BLOCK = bytes(_BLOCK)
_CORRUPT = "archive is truncated or corrupt"
_PACKAGE_DIRS = frozenset({"bin", "codex-path", "codex-resources"})
_PACKAGE_FILES = frozenset({"codex-package.json"})
_ENTRYPOINT = ("bin", "codex")


def archive_format(name: str) -> ArchiveFormat:
    """The archive format implied by a file name (``.tgz`` is what npm serves)."""
    lowered = name.lower()
    for suffix, fmt in _SUFFIXES:
        if lowered.endswith(suffix):
            return fmt
    raise UsageError(
        f"unsupported archive type: {name!r}", hint="expected .tar.zst, .tar.gz, .tgz or .tar"
    )


@dataclass(frozen=True)
class ExtractSpec:
    """What an archive must look like and how to lay it out in the staging directory."""

    format: ArchiveFormat
    layout: Layout
    target: str
    strip_prefix: str | None = None  # npm: "package/vendor/<T>/"; entries elsewhere are skipped
    max_unpacked: int = 4 * 1024**3


@dataclass(frozen=True)
class ExtractResult:
    files: int
    unpacked_bytes: int
    entrypoint: Path


# --------------------------------------------------------------------------------------------
# Pure member rules


Kind = Literal["file", "dir", "symlink", "hardlink", "device", "unsupported"]


@dataclass(frozen=True)
class Member:
    """One tar entry as the archive states it (pax / GNU long names already applied)."""

    name: str
    kind: Kind
    size: int = 0
    mode: int = 0o644
    linkname: str = ""
    mtime: int = 0


@dataclass(frozen=True)
class Planned:
    """What to do with an admitted member: its path relative to the staging root."""

    path: tuple[str, ...]
    kind: Kind
    size: int
    mode: int
    link: str = ""  # symlink target as stored, or hardlink source path joined with "/"


def _unsafe(name: str, problem: str) -> UnsafeArchiveError:
    return UnsafeArchiveError(f"unsafe archive entry {name!r}: {problem}")


def split_member_name(name: str) -> tuple[str, ...]:
    """The path components of an entry name; refuses absolute paths and ``..``."""
    if not name:
        raise _unsafe(name, "empty name")
    if "\0" in name:
        raise _unsafe(name, "NUL byte in name")
    if name.startswith("/"):
        raise _unsafe(name, "absolute path")
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        raise _unsafe(name, "'..' path component")
    return parts


def _relocate(parts: tuple[str, ...], prefix: tuple[str, ...]) -> tuple[str, ...] | None:
    """Re-root ``parts`` under ``prefix``; None when the entry lies outside it (skipped)."""
    if parts[: len(prefix)] != prefix:
        return None
    return parts[len(prefix) :]


def link_escapes(path: tuple[str, ...], target: str) -> bool:
    """Whether a symlink at ``path`` pointing to ``target`` leaves the root, read lexically."""
    if not target or target.startswith("/") or "\0" in target:
        return True
    depth = len(path) - 1
    for part in target.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


def _layout_path(member: Member, parts: tuple[str, ...], spec: ExtractSpec) -> tuple[str, ...]:
    """Map an in-archive path to its staging path, refusing anything outside the layout."""
    if spec.layout == "legacy":
        if parts == (f"codex-{spec.target}",) and member.kind == "file":
            return _ENTRYPOINT
        raise _unsafe(
            member.name,
            f"a legacy archive holds exactly one regular file named codex-{spec.target}",
        )
    top = parts[0]
    if len(parts) == 1 and top in _PACKAGE_FILES and member.kind == "file":
        return parts
    if top in _PACKAGE_DIRS and (len(parts) > 1 or member.kind == "dir"):
        return parts
    raise _unsafe(
        member.name,
        "outside the package layout (codex-package.json, bin/, codex-path/, codex-resources/)",
    )


@dataclass
class _Admission:
    """The pure half of extraction: decides, entry by entry, what may be written where.

    It remembers every path it admitted so it can refuse duplicates, paths through symlinks or
    files, hardlinks to anything but an earlier file, and an archive that unpacks too big.
    """

    spec: ExtractSpec
    entries: dict[tuple[str, ...], Kind] = field(default_factory=dict)
    implicit_dirs: set[tuple[str, ...]] = field(default_factory=set)
    symlinks: list[tuple[str, ...]] = field(default_factory=list)
    unpacked: int = 0
    files: int = 0

    def admit(self, member: Member) -> Planned | None:
        """The plan for ``member``, None to skip it; raises UnsafeArchiveError to refuse."""
        parts = split_member_name(member.name)
        if member.kind == "device":
            raise _unsafe(member.name, "device or fifo entries are not allowed")
        if member.kind == "unsupported":
            raise _unsafe(member.name, "unsupported entry type (sparse, multi-volume, ...)")
        if self.spec.strip_prefix is not None:
            relocated = _relocate(parts, split_member_name(self.spec.strip_prefix))
            if relocated is None:
                return None
            parts = relocated
        if not parts:
            if member.kind == "dir":
                return None  # "./" or the strip prefix itself: the staging root already exists
            raise _unsafe(member.name, "not a directory but names the archive root")
        path = _layout_path(member, parts, self.spec)
        self._check_parents(member.name, path)
        self._check_new(member.name, path, member.kind)
        link = self._check_link(member, path)
        if member.kind == "file":
            self._count(member.name, member.size)
        elif member.kind == "hardlink":
            self.files += 1
        self.entries[path] = "file" if member.kind == "hardlink" else member.kind
        if member.kind == "symlink":
            self.symlinks.append(path)
        for i in range(1, len(path)):
            self.implicit_dirs.add(path[:i])
        return Planned(path, member.kind, member.size, member.mode, link)

    def count_trailing(self, size: int) -> None:
        """Bytes after the end-of-archive marker still cost time; bound them the same way.
        Tar streams are whole 512-byte blocks, which catches a plain .tar cut in its padding."""
        if size % _BLOCK:
            raise _corrupt("tar stream does not end on a block boundary")
        if self.unpacked + size > self.spec.max_unpacked:
            raise UnsafeArchiveError(
                f"archive unpacks to more than {self.spec.max_unpacked} bytes (after its end)"
            )

    def check_complete(self) -> None:
        if self.entries.get(_ENTRYPOINT) != "file":
            what = f"codex-{self.spec.target}" if self.spec.layout == "legacy" else "bin/codex"
            raise UnsafeArchiveError(f"archive has no {what} regular file; not a Codex release")

    def _count(self, name: str, size: int) -> None:
        if self.unpacked + size > self.spec.max_unpacked:
            raise UnsafeArchiveError(
                f"archive unpacks to more than {self.spec.max_unpacked} bytes (at entry {name!r})"
            )
        self.unpacked += size
        self.files += 1

    def _check_parents(self, name: str, path: tuple[str, ...]) -> None:
        for i in range(1, len(path)):
            kind = self.entries.get(path[:i])
            if kind == "symlink":
                raise _unsafe(name, f"path goes through the symlink {'/'.join(path[:i])!r}")
            if kind is not None and kind != "dir":
                raise _unsafe(name, f"path goes through the file {'/'.join(path[:i])!r}")

    def _check_new(self, name: str, path: tuple[str, ...], kind: Kind) -> None:
        if path in self.entries:
            raise _unsafe(name, "duplicate entry")
        if path in self.implicit_dirs and kind != "dir":
            raise _unsafe(name, "duplicate entry (already a directory)")

    def _check_link(self, member: Member, path: tuple[str, ...]) -> str:
        if member.kind == "symlink":
            if link_escapes(path, member.linkname):
                raise _unsafe(
                    member.name, f"symlink to {member.linkname!r} points outside the archive"
                )
            return member.linkname
        if member.kind != "hardlink":
            return ""
        source = self._hardlink_source(member)
        if source is None or self.entries.get(source) != "file":
            raise _unsafe(
                member.name,
                f"hardlink to {member.linkname!r} is not an earlier file in the archive",
            )
        return "/".join(source)

    def _hardlink_source(self, member: Member) -> tuple[str, ...] | None:
        if member.linkname.startswith("/") or ".." in member.linkname.split("/"):
            raise _unsafe(
                member.name, f"hardlink to {member.linkname!r} points outside the archive"
            )
        parts = split_member_name(member.linkname)
        if self.spec.strip_prefix is not None:
            relocated = _relocate(parts, split_member_name(self.spec.strip_prefix))
            if not relocated:
                return None
            parts = relocated
        if self.spec.layout == "legacy":
            return None
        return parts


# --------------------------------------------------------------------------------------------
# Pipes between threads


class _Stopped(Exception):
    """Raised in a worker when another stage failed or the caller aborted."""


class _Pipe:
    """A bounded FIFO of byte chunks between one producer and one consumer thread."""

    def __init__(self, limit: int = _PIPE_LIMIT) -> None:
        self._cond = threading.Condition()
        self._items: deque[bytes] = deque()
        self._size = 0
        self._limit = limit
        self._closed = False
        self._stopped = False

    def put(self, item: bytes) -> None:
        if not item:
            return
        with self._cond:
            while self._size >= self._limit and not self._stopped:
                self._cond.wait()
            if self._stopped:
                raise _Stopped
            self._items.append(item)
            self._size += len(item)
            self._cond.notify_all()

    def get(self) -> bytes:
        """The next chunk, or b"" at the end of input."""
        with self._cond:
            while not self._items and not self._closed and not self._stopped:
                self._cond.wait()
            if self._stopped:
                raise _Stopped
            if not self._items:
                return b""
            item = self._items.popleft()
            self._size -= len(item)
            self._cond.notify_all()
            return item

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._items.clear()
            self._cond.notify_all()

    def chunks(self) -> Iterator[bytes]:
        while chunk := self.get():
            yield chunk


class _PipeReader:
    """File-like ``read(n)`` over a pipe, for zstandard's stream_reader; hands chunks over
    without copying when they fit."""

    def __init__(self, pipe: _Pipe, observe: Callable[[bytes], None]) -> None:
        self._pipe = pipe
        self._observe = observe
        self._chunk = b""
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        if self._pos >= len(self._chunk):
            self._chunk, self._pos = self._pipe.get(), 0
            self._observe(self._chunk)
        if self._pos == 0 and (size < 0 or size >= len(self._chunk)):
            out, self._chunk = self._chunk, b""
            return out
        end = len(self._chunk) if size < 0 else self._pos + size
        out = self._chunk[self._pos : end]
        self._pos += len(out)
        return out


# --------------------------------------------------------------------------------------------
# Decompression


def _corrupt(detail: str, start: bytes = b"") -> VerificationError:
    if start.lstrip()[:1] == b"<":
        detail = "got an HTML/XML page, not an archive"
    return VerificationError(f"{_CORRUPT}: {detail}")


def _gunzip(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Decompress (possibly multi-member) gzip; output capped per call so bombs stay small."""
    inflater = zlib.decompressobj(31)
    first = b""
    for chunk in chunks:
        first = first or chunk[:64]
        view = memoryview(chunk)
        for start in range(0, len(view), _GZIP_SLICE):
            data: bytes | memoryview = view[start : start + _GZIP_SLICE]
            while data:
                try:
                    out = inflater.decompress(data, _CHUNK)
                except zlib.error as e:
                    raise _corrupt(f"bad gzip data ({e})", first) from e
                if out:
                    yield out
                if inflater.eof:
                    data = inflater.unused_data
                    if data:
                        inflater = zlib.decompressobj(31)
                else:
                    data = inflater.unconsumed_tail
    try:
        tail = inflater.flush()
    except zlib.error as e:
        raise _corrupt(f"bad gzip data ({e})", first) from e
    if tail:
        yield tail
    if not inflater.eof:
        raise _corrupt("gzip stream ended early" if first else "empty download", first)


_ZSTD_MAGIC = 0xFD2FB528
_ZSTD_SKIPPABLE = 0x184D2A50  # ..0x184D2A5F: skippable frames
_FCS_SIZES = (0, 2, 4, 8)
_DICT_SIZES = (0, 1, 2, 4)


class ZstdFrameWalker:
    """Follows zstd frame and block headers over the compressed bytes, skipping contents.

    zstandard's stream_reader returns EOF quietly on a cut-off frame; this tells a complete
    stream (every frame reached its last block and checksum) from a truncated one.
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

    def _expect(self, want: int, handler: Callable[[bytes], None], skip: int = 0) -> None:
        self._want, self._on_header, self._skip = want, handler, skip

    def _magic(self, header: bytes) -> None:
        magic = int.from_bytes(header, "little")
        if magic == _ZSTD_MAGIC:
            self._expect(1, self._frame_descriptor)
        elif magic & 0xFFFFFFF0 == _ZSTD_SKIPPABLE:
            self._expect(4, self._skippable_size)
        else:
            raise _corrupt("not a zstd stream", header if self.frames == 0 else b"")

    def _skippable_size(self, header: bytes) -> None:
        self._expect(4, self._magic, skip=int.from_bytes(header, "little"))

    def _frame_descriptor(self, header: bytes) -> None:
        fhd = header[0]
        if fhd & 0x08:
            raise _corrupt("bad zstd frame header")
        single_segment = bool(fhd & 0x20)
        fcs = _FCS_SIZES[fhd >> 6] or (1 if single_segment else 0)
        self._checksum = 4 if fhd & 0x04 else 0
        rest = (0 if single_segment else 1) + _DICT_SIZES[fhd & 0x03] + fcs
        self._expect(3, self._block, skip=rest)

    def _block(self, header: bytes) -> None:
        value = int.from_bytes(header, "little")
        last, block_type, size = value & 1, (value >> 1) & 3, value >> 3
        if block_type == 3:
            raise _corrupt("bad zstd block header")
        skip = 1 if block_type == 1 else size
        if last:
            self.frames += 1
            self._expect(4, self._magic, skip=skip + self._checksum)
        else:
            self._expect(3, self._block, skip=skip)


def _unzstd(pipe: _Pipe) -> Iterator[bytes]:
    import zstandard  # lazy: keeps `codex-install --version` fast

    walker = ZstdFrameWalker()
    reader = _PipeReader(pipe, walker.update)
    decompressor = zstandard.ZstdDecompressor()
    try:
        stream = decompressor.stream_reader(
            reader,  # type: ignore[arg-type]  # any object with read() will do
            read_size=_CHUNK,
            read_across_frames=True,
            closefd=False,
        )
        with stream:
            while chunk := stream.read(_CHUNK):
                yield chunk
            while reader.read(_CHUNK):  # let the walker see everything past the last frame
                pass
    except zstandard.ZstdError as e:
        raise _corrupt(f"bad zstd data ({e})") from e
    if not walker.complete:
        raise _corrupt(
            "zstd stream ended early" if walker.frames or walker._header else "empty download"
        )


# --------------------------------------------------------------------------------------------
# Tar stream reading


class _Blocks:
    """Reads a tar byte stream from decompressed chunks; member data is handed out as
    memoryview slices of those chunks (no copies)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._view = memoryview(b"")
        self._pos = 0

    def _fill(self) -> bool:
        for chunk in self._chunks:
            self._view, self._pos = memoryview(chunk), 0
            return True
        return False

    def take(self, n: int) -> bytes:
        if len(self._view) - self._pos >= n:  # the common case: one header inside one chunk
            out = bytes(self._view[self._pos : self._pos + n])
            self._pos += n
            return out
        parts: list[bytes] = []
        for piece in self.pieces(n):
            parts.append(bytes(piece))
        return b"".join(parts)

    def pieces(self, n: int) -> Iterator[memoryview]:
        """Exactly ``n`` bytes, as views valid until the next call; truncation raises."""
        while n:
            if self._pos >= len(self._view) and not self._fill():
                raise _corrupt("tar stream ended inside an entry")
            step = min(n, len(self._view) - self._pos)
            yield self._view[self._pos : self._pos + step]
            self._pos += step
            n -= step

    def skip(self, n: int) -> None:
        for _ in self.pieces(n):
            pass

    def at_end(self) -> bool:
        return self._pos >= len(self._view) and not self._fill()

    def drain(self) -> int:
        count = len(self._view) - self._pos
        self._view, self._pos = memoryview(b""), 0
        for chunk in self._chunks:
            count += len(chunk)
        return count


def _padding(size: int) -> int:
    return -size % _BLOCK


_KINDS: dict[bytes, Kind] = {
    tarfile.REGTYPE: "file",
    tarfile.AREGTYPE: "file",
    tarfile.CONTTYPE: "file",
    tarfile.LNKTYPE: "hardlink",
    tarfile.SYMTYPE: "symlink",
    tarfile.DIRTYPE: "dir",
    tarfile.CHRTYPE: "device",
    tarfile.BLKTYPE: "device",
    tarfile.FIFOTYPE: "device",
}


def parse_pax(data: bytes) -> dict[str, str]:
    """Records of a pax extended header: ``"<len> <key>=<value>\\n"``."""
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data) and data[pos] != 0:
        space = data.find(b" ", pos)
        try:
            length = int(data[pos:space]) if space > pos else 0
        except ValueError:
            length = 0
        if length <= space - pos:
            raise _corrupt("malformed pax header")
        record = data[space + 1 : pos + length]
        if pos + length > len(data) or not record.endswith(b"\n") or b"=" not in record:
            raise _corrupt("malformed pax header")
        key, _, value = record[:-1].partition(b"=")
        records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


def _read_members(blocks: _Blocks) -> Iterator[tuple[Member, int]]:
    """Yields each member and the size of its data, which the caller must consume (padding
    is handled here). Returns at the end-of-archive marker."""
    pax: dict[str, str] = {}
    while True:
        header = blocks.take(_BLOCK)
        if header == _ZERO_BLOCK:
            return
        try:
            info = tarfile.TarInfo.frombuf(header, "utf-8", "surrogateescape")
        except tarfile.HeaderError as e:
            raise _corrupt(f"bad tar header ({e})", header) from e
        if info.size < 0:
            raise _corrupt("negative size in tar header")
        if info.type in (
            tarfile.XHDTYPE,
            tarfile.XGLTYPE,
            tarfile.GNUTYPE_LONGNAME,
            tarfile.GNUTYPE_LONGLINK,
        ):
            if info.size > _MAX_META:
                raise _corrupt("oversized tar extended header")
            payload = blocks.take(info.size)
            blocks.skip(_padding(info.size))
            if info.type == tarfile.XHDTYPE:
                pax.update(parse_pax(payload))
            elif info.type == tarfile.GNUTYPE_LONGNAME:
                pax["path"] = payload.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            elif info.type == tarfile.GNUTYPE_LONGLINK:
                pax["linkpath"] = payload.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            continue  # global (g) headers carry comments; names come from the entries themselves
        member = _member(info, pax)
        pax = {}
        size = member.size if member.kind == "file" else 0
        yield member, size
        blocks.skip(_padding(size))


def _member(info: tarfile.TarInfo, pax: dict[str, str]) -> Member:
    name = pax.get("path", info.name)
    kind = _KINDS.get(info.type, "unsupported")
    if any(key.startswith("GNU.sparse") for key in pax):
        kind = "unsupported"
    size = info.size
    if "size" in pax:
        try:
            size = int(pax["size"])
        except ValueError:
            size = -1
        if size < 0:
            raise _corrupt("malformed pax size")
    if kind == "file" and name.endswith("/") and info.type == tarfile.AREGTYPE:
        kind = "dir"
    mtime = int(info.mtime) if 0 <= info.mtime < _MAX_MTIME else 0
    return Member(name, kind, size, info.mode, pax.get("linkpath", info.linkname), mtime)


# --------------------------------------------------------------------------------------------
# Writing


class _Writer:
    """Creates admitted members under ``root`` without ever following a symlink."""

    def __init__(self, root: Path) -> None:
        try:
            self._root = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as e:
            raise FilesystemError(f"cannot open staging directory {root}: {e.strerror}") from e
        self._dirs: dict[tuple[str, ...], int] = {(): self._root}

    def close(self) -> None:
        for fd in self._dirs.values():
            os.close(fd)
        self._dirs.clear()

    def dir_fd(self, path: tuple[str, ...], mode: int = 0o755) -> int:
        fd = self._dirs.get(path)
        if fd is not None:
            return fd
        parent = self.dir_fd(path[:-1])
        with _os_errors(path):
            with contextlib.suppress(FileExistsError):
                os.mkdir(path[-1], mode, dir_fd=parent)
            flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
            fd = os.open(path[-1], flags, dir_fd=parent)
        self._dirs[path] = fd
        return fd

    def write_file(self, plan: Planned, mtime: int, data: Iterator[memoryview]) -> None:
        parent = self.dir_fd(plan.path[:-1])
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        with _os_errors(plan.path):
            fd = os.open(plan.path[-1], flags, 0o600, dir_fd=parent)
            try:
                for view in data:
                    while view:
                        view = view[os.write(fd, view) :]
                os.fchmod(fd, plan.mode & 0o755)
                os.utime(fd, (mtime, mtime))
            finally:
                os.close(fd)

    def make_dir(self, plan: Planned) -> None:
        fd = self.dir_fd(plan.path)
        with _os_errors(plan.path):
            os.fchmod(fd, (plan.mode & 0o755) | 0o700)  # we still write inside it

    def symlink(self, plan: Planned) -> None:
        parent = self.dir_fd(plan.path[:-1])
        with _os_errors(plan.path):
            os.symlink(plan.link, plan.path[-1], dir_fd=parent)

    def hardlink(self, plan: Planned) -> None:
        source = tuple(plan.link.split("/"))
        src_dir, dst_dir = self.dir_fd(source[:-1]), self.dir_fd(plan.path[:-1])
        with _os_errors(plan.path):
            os.link(
                source[-1],
                plan.path[-1],
                src_dir_fd=src_dir,
                dst_dir_fd=dst_dir,
                follow_symlinks=False,
            )


@contextlib.contextmanager
def _os_errors(path: tuple[str, ...]) -> Iterator[None]:
    """Translates OSErrors while writing one entry into our error tree."""
    name = "/".join(path)
    try:
        yield
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENOTDIR):
            raise _unsafe(name, "path goes through a symlink or file") from e
        raise FilesystemError(
            f"cannot write {name!r} in the staging directory: {e.strerror}"
        ) from e


def _check_symlinks(root: Path, links: list[tuple[str, ...]]) -> None:
    """Links are checked one by one as they arrive; chains (a link through another link) can
    only be judged once the tree is complete."""
    real_root = os.path.realpath(root)
    for link in links:
        resolved = os.path.realpath(os.path.join(root, *link))
        if os.path.commonpath([real_root, resolved]) != real_root:
            name = "/".join(link)
            raise _unsafe(name, "symlink chain resolves outside the archive")


def _extract(chunks: Iterator[bytes], dest: Path, spec: ExtractSpec) -> ExtractResult:
    admission = _Admission(spec)
    blocks = _Blocks(chunks)
    writer = _Writer(dest)
    try:
        for member, size in _read_members(blocks):
            plan = admission.admit(member)
            if plan is None:
                blocks.skip(size)
            elif plan.kind == "file":
                writer.write_file(plan, member.mtime, blocks.pieces(size))
            elif plan.kind == "dir":
                writer.make_dir(plan)
            elif plan.kind == "symlink":
                writer.symlink(plan)
            else:
                writer.hardlink(plan)
    finally:
        writer.close()
    admission.count_trailing(blocks.drain())
    admission.check_complete()
    _check_symlinks(dest, admission.symlinks)
    return ExtractResult(admission.files, admission.unpacked, dest / "bin" / "codex")


# --------------------------------------------------------------------------------------------
# The public pipeline


class StreamExtractor:
    """Extracts an archive fed chunk by chunk, in order, while it downloads.

    Decompression and untar run in two background threads. ``feed`` blocks only when the
    bounded pipe is full and raises promptly once extraction has failed; ``finish`` marks the
    end of input and returns the result or raises the extraction error; ``abort`` stops
    everything and never raises. As a context manager it aborts unless ``finish`` succeeded.
    """

    def __init__(self, dest: Path, spec: ExtractSpec) -> None:
        self._dest = dest
        self._spec = spec
        self._input = _Pipe()
        self._pipes = [self._input]
        self._error: BaseException | None = None
        self._result: ExtractResult | None = None
        self._lock = threading.Lock()
        self._done = False
        if spec.format == "tar":
            plain = self._input
        else:
            plain = _Pipe()
            self._pipes.append(plain)
        self._threads = [
            threading.Thread(target=self._untar, args=(plain,), daemon=True, name="codex-untar")
        ]
        if plain is not self._input:
            self._threads.append(
                threading.Thread(
                    target=self._decompress, args=(plain,), daemon=True, name="codex-decompress"
                )
            )
        for thread in self._threads:
            thread.start()

    def __enter__(self) -> StreamExtractor:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._done or exc is not None:
            self.abort()

    def feed(self, data: bytes) -> None:
        if self._done:
            raise RuntimeError("feed() after finish() or abort()")
        self._raise_failure()
        try:
            self._input.put(data if isinstance(data, bytes) else bytes(data))
        except _Stopped:
            self._raise_failure()
            raise RuntimeError("extractor stopped") from None

    def finish(self) -> ExtractResult:
        if self._done and self._result is not None:
            return self._result
        self._done = True
        self._input.close()
        self._join()
        self._raise_failure()
        if self._result is None:
            raise RuntimeError("extractor stopped without a result")
        return self._result

    def abort(self) -> None:
        self._done = True
        self._fail(None)
        self._join()

    def _join(self) -> None:
        for thread in self._threads:
            thread.join()

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise self._error

    def _fail(self, error: BaseException | None) -> None:
        with self._lock:
            if self._error is None and error is not None:
                self._error = error
        for pipe in self._pipes:
            pipe.stop()

    def _decompress(self, out: _Pipe) -> None:
        try:
            if self._spec.format == "tar.zst":
                chunks = _unzstd(self._input)
            else:
                chunks = _gunzip(self._input.chunks())
            for chunk in chunks:
                out.put(chunk)
            out.close()
        except _Stopped:
            pass
        except BaseException as e:  # handed to the caller's thread, never lost
            self._fail(e)

    def _untar(self, plain: _Pipe) -> None:
        try:
            self._result = _extract(plain.chunks(), self._dest, self._spec)
        except _Stopped:
            pass
        except BaseException as e:
            self._fail(e)


def extract_file(
    path: Path, dest: Path, spec: ExtractSpec, *, chunk_size: int = 1 << 20
) -> ExtractResult:
    """Extract a local archive (``--archive FILE``) with the same checks as a download."""
    try:
        source = open(path, "rb", buffering=0)  # noqa: SIM115 - closed below, fed in a loop
    except OSError as e:
        raise UsageError(f"cannot read archive {path}: {e.strerror}") from e
    with source, StreamExtractor(dest, spec) as extractor:
        while chunk := source.read(chunk_size):
            extractor.feed(chunk)
        return extractor.finish()

"""The vocabulary every archive module shares: formats, what to extract, what a tar entry is,
and the two errors an archive can earn (unsafe, or truncated/corrupt)."""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from codex_install.errors import UnsafeArchiveError, UsageError, VerificationError
from codex_install.models import Layout

ArchiveFormat = Literal["tar.gz", "tar.zst", "tar"]
Kind = Literal["file", "dir", "symlink", "hardlink", "device", "unsupported"]

BLOCK = 512  # tar streams are whole blocks of this size
ENTRYPOINT = ("bin", "codex")
MAX_UNPACKED = 4 * 1024**3
# Codex's package is 5 levels deep and holds a few dozen entries: these caps are generous, and
# they bound what one hostile entry (a 1 MiB pax path) or many (a wide tree) can cost.
MAX_NAME = 4096  # characters of an entry name or link target, as PATH_MAX
MAX_DEPTH = 32  # path components of an entry
MAX_ENTRIES = 65536
MAX_SYMLINK_HOPS = 40  # per resolution, as the kernel's SYMLOOP_MAX

_SUFFIXES: tuple[tuple[str, ArchiveFormat], ...] = (
    (".tar.gz", "tar.gz"),
    (".tgz", "tar.gz"),
    (".tar.zst", "tar.zst"),
    (".tzst", "tar.zst"),
    (".tar", "tar"),
)
_CORRUPT = "archive is truncated or corrupt"


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
    # Every decompressed byte counts: skipped entries, data after the end marker, extra
    # gzip members and zstd frames alike (tests inject a small cap).
    max_unpacked: int = MAX_UNPACKED


@dataclass(frozen=True)
class ExtractResult:
    files: int
    unpacked_bytes: int
    entrypoint: Path


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


def unsafe(name: str, problem: str) -> UnsafeArchiveError:
    return UnsafeArchiveError(f"unsafe archive entry {name!r}: {problem}")


def too_big(limit: int, where: str = "") -> UnsafeArchiveError:
    """Over the unpacked cap; ``where`` says at which point of the stream, in parentheses."""
    return UnsafeArchiveError(f"archive unpacks to more than {limit} bytes{where}")


# Out of fds, memory or name length while extracting: what an archive built to exhaust us earns.
_RESOURCE_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENAMETOOLONG})


def resource_exhausted(err: BaseException) -> UnsafeArchiveError | None:
    """The unsafe-archive error (exit 5) for a resource error raised while extracting — out of
    memory, recursion, file descriptors — or None for any other error."""
    if isinstance(err, OSError) and err.errno in _RESOURCE_ERRNOS:
        what = (err.strerror or "a resource").lower()
    elif isinstance(err, MemoryError):
        what = "out of memory"
    elif isinstance(err, RecursionError):
        what = "recursion too deep"
    else:
        return None
    return UnsafeArchiveError(f"unsafe archive: extracting it exhausted a resource ({what})")


def corrupt(detail: str, start: bytes = b"") -> VerificationError:
    """``start`` is the first bytes of the stream: an error page gets a clearer message."""
    if start.lstrip()[:1] == b"<":
        detail = "got an HTML/XML page, not an archive"
    return VerificationError(f"{_CORRUPT}: {detail}")

"""Safe, streaming extraction of Codex release archives into a staging directory (SPEC §5).

Bytes arrive in order through ``StreamExtractor.feed`` while they are downloaded and hashed.
Two worker threads overlap the work, like ``tar xzf`` overlaps gzip and tar::

    feed() ──▶ [compressed pipe] ──▶ decompress thread ──▶ [plain pipe] ──▶ tar thread ──▶ disk

Both pipes are bounded, so memory stays flat whatever the archive size. Every member the tar
reader yields is checked by the pure ``Admission`` rules *before* anything touches the disk,
and the writer never follows a symlink.

Promoting the staging directory after the digest verifies is the caller's job; so is removing
it after a failure.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from codex_install.archive.admission import Admission
from codex_install.archive.decompress import decompress
from codex_install.archive.spec import (
    ExtractResult,
    ExtractSpec,
    Member,
    Planned,
    resource_exhausted,
)
from codex_install.archive.tar import Blocks, read_members
from codex_install.archive.writer import Writer
from codex_install.errors import UsageError

_PIPE_LIMIT = 4 << 20  # bytes buffered per pipe before the writer side blocks


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
            if len(self._items) == 1:  # only an empty pipe has a consumer waiting on it
                self._cond.notify()

    def get(self) -> bytes:
        """The next chunk, or b"" at the end of input."""
        with self._cond:
            while not self._items and not self._closed and not self._stopped:
                self._cond.wait()
            if self._stopped:
                raise _Stopped
            if not self._items:
                return b""
            was_full = self._size >= self._limit
            item = self._items.popleft()
            self._size -= len(item)
            if was_full and self._size < self._limit:  # only a full pipe has a producer waiting
                self._cond.notify()
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


def _write(writer: Writer, blocks: Blocks, member: Member, plan: Planned, size: int) -> None:
    if plan.kind == "file":
        writer.write_file(plan, member.mtime, blocks.pieces(size))
    elif plan.kind == "dir":
        writer.make_dir(plan)
    elif plan.kind == "symlink":
        writer.symlink(plan)
    else:
        writer.hardlink(plan)


def _extract(chunks: Iterator[bytes], dest: Path, spec: ExtractSpec) -> ExtractResult:
    admission = Admission(spec)
    blocks = Blocks(chunks, spec.max_unpacked)
    writer = Writer(dest)
    try:
        for member, size in read_members(blocks):
            plan = admission.admit(member)
            blocks.reserve(size, member.name)
            if plan is None:
                blocks.skip(size)
            else:
                _write(writer, blocks, member, plan, size)
    finally:
        writer.close()
    admission.count_trailing(blocks.drain())
    admission.check_complete()
    admission.check_symlink_chains()
    return ExtractResult(admission.files, admission.unpacked, dest / "bin" / "codex")


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
        exhausted = resource_exhausted(error) if error is not None else None
        if exhausted is not None:
            exhausted.__cause__ = error
            error = exhausted
        with self._lock:
            if self._error is None and error is not None:
                self._error = error
        for pipe in self._pipes:
            pipe.stop()

    def _decompress(self, out: _Pipe) -> None:
        try:
            decompress(self._spec.format, self._input.get, out.put)
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

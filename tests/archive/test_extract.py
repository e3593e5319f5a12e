"""The threaded pipeline: good archives in any chunking, local files, abort and finish
(archive/extract.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from codex_install.archive import ArchiveFormat, ExtractResult, StreamExtractor, extract_file
from codex_install.archive import extract as extract_module
from codex_install.errors import (
    UnsafeArchiveError,
    UsageError,
)

from .helpers import (
    assert_package_installed,
    binary,
    build,
    extract,
    file,
    good,
    make_tar,
    no_worker_threads,
    package_entries,
    random_chunks,
    spec,
)


@pytest.mark.parametrize("fmt", ["tar.gz", "tar.zst", "tar"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_package_layout_in_random_chunks(dest: Path, fmt: ArchiveFormat, seed: int) -> None:
    data = build(package_entries(), fmt)
    result = extract(data, dest, spec(fmt), random_chunks(data, seed))
    assert_package_installed(dest, result)


@pytest.mark.parametrize("fmt", ["tar.gz", "tar.zst", "tar"])
def test_package_layout_one_byte_at_a_time(dest: Path, fmt: ArchiveFormat) -> None:
    data = build([file("bin/codex", b"#!/bin/sh\necho codex-cli 0.1\n", mode=0o755)], fmt)
    data_chunks = (data[i : i + 1] for i in range(len(data)))
    result = extract(data, dest, spec(fmt), data_chunks)
    assert result.files == 1
    assert (dest / "bin" / "codex").read_bytes().startswith(b"#!/bin/sh")


def test_extract_file_reads_a_local_archive(dest: Path, tmp_path: Path) -> None:
    archive = tmp_path / "codex-package.tar.zst"
    archive.write_bytes(build(package_entries(), "tar.zst"))
    result = extract_file(archive, dest, spec("tar.zst"), chunk_size=4096)
    assert_package_installed(dest, result)


def test_extract_file_missing_archive_is_a_usage_error(dest: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read archive"):
        extract_file(tmp_path / "nope.tar.gz", dest, spec())


def test_feed_raises_promptly_once_the_archive_is_refused(dest: Path) -> None:
    # The caller can get at most one pipe's worth ahead of the refusal (backpressure), however
    # the threads are scheduled: never the whole 12 MiB entry behind the refused one.
    chunk = 64 << 10
    data = build([file("/etc/evil"), file("codex-resources/big", binary(12 << 20))], "tar")
    fed = 0
    with (
        pytest.raises(UnsafeArchiveError, match="absolute path"),
        StreamExtractor(dest, spec("tar")) as ex,
    ):
        for i in range(0, len(data), chunk):
            ex.feed(data[i : i + chunk])
            fed += chunk
    assert fed <= extract_module._PIPE_LIMIT + 2 * chunk < len(data) // 2


@pytest.mark.parametrize("fmt", ["tar.gz", "tar.zst", "tar"])
def test_abort_mid_stream_never_raises_and_ends_the_threads(dest: Path, fmt: ArchiveFormat) -> None:
    data = good(fmt)
    ex = StreamExtractor(dest, spec(fmt))
    ex.feed(data[: len(data) // 2])
    ex.abort()
    ex.abort()
    assert no_worker_threads()


def test_abort_after_a_failure_never_raises(dest: Path) -> None:
    ex = StreamExtractor(dest, spec("tar"))
    with pytest.raises(UnsafeArchiveError):
        ex.feed(make_tar([file("/abs")]))
        ex.finish()
    ex.abort()


def test_abort_unblocks_a_producer_waiting_on_a_full_pipe(
    dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stalled disk must not hang the download: abort() from another thread wakes feed()."""
    stall = threading.Event()

    def stalled_extract(chunks: Iterator[bytes], *_: object) -> ExtractResult:
        stall.wait()
        for _chunk in chunks:
            pass
        raise AssertionError("unreachable: abort stops the pipe")

    monkeypatch.setattr(extract_module, "_extract", stalled_extract)
    ex = StreamExtractor(dest, spec("tar"))
    fed = threading.Semaphore(0)
    errors: list[BaseException] = []

    def produce() -> None:
        try:
            while True:
                ex.feed(bytes(1 << 20))
                fed.release()
        except BaseException as e:
            errors.append(e)

    producer = threading.Thread(target=produce)
    producer.start()
    for _ in range(extract_module._PIPE_LIMIT >> 20):  # the pipe fills, then feed() blocks
        assert fed.acquire(timeout=10)
    assert not fed.acquire(timeout=0.2)
    threading.Timer(0.2, stall.set).start()
    ex.abort()
    producer.join(timeout=10)
    assert not producer.is_alive()
    assert [type(e) for e in errors] == [RuntimeError]


def test_context_manager_aborts_on_exception(dest: Path) -> None:
    data = good("tar.gz")
    with pytest.raises(KeyError), StreamExtractor(dest, spec()) as ex:
        ex.feed(data[:1000])
        raise KeyError("download dropped")
    assert no_worker_threads()


def test_finish_twice_returns_the_same_result(dest: Path) -> None:
    data = good("tar.zst")
    with StreamExtractor(dest, spec("tar.zst")) as ex:
        ex.feed(data)
        first = ex.finish()
        assert ex.finish() == first
    with pytest.raises(RuntimeError):
        ex.feed(b"more")

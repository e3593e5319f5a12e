"""Streamed downloads: hash (and size-check) every byte as it arrives, hand it to a sink, retry
transient failures with backoff and resume with ``Range`` after a dropped connection."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from codex_install.errors import (
    FilesystemError,
    NetworkError,
    NotFoundError,
    RateLimitError,
    VerificationError,
)
from codex_install.netpolicy import (
    RETRYABLE_HTTP_STATUS,
    TLS_HINT,
    RetryPolicy,
    parse_retry_after,
    tls_verification_failed,
)

if TYPE_CHECKING:
    import httpx

CHUNK = 1 << 20
Sink = Callable[[bytes], object]
Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class Digests:
    size: int
    sha256: str
    sha512: str | None = None
    sha1: str | None = None


class _Hasher:
    def __init__(self, extra: Iterable[str]) -> None:
        self.size = 0
        self.sha256 = hashlib.sha256()
        self.extra = {name: hashlib.new(name) for name in extra}

    def update(self, data: bytes) -> None:
        self.size += len(data)
        self.sha256.update(data)
        for h in self.extra.values():
            h.update(data)

    def result(self) -> Digests:
        return Digests(
            size=self.size,
            sha256=self.sha256.hexdigest(),
            sha512=self.extra["sha512"].hexdigest() if "sha512" in self.extra else None,
            sha1=self.extra["sha1"].hexdigest() if "sha1" in self.extra else None,
        )


def _looks_like_html(head: bytes) -> bool:
    start = head.lstrip()[:15].lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<?xml"))


def _file_path(url: str) -> Path | None:
    parts = urlsplit(url)
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    return None


def download(
    client: httpx.Client | None,
    url: str,
    sink: Sink,
    *,
    expected_size: int | None = None,
    label: str | None = None,
    policy: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
    progress: Progress | None = None,
    extra_hashes: Iterable[str] = (),
    binary: bool = True,
) -> Digests:
    """Stream ``url`` into ``sink`` and return the digests of exactly the bytes delivered.

    A dropped connection resumes from the last byte received (``Range``); if the server ignores
    the range, the bytes already delivered are skipped, so the sink always sees one clean stream.
    """
    name = label or url.rsplit("/", 1)[-1]
    hasher = _Hasher(extra_hashes)
    local = _file_path(url)
    if local is not None:
        return _read_local(local, name, sink, hasher, expected_size, progress, binary)
    if client is None:
        raise NetworkError(f"no HTTP client to download {name}")

    import httpx

    attempt = 0
    connected_once = False
    last_error = "unknown error"
    while True:
        attempt += 1
        retry_after: float | None = None
        headers = {"Accept-Encoding": "identity"}
        if hasher.size:
            headers["Range"] = f"bytes={hasher.size}-"
        try:
            with client.stream("GET", url, headers=headers) as response:
                connected_once = True
                status = response.status_code
                if status in (404, 410):
                    raise NotFoundError(f"{name} not found at {_redact(url)} (HTTP {status})")
                if status in (403, 429) and response.headers.get("x-ratelimit-remaining") == "0":
                    raise RateLimitError(
                        f"rate limited while downloading {name} (HTTP {status})",
                        hint="set GITHUB_TOKEN or use --mirror / --source npm",
                    )
                if status in RETRYABLE_HTTP_STATUS:
                    retry_after = parse_retry_after(response.headers.get("retry-after"))
                    last_error = f"HTTP {status}"
                    raise _Retry()
                if status == 416 and hasher.size and hasher.size == expected_size:
                    return hasher.result()
                if status not in (200, 206):
                    raise NetworkError(
                        f"downloading {name} failed: HTTP {status} from {_redact(url)}"
                    )
                skip = _bytes_to_skip(response, status, hasher.size)
                total = _total_size(response, status) or expected_size
                if expected_size is not None and total is not None and total != expected_size:
                    raise VerificationError(
                        f"{name}: server says {total} bytes, release metadata says {expected_size}"
                    )
                for chunk in response.iter_raw():
                    if skip:
                        if len(chunk) <= skip:
                            skip -= len(chunk)
                            continue
                        chunk = chunk[skip:]
                        skip = 0
                    if binary and hasher.size == 0 and _looks_like_html(chunk[:512]):
                        raise VerificationError(
                            f"{name}: the server returned an HTML page instead of the file "
                            f"({_redact(url)})"
                        )
                    if expected_size is not None and hasher.size + len(chunk) > expected_size:
                        raise VerificationError(
                            f"{name}: received more than the expected {expected_size} bytes"
                        )
                    hasher.update(chunk)
                    sink(chunk)
                    if progress is not None:
                        progress(hasher.size, total)
                if expected_size is not None and hasher.size < expected_size:
                    last_error = f"connection closed after {hasher.size} of {expected_size} bytes"
                    raise _Retry()
                return hasher.result()
        except _Retry:
            pass
        except httpx.TimeoutException as err:
            last_error = f"timed out ({type(err).__name__})"
        except httpx.TransportError as err:
            last_error = _describe(err)
            if tls_verification_failed(err):
                raise NetworkError(
                    f"downloading {name} failed: {last_error}",
                    hint=TLS_HINT,
                    connection_level=True,
                ) from err
        if attempt >= policy.attempts:
            break
        sleep(policy.delay(attempt, retry_after))

    if expected_size is not None and 0 < hasher.size < expected_size:
        raise VerificationError(
            f"{name}: download truncated at {hasher.size} of {expected_size} bytes after "
            f"{attempt} attempts ({last_error})"
        )
    raise NetworkError(
        f"downloading {name} failed after {attempt} attempts: {last_error}",
        connection_level=not connected_once,
    )


class _Retry(Exception):
    pass


def _bytes_to_skip(response: httpx.Response, status: int, have: int) -> int:
    if not have:
        return 0
    if status == 206:
        start = _content_range_start(response.headers.get("content-range"))
        if start is None or start > have:
            raise NetworkError(f"server answered a resume with a bad Content-Range: {start}")
        return have - start
    return have  # the server ignored Range: skip what the sink already has


def _content_range_start(value: str | None) -> int | None:
    # "bytes 100-199/200"
    if not value or not value.startswith("bytes "):
        return None
    try:
        return int(value[6:].split("-", 1)[0])
    except ValueError:
        return None


def _total_size(response: httpx.Response, status: int) -> int | None:
    if status == 206:
        value = response.headers.get("content-range", "")
        tail = value.rsplit("/", 1)[-1]
        return int(tail) if tail.isascii() and tail.isdigit() else None
    length = response.headers.get("content-length")
    return int(length) if length and length.isascii() and length.isdigit() else None


def _read_local(
    path: Path,
    name: str,
    sink: Sink,
    hasher: _Hasher,
    expected_size: int | None,
    progress: Progress | None,
    binary: bool,
) -> Digests:
    try:
        with open(path, "rb") as f:
            total = expected_size
            while chunk := f.read(CHUNK):
                if binary and hasher.size == 0 and _looks_like_html(chunk[:512]):
                    raise VerificationError(f"{name}: {path} is an HTML page, not an archive")
                hasher.update(chunk)
                sink(chunk)
                if progress is not None:
                    progress(hasher.size, total)
    except FileNotFoundError as err:
        raise NotFoundError(f"{name} not found: {path}") from err
    except IsADirectoryError as err:
        raise NotFoundError(f"{name}: {path} is a directory") from err
    except PermissionError as err:  # it is there: a permission problem (exit 7), not a 404
        raise FilesystemError(f"{name}: cannot read {path}: permission denied") from err
    if expected_size is not None and hasher.size != expected_size:
        raise VerificationError(f"{name}: size {hasher.size} != expected {expected_size}")
    return hasher.result()


def fetch_bytes(
    client: httpx.Client | None,
    url: str,
    *,
    expected_size: int | None = None,
    label: str | None = None,
    policy: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
    limit: int = 16 << 20,
) -> tuple[bytes, Digests]:
    """Download a small file (SUMS, release JSON) into memory."""
    parts: list[bytes] = []
    size = 0

    def sink(data: bytes) -> None:
        nonlocal size
        size += len(data)
        if size > limit:
            raise VerificationError(f"{label or url}: larger than {limit} bytes")
        parts.append(data)

    digests = download(
        client,
        url,
        sink,
        expected_size=expected_size,
        label=label,
        policy=policy,
        sleep=sleep,
        binary=False,
    )
    return b"".join(parts), digests


def _describe(err: Exception) -> str:
    text = str(err) or type(err).__name__
    return text.splitlines()[0][:200]


def _redact(url: str) -> str:
    """Drop query strings (signed CDN URLs carry credentials in them)."""
    return url.split("?", 1)[0]

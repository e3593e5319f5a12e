"""Streamed downloads: hash (and size-check) every byte as it arrives, hand it to a sink, retry
transient failures through the one retry loop and resume with ``Range`` after a dropped
connection. Checking the digests against what was claimed is the caller's (``verify``)."""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
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
from codex_install.http.client import (
    TLS_HINT,
    first_line,
    proxy_used,
    redact,
    tls_verification_failed,
)
from codex_install.http.limits import (
    RELEASE_JSON_CAP,
    download_deadline,
    metadata_deadline,
    too_large,
)
from codex_install.http.retry import (
    RETRYABLE_HTTP_STATUS,
    Retryable,
    RetryPolicy,
    parse_retry_after,
    reset_note,
    retrying,
)
from codex_install.http.watchdog import DEADLINE, DeadlinePassed
from codex_install.models import Asset

if TYPE_CHECKING:
    import httpx

CHUNK = 1 << 20
Sink = Callable[[bytes], object]
Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class Digests:
    """What was delivered: its size and its hex digests (sha256 always, others on request)."""

    size: int
    sha256: str
    sha512: str | None = None
    sha1: str | None = None
    others: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def hexdigest(self, algorithm: str) -> str | None:
        """The hex digest for a hashlib name, when it was computed."""
        known = {"sha256": self.sha256, "sha512": self.sha512, "sha1": self.sha1}
        return known.get(algorithm) or self.others.get(algorithm)


class _Hasher:
    def __init__(self, extra: Iterable[str]) -> None:
        self.size = 0
        self.hashes = {name: hashlib.new(name) for name in ("sha256", *extra)}

    def update(self, data: bytes) -> None:
        self.size += len(data)
        for h in self.hashes.values():
            h.update(data)

    def result(self) -> Digests:
        hexes = {name: h.hexdigest() for name, h in self.hashes.items()}
        return Digests(
            size=self.size,
            sha256=hexes["sha256"],
            sha512=hexes.get("sha512"),
            sha1=hexes.get("sha1"),
            others=hexes,
        )


def _looks_like_html(head: bytes) -> bool:
    start = head.lstrip()[:15].lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<?xml"))


def _file_path(url: str, name: str) -> Path | None:
    try:
        parts = urlsplit(url)
    except ValueError as err:  # e.g. "http://[": no request can be made with it
        raise NetworkError(f"cannot download {name}: malformed URL {redact(url)!r}") from err
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    return None


@dataclass
class _Stream:
    """One download across its attempts: what the sink already has, and whether the server
    ever answered (a host that never did is a connection-level failure)."""

    url: str
    name: str
    sink: Sink
    hasher: _Hasher
    expected_size: int | None
    progress: Progress | None
    binary: bool
    seconds: float
    connected: bool = False
    proxy: str | None = None  # host:port of the proxy its requests go through, for messages

    def feed(self, chunk: bytes, total: int | None) -> None:
        if self.binary and self.hasher.size == 0 and _looks_like_html(chunk[:512]):
            raise VerificationError(
                f"{self.name}: the server returned an HTML page instead of the file "
                f"({redact(self.url)})"
            )
        if self.expected_size is not None and self.hasher.size + len(chunk) > self.expected_size:
            raise VerificationError(
                f"{self.name}: received more than the expected {self.expected_size} bytes"
            )
        self.deliver(chunk, total)

    def deliver(self, chunk: bytes, total: int | None) -> None:
        self.hasher.update(chunk)
        self.sink(chunk)
        if self.progress is not None:
            self.progress(self.hasher.size, total)

    def too_slow(self) -> NetworkError:
        return NetworkError(
            f"downloading {self.name} took longer than {self.seconds:g} s "
            f"({self.hasher.size} bytes received) from {redact(self.url)}",
            hint="a slow network: raise CODEX_INSTALL_TIMEOUT (seconds)",
        )

    def exhausted(self, attempts: int, last: Retryable) -> Exception:
        have, want = self.hasher.size, self.expected_size
        if want is not None and 0 < have < want:  # the network failed us, not the file: exit 4
            return NetworkError(
                f"{self.name}: download truncated at {have} of {want} bytes after "
                f"{attempts} attempts ({last.reason})"
            )
        return NetworkError(
            f"downloading {self.name} failed after {attempts} attempts: {last.reason}",
            connection_level=not self.connected,
        )


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
    seconds: float | None = None,
) -> Digests:
    """Stream ``url`` into ``sink`` and return the digests of exactly the bytes delivered.

    A dropped connection resumes from the last byte received (``Range``); if the server ignores
    the range, the bytes already delivered are skipped, so the sink always sees one clean stream.
    Each attempt, body included, gets ``seconds`` (default: ``download_deadline()``).
    """
    name = label or url.rsplit("/", 1)[-1]
    seconds = download_deadline() if seconds is None else seconds
    hasher = _Hasher(extra_hashes)
    stream = _Stream(url, name, sink, hasher, expected_size, progress, binary, seconds)
    local = _file_path(url, name)
    if local is not None:
        return _read_local(local, stream)
    if client is None:
        raise NetworkError(f"no HTTP client to download {name}")
    stream.proxy = proxy_used(client, url)
    return retrying(
        lambda _n: _attempt(client, stream), policy=policy, sleep=sleep, exhausted=stream.exhausted
    )


def _attempt(client: httpx.Client, stream: _Stream) -> Digests:
    import httpx  # heavy: only commands that go on the network pay for it

    headers = {"Accept-Encoding": "identity"}
    if stream.hasher.size:
        headers["Range"] = f"bytes={stream.hasher.size}-"
    # The whole attempt's deadline, headers included: one server trickling its status line
    # is as slow as one trickling its body.
    deadline = time.monotonic() + stream.seconds
    try:
        with client.stream(
            "GET", stream.url, headers=headers, extensions={DEADLINE: deadline}
        ) as response:
            stream.connected = True
            return _receive(response, stream, deadline)
    except DeadlinePassed as err:
        raise stream.too_slow() from err
    except httpx.TimeoutException as err:
        raise Retryable(f"timed out ({type(err).__name__})") from err
    except (httpx.TransportError, httpx.TooManyRedirects) as err:
        raise _transport_failure(err, stream) from err
    except httpx.InvalidURL as err:
        raise NetworkError(
            f"cannot download {stream.name}: malformed URL {redact(stream.url)!r}"
        ) from err


def _named(proxy: str | None) -> str:
    return f" {proxy}" if proxy else ""


def _transport_failure(err: Exception, stream: _Stream) -> Exception:
    """What a failed connection means: a retry, or (when no retry can help) exit 4 at once."""
    import httpx  # heavy: only commands that go on the network pay for it

    failed = f"downloading {stream.name} failed"
    if tls_verification_failed(err):
        return NetworkError(f"{failed}: {first_line(err)}", hint=TLS_HINT, connection_level=True)
    if isinstance(err, (httpx.UnsupportedProtocol, httpx.TooManyRedirects)):
        # A redirect to ftp:// or a redirect loop answers the same on every try.
        return NetworkError(f"{failed}: {first_line(err)} ({redact(stream.url)})")
    proxy = stream.proxy
    if proxy is None:
        return Retryable(first_line(err))
    if isinstance(err, httpx.ProxyError) and "407" in str(err):
        return NetworkError(
            f"{failed}: the proxy {proxy} wants credentials (HTTP 407)",
            hint="put them in the proxy URL (http://user:password@host:port)",
        )
    return Retryable(f"{first_line(err)} (through the proxy {proxy})")


def _receive(response: httpx.Response, stream: _Stream, deadline: float) -> Digests:
    status = response.status_code
    if _already_complete(response, stream):
        return stream.hasher.result()
    skip = _bytes_to_skip(response, status, stream.hasher.size)
    total = _total_size(response, status) or stream.expected_size
    if stream.expected_size is not None and total is not None and total != stream.expected_size:
        raise VerificationError(
            f"{stream.name}: server says {total} bytes, release metadata says "
            f"{stream.expected_size}"
        )
    raws = _within(response.iter_raw(), stream, deadline)
    for chunk in _coalesced(_skipping(raws, skip)):
        stream.feed(chunk, total)
    have, want = stream.hasher.size, stream.expected_size
    if want is not None and have < want:
        raise Retryable(f"connection closed after {have} of {want} bytes")
    return stream.hasher.result()


def _within(raws: Iterator[bytes], stream: _Stream, deadline: float) -> Iterator[bytes]:
    """The chunks until the attempt's deadline: a server trickling a byte every few seconds
    never trips the per-read timeout, and must not hold an install for hours."""
    for raw in raws:
        if time.monotonic() > deadline:
            raise stream.too_slow()
        yield raw


def _skipping(raws: Iterator[bytes], skip: int) -> Iterator[bytes]:
    for raw in raws:
        chunk, skip = raw[skip:], max(0, skip - len(raw))
        if chunk:
            yield chunk


def _coalesced(chunks: Iterator[bytes], size: int = CHUNK) -> Iterator[bytes]:
    """httpcore's 64 KiB reads joined into ``size`` pieces: one hand-off (and one thread wake-up
    downstream) per MiB. Unlike ``iter_raw(chunk_size=…)`` it still delivers what arrived before
    a dropped connection, so the resume starts at the last byte received."""
    pending: list[bytes] = []
    have = 0
    try:
        for chunk in chunks:
            pending.append(chunk)
            have += len(chunk)
            if have >= size:
                yield pending[0] if len(pending) == 1 else b"".join(pending)
                pending, have = [], 0
    except Exception:
        if pending:
            yield b"".join(pending)
        raise
    if pending:
        yield b"".join(pending)


def _already_complete(response: httpx.Response, stream: _Stream) -> bool:
    """Refuse or retry what is no file; True for a 416 to a resume that already has it all."""
    status = response.status_code
    url = redact(stream.url)
    if status in (404, 410):
        raise NotFoundError(f"{stream.name} not found at {url} (HTTP {status})")
    if status in (403, 429) and response.headers.get("x-ratelimit-remaining") == "0":
        # The token never goes to download hosts, so GITHUB_TOKEN would not help here.
        when = reset_note(response.headers.get("x-ratelimit-reset"), time.time())
        raise RateLimitError(
            f"rate limited while downloading {stream.name} (HTTP {status}){when}",
            hint="wait, or use --mirror / --source npm",
        )
    if status in RETRYABLE_HTTP_STATUS:
        raise Retryable(f"HTTP {status}", parse_retry_after(response.headers.get("retry-after")))
    have = stream.hasher.size
    if status == 416 and have and have == stream.expected_size:
        return True
    if status == 407:
        raise NetworkError(
            f"downloading {stream.name} failed: the proxy{_named(stream.proxy)} wants "
            "credentials (HTTP 407)",
            hint="put them in the proxy URL (http://user:password@host:port)",
        )
    if status not in (200, 206):
        raise NetworkError(f"downloading {stream.name} failed: HTTP {status} from {url}")
    return False


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


def _read_local(path: Path, stream: _Stream) -> Digests:
    name, hasher = stream.name, stream.hasher
    try:
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                if stream.binary and hasher.size == 0 and _looks_like_html(chunk[:512]):
                    raise VerificationError(f"{name}: {path} is an HTML page, not an archive")
                _held_to_size(stream, len(chunk), path)
                stream.deliver(chunk, stream.expected_size)
    except FileNotFoundError as err:
        raise NotFoundError(f"{name} not found: {path}") from err
    except IsADirectoryError as err:
        raise NotFoundError(f"{name}: {path} is a directory") from err
    except PermissionError as err:  # it is there: a permission problem (exit 7), not a 404
        raise FilesystemError(f"{name}: cannot read {path}: permission denied") from err
    if stream.expected_size is not None and hasher.size != stream.expected_size:
        raise VerificationError(f"{name}: size {hasher.size} != expected {stream.expected_size}")
    return hasher.result()


def _held_to_size(stream: _Stream, more: int, path: Path) -> None:
    # A file that grows (or is a device) must not be read past the size its metadata declared.
    want = stream.expected_size
    if want is not None and stream.hasher.size + more > want:
        raise VerificationError(f"{stream.name}: {path} is larger than the expected {want} bytes")


def fetch_bytes(
    client: httpx.Client | None,
    url: str,
    *,
    expected_size: int | None = None,
    label: str | None = None,
    policy: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
    limit: int = RELEASE_JSON_CAP,
    what: str = "the document",
) -> tuple[bytes, Digests]:
    """Download a small file (SUMS, release JSON) into memory, at most ``limit`` bytes of it
    (one of the caps in ``http.limits``), within ``metadata_deadline()``."""
    parts: list[bytes] = []
    size = 0

    def sink(data: bytes) -> None:
        nonlocal size
        size += len(data)
        if size > limit:
            raise VerificationError(too_large(f"{label or what}", redact(url), limit))
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
        seconds=metadata_deadline(),
    )
    return b"".join(parts), digests


def fetch_to_file(
    client: httpx.Client | None,
    asset: Asset,
    dest: Path,
    *,
    check: Callable[[Digests], object],
    extra_hashes: Iterable[str] = (),
    sleep: Callable[[float], None] = time.sleep,
) -> Digests:
    """Download ``asset`` next to ``dest``, ``check`` its digests (raising when they are not what
    was claimed), then rename it into place: never a half-written or unverified file at ``dest``."""
    tmp = dest.with_name(f".{dest.name}.part-{secrets.token_hex(4)}")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            digests = download(
                client,
                asset.url,
                f.write,
                expected_size=asset.size,
                label=asset.name,
                sleep=sleep,
                extra_hashes=extra_hashes,
            )
            f.flush()
            os.fsync(f.fileno())
        check(digests)
        os.replace(tmp, dest)
        return digests
    except OSError as err:
        raise FilesystemError(f"cannot write {dest}: {err.strerror or err}") from err
    finally:
        tmp.unlink(missing_ok=True)

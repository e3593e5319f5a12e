"""Streamed downloads: hash (and size-check) every byte as it arrives, hand it to a sink, retry
transient failures through the one retry loop and resume with ``Range`` after a dropped
connection. Checking the digests against what was claimed is the caller's (``verify``)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import unquote, urlsplit

from codex_install.errors import (
    CodexInstallError,
    FilesystemError,
    NetworkError,
    NotFoundError,
    VerificationError,
    shown_url,
)
from codex_install.http.classify import Failure, classify_error, classify_status, final_error
from codex_install.http.limits import CONNECT_ATTEMPTS
from codex_install.http.plan import Floor
from codex_install.http.retry import Retryable, RetryPolicy, retrying
from codex_install.http.watchdog import DEADLINE, DeadlinePassed
from codex_install.models import Asset

if TYPE_CHECKING:
    import httpx

    from codex_install.http.plan import NetworkPlan


class Network(Protocol):
    """What a download needs of ``http.network.Network`` (which imports this module)."""

    plan: NetworkPlan
    sleep: Callable[[float], None]

    def client(self) -> httpx.Client: ...
    def send(self, request: httpx.Request, seconds: float) -> httpx.Response: ...
    def proxy_for(self, url: str) -> str | None: ...


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
        raise NetworkError(f"cannot download {name}: malformed URL {shown_url(url)!r}") from err
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    return None


@dataclass
class _Stream:
    """One download across its attempts: what the sink already has, whether the server ever
    answered (a host that never did is a connection-level failure), and its stalls."""

    url: str
    name: str
    sink: Sink
    hasher: _Hasher
    expected_size: int | None
    progress: Progress | None
    binary: bool
    seconds: float
    floor: Floor
    connected: bool = False
    stalls: int = 0
    # host:port of the proxy its requests go through, for messages: asked only when one is
    # written (requests' reading of the proxy variables is an import a download does not need)
    proxy_of: Callable[[], str | None] = lambda: None

    @property
    def proxy(self) -> str | None:
        return self.proxy_of()

    def feed(self, chunk: bytes, total: int | None) -> None:
        if self.binary and self.hasher.size == 0 and _looks_like_html(chunk[:512]):
            raise VerificationError(
                f"{self.name}: the server returned an HTML page instead of the file "
                f"({shown_url(self.url)})"
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
            f"({self.hasher.size} bytes received) from {shown_url(self.url)}",
            hint="a slow network: raise CODEX_INSTALL_TIMEOUT (seconds)",
        )

    def final(self, failure: Failure) -> CodexInstallError | None:
        """The shared words for a failure no retry is for (http.classify)."""
        return final_error(failure, self.name, self.url, seconds=self.seconds, proxy=self.proxy)

    def stalled(self) -> Exception:
        """The first stall is resumed once (``Range``), the second ends the download."""
        self.stalls += 1
        floor = self.floor
        what = f"under {floor.bytes_per_s} bytes/s for {floor.seconds:g} s"
        if self.stalls == 1:
            return Retryable(f"stalled ({what})")
        return NetworkError(
            f"downloading {self.name} stalled: {what}, twice ({self.hasher.size} bytes "
            f"received) from {shown_url(self.url)}",
            hint="a slow or stuck network; try again later",
        )

    def exhausted(self, attempts: int, last: Retryable) -> Exception:
        have, want = self.hasher.size, self.expected_size
        if want is not None and 0 < have < want:  # the network failed us, not the file: exit 4
            return NetworkError(
                f"{self.name}: download truncated at {have} of {want} bytes after "
                f"{attempts} attempts ({last.reason})"
            )
        via = f" (through the proxy {self.proxy})" if self.proxy and not last.answered else ""
        return NetworkError(
            f"downloading {self.name} failed after {attempts} attempts: {last.reason}{via}",
            connection_level=not last.answered,
        )


def download(
    net: Network | None,
    url: str,
    sink: Sink,
    *,
    expected_size: int | None = None,
    label: str | None = None,
    policy: RetryPolicy = RetryPolicy(),
    progress: Progress | None = None,
    extra_hashes: Iterable[str] = (),
    binary: bool = True,
    sleep: Callable[[float], None] | None = None,
) -> Digests:
    """Stream ``url`` into ``sink`` and return the digests of exactly the bytes delivered.

    A dropped connection resumes from the last byte received (``Range``); if the server ignores
    the range, the bytes already delivered are skipped, so the sink always sees one clean stream.
    Each attempt, body included, gets the plan's download deadline; a transfer under its floor
    speed is resumed once, then given up.
    """
    name = label or url.rsplit("/", 1)[-1]
    hasher = _Hasher(extra_hashes)
    local = _file_path(url, name)
    if local is not None:
        stream = _Stream(url, name, sink, hasher, expected_size, progress, binary, 0.0, Floor())
        return _read_local(local, stream)
    if net is None:
        raise NetworkError(f"no network to download {name}")
    plan = net.plan
    stream = _Stream(
        url, name, sink, hasher, expected_size, progress, binary, plan.download_s, plan.floor
    )
    stream.proxy_of = lambda: net.proxy_for(url)
    return retrying(
        lambda _n: _attempt(net, stream),
        policy=policy,
        sleep=sleep or net.sleep,
        exhausted=stream.exhausted,
        connect_attempts=CONNECT_ATTEMPTS,
    )


def _attempt(net: Network, stream: _Stream) -> Digests:
    import httpx  # heavy: only commands that go on the network pay for it

    headers = {"Accept-Encoding": "identity"}
    if stream.hasher.size:
        headers["Range"] = f"bytes={stream.hasher.size}-"
    # The whole attempt's deadline, headers included: one server trickling its status line
    # is as slow as one trickling its body. Each read waits at most the floor's window.
    deadline = time.monotonic() + stream.seconds
    client = net.client()
    read = min(stream.floor.seconds, stream.seconds)
    try:
        request = client.build_request(
            "GET",
            stream.url,
            headers=headers,
            timeout=httpx.Timeout(read, connect=min(net.plan.connect_s, read)),
            extensions={DEADLINE: deadline},
        )
        with contextlib.closing(net.send(request, stream.seconds)) as response:
            stream.connected = True
            return _receive(response, stream, deadline)
    except DeadlinePassed as err:
        raise stream.too_slow() from err
    except (httpx.HTTPError, httpx.InvalidURL) as err:
        raise _transport_failure(err, stream) from err


def _transport_failure(err: Exception, stream: _Stream) -> Exception:
    """What a failed request means: a retry, or (when no retry can help) the error at once."""
    import httpx  # loaded: one of its requests failed

    if isinstance(err, httpx.ReadTimeout) and stream.connected:
        return stream.stalled()  # nothing at all for the floor's whole window
    failure = classify_error(err)
    if failure.kind == "bad_url":  # a URL from a server (or a redirect): no usage error of ours
        failure = replace(failure, kind="redirect")
    return stream.final(failure) or Retryable(
        failure.detail, answered=stream.connected or failure.answered
    )


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


def _within(
    raws: Iterator[bytes],
    stream: _Stream,
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[bytes]:
    """The chunks until the attempt's deadline, while they come faster than the floor: a
    server trickling a byte every few seconds never trips the per-read timeout, and must not
    hold an install for its whole deadline."""
    floor = stream.floor
    window_start, window_bytes = clock(), 0
    for raw in raws:
        now = clock()
        if now > deadline:
            raise stream.too_slow()
        window_bytes += len(raw)
        if now - window_start >= floor.seconds:
            if window_bytes < floor.bytes_per_s * (now - window_start):
                raise stream.stalled()
            window_start, window_bytes = now, 0
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
    have = stream.hasher.size
    if status == 416 and have and have == stream.expected_size:
        return True
    failure = classify_status(status, response.headers)
    if failure is None:
        return False
    if failure.retryable:
        raise Retryable(failure.detail, failure.retry_after)
    # The token never goes to download hosts: a rate limit here says no word of GITHUB_TOKEN.
    raise stream.final(failure) or NetworkError(
        f"downloading {stream.name} failed: HTTP {status} from {shown_url(stream.url)}"
    )


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


def fetch_to_file(
    net: Network | None,
    asset: Asset,
    dest: Path,
    *,
    check: Callable[[Digests], object],
    extra_hashes: Iterable[str] = (),
    sleep: Callable[[float], None] | None = None,
) -> Digests:
    """Download ``asset`` next to ``dest``, ``check`` its digests (raising when they are not what
    was claimed), then rename it into place: never a half-written or unverified file at ``dest``."""
    tmp = dest.with_name(f".{dest.name}.part-{secrets.token_hex(4)}")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            digests = download(
                net,
                asset.url,
                f.write,
                expected_size=asset.size,
                label=asset.name,
                extra_hashes=extra_hashes,
                sleep=sleep,
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

"""The distribution API calls codex-install makes, over the project's httpx client (whose auth
flow, :mod:`.auth`, answers the registry's challenges): tag → digest with ``HEAD``, manifests by
digest (checked, and cached by digest), the tag list, and the push side — blobs (``HEAD`` first,
a cross-repository mount where offered, else one monolithic upload) and manifests."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from codex_install.errors import FilesystemError, NetworkError, VerificationError, shown_url
from codex_install.fs import (
    UnreadableFileError,
    atomic_write_text,
    make_dirs,
    ours_alone,
    read_regular,
)
from codex_install.http.classify import Failure, classify_error, classify_status
from codex_install.http.limits import (
    DEFAULT_DEADLINE_S,
    DOWNLOAD_DEADLINE_S,
    read_capped,
    too_large,
)
from codex_install.http.retry import NO_RETRY, RetryPolicy
from codex_install.http.watchdog import DEADLINE, DeadlinePassed
from codex_install.sources.oci import artifact
from codex_install.sources.oci.reference import Reference

if TYPE_CHECKING:
    import httpx

TAG_LIST_CAP = 4 << 20
ERROR_BODY_CAP = 64 << 10
MAX_TAG_PAGES = 50  # of 100: Harbor and others refuse larger pages
UPLOAD_CHUNK = 1 << 20


@dataclass(frozen=True)
class DigestCache:
    """Manifests by digest: content-addressed, so whatever is read back is checked against its
    name; and, as every file read back in place of a network answer, used only when it and its
    dir are ours alone (``trusted``: ``fs.ours_alone``). Made private: the dir 0700, files 0600."""

    root: Path | None
    trusted: Callable[[Path], bool] = ours_alone

    def get(self, digest: str) -> bytes | None:
        if self.root is None or not artifact.is_digest(digest):
            return None
        path = self.root / digest.replace(":", "-")
        if not self.trusted(path):
            return None
        try:
            body = read_regular(path, artifact.MANIFEST_CAP)
        except UnreadableFileError:
            return None
        return body if body is not None and artifact.digest_of(body) == digest else None

    def put(self, digest: str, body: bytes) -> None:
        if self.root is None or not artifact.is_digest(digest):
            return
        try:
            make_dirs(self.root, 0o700)
            text = body.decode("utf-8")
            atomic_write_text(self.root / digest.replace(":", "-"), text, 0o600, durable=False)
        except (OSError, UnicodeDecodeError, FilesystemError):
            pass  # a cache: the next run asks the registry again


@dataclass
class Counts:
    """What a push did, for the summary (and the test that a re-push uploads nothing)."""

    uploaded: int = 0
    mounted: int = 0
    present: int = 0
    uploaded_bytes: int = 0


@dataclass
class Registry:
    client: httpx.Client
    reference: Reference
    cache: DigestCache = field(default_factory=lambda: DigestCache(None))
    policy: RetryPolicy = field(default_factory=lambda: RetryPolicy(attempts=4))
    sleep: Callable[[float], None] = time.sleep
    counts: Counts = field(default_factory=Counts)
    # The plan's deadlines: (one metadata request, one blob upload)
    seconds: tuple[float, float] = (DEFAULT_DEADLINE_S, DOWNLOAD_DEADLINE_S)

    # --- reading -------------------------------------------------------------------------

    def tag_digest(self, tag: str) -> str | None:
        """The digest ``tag`` points at (one HEAD), or None when there is no such tag."""
        url = self.reference.manifest_url(tag)
        found = self._call(
            "HEAD", url, {"Accept": artifact.ACCEPT}, what=f"tag {tag}", ok=(200, 404)
        )
        if found.status == 404:
            return None
        digest = found.headers.get("docker-content-digest")
        if artifact.is_digest(digest):
            return digest
        # A registry that does not say (or says it in another algorithm, or garbles it): the
        # manifest itself, and its sha256 computed here.
        body = self._call("GET", url, {"Accept": artifact.ACCEPT}, what=f"tag {tag}").body
        digest = artifact.digest_of(body)
        self.cache.put(digest, body)
        return digest

    def manifest(self, digest: str, what: str) -> bytes:
        """The manifest (or index) ``digest`` names, its bytes checked against the digest."""
        cached = self.cache.get(digest)
        if cached is not None:
            return cached
        url = self.reference.manifest_url(digest)
        body = self._call("GET", url, {"Accept": artifact.ACCEPT}, what=what).body
        if artifact.digest_of(body) != digest:
            raise VerificationError(
                f"registry {self.reference.host} answered {what} with bytes that are not "
                f"{digest[:19]}…; refusing them"
            )
        self.cache.put(digest, body)
        return body

    def blob(self, digest: str, what: str, cap: int) -> bytes:
        """A small blob (the SUMS file), at most ``cap`` bytes, checked against its digest."""
        body = self._call("GET", self.reference.blob_url(digest), {}, what=what, cap=cap).body
        if artifact.digest_of(body) != digest:
            raise VerificationError(
                f"{what}: registry {self.reference.host} answered bytes that are not "
                f"{digest[:19]}…; refusing them"
            )
        return body

    def tags(self) -> list[str]:
        """Every tag of the repository (the API pages with ``Link``); none when it does not
        exist."""
        tags: list[str] = []
        url: str | None = self.reference.url("tags/list?n=100")
        for _ in range(MAX_TAG_PAGES):
            if url is None:
                break
            got = self._call("GET", url, {}, what="the tag list", cap=TAG_LIST_CAP, ok=(200, 404))
            if got.status == 404:  # no such repository (yet): no tags
                break
            data = artifact.load(got.body, f"the tag list of {self.reference.shown}")
            found = data.get("tags")
            tags += [t for t in found if isinstance(t, str)] if isinstance(found, list) else []
            url = _next_page(self.reference, got.headers.get("link"))
        return tags

    # --- writing -------------------------------------------------------------------------

    def has_blob(self, digest: str) -> bool:
        return self.blob_size(digest) is not None

    def blob_size(self, digest: str) -> int | None:
        """The size of the blob ``digest`` names (one HEAD), None when there is none."""
        url = self.reference.blob_url(digest)
        found = self._call("HEAD", url, {}, what=f"blob {digest[:19]}", ok=(200, 404))
        length = found.headers.get("content-length", "")
        if found.status == 404:
            return None
        return int(length) if length.isascii() and length.isdigit() else -1

    def push_blob(self, data: bytes | Path, digest: str, size: int, mount_from: str | None) -> None:
        """Make the blob present: already there, mounted from ``mount_from``, or uploaded."""
        if self.has_blob(digest):
            self.counts.present += 1
            return
        if isinstance(data, Path) and not data.exists():  # a blob HEAD found, gone since
            raise NetworkError(
                f"blob {digest[:19]}… left {self.reference.shown} during the sync; run it again"
            )
        start = self.reference.url("blobs/uploads/")
        if mount_from and mount_from != self.reference.repository:
            started = self._call(
                "POST",
                f"{start}?mount={digest}&from={mount_from}",
                {"Content-Length": "0"},
                what=f"blob {digest[:19]}… (a mount)",
                ok=(201, 202),
            )
            if started.status == 201:
                self.counts.mounted += 1
                return
        else:
            started = self._call(
                "POST", start, {"Content-Length": "0"}, what=f"blob {digest[:19]}…", ok=(202,)
            )
        location = started.headers.get("location")
        if not location:
            raise NetworkError(f"registry {self.reference.host} started an upload with no Location")
        self._upload(self._absolute(location), data, digest, size)
        self.counts.uploaded += 1
        self.counts.uploaded_bytes += size

    def _upload(self, location: str, data: bytes | Path, digest: str, size: int) -> None:
        sep = "&" if "?" in location else "?"
        url = f"{location}{sep}digest={digest}"
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        # Not retried: an upload session is spent once its PUT has begun.
        self._call(
            "PUT", url, headers, what=f"blob {digest[:19]}…", ok=(201,), body=data, retry=False
        )

    def has_manifest(self, digest: str) -> bool:
        url = self.reference.manifest_url(digest)
        got = self._call("HEAD", url, {"Accept": artifact.ACCEPT}, what="a manifest", ok=(200, 404))
        return got.status == 200

    def put_manifest(self, reference: str, document: artifact.Document) -> None:
        url = self.reference.manifest_url(reference)
        headers = {"Content-Type": document.media_type}
        got = self._call(
            "PUT", url, headers, what=f"manifest {reference}", ok=(201,), body=document.body
        )
        echoed = got.headers.get("docker-content-digest")
        if echoed and echoed != document.digest:
            raise NetworkError(
                f"registry {self.reference.host} stored manifest {reference} as {echoed[:19]}…, "
                f"not {document.digest[:19]}…"
            )

    # --- one request ---------------------------------------------------------------------

    def _absolute(self, location: str) -> str:
        if location.startswith("/"):
            return self.reference.origin + location
        if location.startswith(("http://", "https://")):
            return location
        raise NetworkError(f"registry {self.reference.host} gave an unusable upload Location")

    def _call(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        *,
        what: str,
        ok: tuple[int, ...] = (200,),
        cap: int = artifact.MANIFEST_CAP,
        body: bytes | Path | None = None,
        retry: bool = True,
    ) -> _Answer:
        """One request through the project's one classifier and retry loop; a failure in the
        words every request shares, naming the registry."""
        from codex_install.http.network import Failed, failure_error, retry_request

        seconds = self.seconds[1] if isinstance(body, Path) else self.seconds[0]
        call = _Call(method, url, headers, what, ok, cap, body, seconds)
        try:
            answer: _Answer = retry_request(
                lambda _n: self._once(call), self.policy if retry else NO_RETRY, self.sleep
            )
        except Failed as err:
            raise failure_error(
                err,
                what,
                url,
                seconds=seconds,
                source=f"registry {self.reference.shown}",
                verb="fetch" if method in ("GET", "HEAD") else "push",
            ) from err
        return answer

    def _once(self, call: _Call) -> _Answer:
        import httpx

        from codex_install.http.deadline import send  # the watchdog, as for every request
        from codex_install.http.network import retry_or_fail

        deadline = time.monotonic() + call.seconds
        content = _file_chunks(call.body) if isinstance(call.body, Path) else call.body
        answered = False
        try:
            request = self.client.build_request(
                call.method,
                call.url,
                headers=call.headers,
                content=content,
                extensions={DEADLINE: deadline},
            )
            with contextlib.closing(send(self.client, request, call.seconds)) as response:
                answered = True
                if response.status_code not in call.ok:
                    raise retry_or_fail(_status_failure(response, deadline), answered=True)
                data = b""
                if call.method == "GET":
                    data = read_capped(
                        response.iter_bytes(),
                        call.cap,
                        over_cap=lambda: NetworkError(
                            too_large(call.what, shown_url(call.url), call.cap)
                        ),
                        deadline=deadline,
                        past_deadline=lambda: DeadlinePassed(call.seconds),
                    )
                return _Answer(response.status_code, dict(response.headers), data)
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, DeadlinePassed) as err:
            raise retry_or_fail(classify_error(err), answered=answered) from err


@dataclass(frozen=True)
class _Call:
    method: str
    url: str
    headers: dict[str, str]
    what: str
    ok: tuple[int, ...]
    cap: int
    body: bytes | Path | None
    seconds: float


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def _file_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while chunk := f.read(UPLOAD_CHUNK):
            yield chunk


def _status_failure(response: httpx.Response, deadline: float) -> Failure:
    """What a status the call did not expect means, the registry's error code (from the start
    of its error body) included."""
    import httpx

    body = b""
    if response.request.method != "HEAD":
        with contextlib.suppress(ValueError, httpx.HTTPError):  # only decoration for a message
            body = read_capped(
                response.iter_bytes(),
                ERROR_BODY_CAP,
                over_cap=ValueError,
                deadline=deadline,
                past_deadline=ValueError,
            )
    status = response.status_code
    failure = classify_status(status, response.headers, body=body)
    return failure or Failure("status", f"HTTP {status}", status)  # a 2xx the call does not take


def _next_page(reference: Reference, link: str | None) -> str | None:
    """The next page of a list from an RFC 5988 ``Link: </v2/…?last=x>; rel="next"``; only on
    the same registry."""
    if not link or 'rel="next"' not in link:
        return None
    target = link.partition("<")[2].partition(">")[0]
    if target.startswith("/v2/"):
        return reference.origin + target
    return None

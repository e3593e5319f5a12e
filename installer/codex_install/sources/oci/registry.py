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

from codex_install.errors import (
    FilesystemError,
    NetworkError,
    NotFoundError,
    VerificationError,
    printable,
)
from codex_install.fs import UnreadableFileError, atomic_write_text, make_dirs, read_regular
from codex_install.http.classify import TLS_HINT
from codex_install.http.classify import tls_refused as tls_verification_failed
from codex_install.http.client import first_line
from codex_install.http.limits import DEFAULT_DEADLINE_S, DOWNLOAD_DEADLINE_S, read_capped
from codex_install.http.retry import (
    RETRYABLE_HTTP_STATUS,
    Retryable,
    RetryPolicy,
    parse_retry_after,
    retrying,
)
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
    name and a stranger's file can only be refused, never believed."""

    root: Path | None

    def get(self, digest: str) -> bytes | None:
        if self.root is None or not artifact.is_digest(digest):
            return None
        try:
            body = read_regular(self.root / digest.replace(":", "-"), artifact.MANIFEST_CAP)
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
                what="a blob mount",
                ok=(201, 202),
            )
            if started.status == 201:
                self.counts.mounted += 1
                return
        else:
            started = self._call(
                "POST", start, {"Content-Length": "0"}, what="a blob upload", ok=(202,)
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
        self._call("PUT", url, headers, what="a blob upload", ok=(201,), body=data, retry=False)

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
        policy = self.policy if retry else RetryPolicy(attempts=1)

        def exhausted(tries: int, last: Retryable) -> Exception:
            return NetworkError(
                f"registry {self.reference.host}: {what} failed after {tries} attempts "
                f"({last.reason})",
                connection_level=last.reason.startswith("no answer"),
            )

        return retrying(
            lambda _n: self._once(method, url, headers, what, ok, cap, body),
            policy=policy,
            sleep=self.sleep,
            exhausted=exhausted,
        )

    def _once(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        what: str,
        ok: tuple[int, ...],
        cap: int,
        body: bytes | Path | None,
    ) -> _Answer:
        import httpx

        from codex_install.http.deadline import send  # the watchdog, as for every request

        seconds = self.seconds[1] if isinstance(body, Path) else self.seconds[0]
        deadline = time.monotonic() + seconds
        content = _file_chunks(body) if isinstance(body, Path) else body
        try:
            request = self.client.build_request(
                method, url, headers=headers, content=content, extensions={DEADLINE: deadline}
            )
            with contextlib.closing(send(self.client, request, seconds)) as response:
                status = response.status_code
                if status not in ok:
                    raise self._refused(response, what)
                data = b""
                if method == "GET":
                    data = read_capped(
                        response.iter_bytes(),
                        cap,
                        over_cap=lambda: NetworkError(
                            f"registry {self.reference.host}: {what} is larger than allowed"
                        ),
                        deadline=deadline,
                        past_deadline=lambda: NetworkError(
                            f"registry {self.reference.host}: {what} took longer than {seconds:g} s"
                        ),
                    )
                return _Answer(status, dict(response.headers), data)
        except DeadlinePassed as err:
            raise NetworkError(
                f"registry {self.reference.host}: {what} took longer than {seconds:g} s",
                hint="a slow network: raise CODEX_INSTALL_TIMEOUT (seconds)",
            ) from err
        except httpx.TimeoutException as err:
            raise Retryable(f"no answer in time ({type(err).__name__})") from err
        except httpx.TransportError as err:
            if tls_verification_failed(err):
                raise NetworkError(
                    f"registry {self.reference.host}: {first_line(err)}",
                    hint=TLS_HINT,
                    connection_level=True,
                ) from err
            raise Retryable(f"no answer: {first_line(err)}") from err
        except httpx.HTTPError as err:
            raise NetworkError(f"registry {self.reference.host}: {first_line(err)}") from err
        except httpx.StreamError as err:  # a login asked again for a streamed upload's body
            raise NetworkError(
                f"registry {self.reference.host}: {what} was refused mid-way; run it again"
            ) from err

    def _refused(self, response: httpx.Response, what: str) -> Exception:
        status = response.status_code
        if status in RETRYABLE_HTTP_STATUS:
            return Retryable(
                f"HTTP {status}", parse_retry_after(response.headers.get("retry-after"))
            )
        detail = _error_code(response)
        where = f"{self.reference.shown}"
        if status == 404:
            return NotFoundError(f"{what} not found in {where}{detail}")
        if status == 403:
            return NetworkError(f"registry {self.reference.host} denied {what} in {where}{detail}")
        return NetworkError(f"registry {self.reference.host}: {what} failed: HTTP {status}{detail}")


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def _file_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while chunk := f.read(UPLOAD_CHUNK):
            yield chunk


def _error_code(response: httpx.Response) -> str:
    """`` (MANIFEST_UNKNOWN: …)`` from the registry's error body, when it has one."""
    import httpx

    if response.request.method == "HEAD":
        return ""
    try:
        body = read_capped(response.iter_bytes(), ERROR_BODY_CAP, over_cap=lambda: ValueError())
        data = artifact.load(body, "error")
    except (ValueError, NetworkError, httpx.HTTPError):  # only decoration for a message
        return ""
    errors = data.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    code, message = first.get("code"), first.get("message")
    if not isinstance(code, str):
        return ""
    text = f"{code}: {message}" if isinstance(message, str) else code
    return f" ({printable(text, 120)})"


def _next_page(reference: Reference, link: str | None) -> str | None:
    """The next page of a list from an RFC 5988 ``Link: </v2/…?last=x>; rel="next"``; only on
    the same registry."""
    if not link or 'rel="next"' not in link:
        return None
    target = link.partition("<")[2].partition(">")[0]
    if target.startswith("/v2/"):
        return reference.origin + target
    return None

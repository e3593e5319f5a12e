"""The distribution API calls, against hand-written registries for what a real one never does
(httpx.MockTransport)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import httpx
import pytest

from codex_install.errors import NetworkError, NotFoundError, VerificationError
from codex_install.fs import ours_alone
from codex_install.http.retry import RetryPolicy
from codex_install.sources.oci import artifact
from codex_install.sources.oci.reference import parse_reference
from codex_install.sources.oci.registry import DigestCache, Registry
from servers.fake_http import stop_server

REF = parse_reference("oci+https://registry.example/acme/codex")
BODY = b'{"schemaVersion": 2}'
DIGEST = "sha256:" + hashlib.sha256(BODY).hexdigest()


def make(handler, cache: Path | None = None) -> tuple[Registry, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    client = httpx.Client(transport=httpx.MockTransport(record))
    registry = Registry(
        client, REF, cache=DigestCache(cache), policy=RetryPolicy(attempts=3), sleep=lambda _s: None
    )
    return registry, seen


def test_a_tag_is_one_head_and_its_manifest_is_cached_by_digest(tmp_path):
    def handler(request):
        if request.method == "HEAD":
            assert artifact.INDEX in request.headers["accept"]
            return httpx.Response(200, headers={"Docker-Content-Digest": DIGEST})
        return httpx.Response(200, content=BODY)

    registry, seen = make(handler, tmp_path / "cache")
    assert registry.tag_digest("0.169.0") == DIGEST
    assert registry.manifest(DIGEST, "release") == BODY
    assert registry.manifest(DIGEST, "release") == BODY
    assert [r.method for r in seen] == ["HEAD", "GET"]
    again, seen_again = make(handler, tmp_path / "cache")
    assert again.manifest(DIGEST, "release") == BODY and seen_again == []
    assert oct((tmp_path / "cache").stat().st_mode & 0o777) == "0o700"


def test_a_cached_manifest_that_is_not_its_digest_is_not_believed(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / DIGEST.replace(":", "-")).write_bytes(b'{"planted": true}')
    registry, seen = make(lambda _r: httpx.Response(200, content=BODY), cache)
    assert registry.manifest(DIGEST, "release") == BODY
    assert len(seen) == 1


@pytest.mark.parametrize("planted", ["another-owner", "group-writable-file", "group-writable-dir"])
def test_a_cached_manifest_not_ours_alone_is_ignored(tmp_path, planted):
    """The right bytes, but in a file another user owns or can write: not read back."""
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    path = cache / DIGEST.replace(":", "-")
    path.write_bytes(BODY)
    path.chmod(0o600)
    if planted == "another-owner":
        if os.geteuid() != 0:
            other = os.geteuid() + 1
            trusted = lambda p: ours_alone(p, uid=other)  # noqa: E731  # as if we were another
        else:
            os.chown(path, 12345, 12345)
            trusted = ours_alone
    else:
        (path if planted == "group-writable-file" else cache).chmod(
            0o620 if "file" in planted else 0o770
        )
        trusted = ours_alone
    registry, seen = make(lambda _r: httpx.Response(200, content=BODY))
    registry.cache = DigestCache(cache, trusted)
    assert registry.manifest(DIGEST, "release") == BODY
    assert len(seen) == 1  # asked the registry: the file was not believed
    assert DigestCache(cache, lambda _p: True).get(DIGEST) == BODY  # it was the right bytes


def test_a_registry_without_docker_content_digest_is_read_by_get():
    def handler(request):
        return httpx.Response(200, content=BODY)

    registry, seen = make(handler)
    assert registry.tag_digest("latest") == DIGEST
    assert [r.method for r in seen] == ["HEAD", "GET"]


@pytest.mark.parametrize(
    "header", ["../../../../tmp/planted", "sha512:" + "ab" * 64, "sha256:" + "AB" * 32, ""]
)
def test_a_digest_header_that_is_no_sha256_digest_is_not_used(tmp_path, header):
    def handler(request):
        if request.method == "HEAD":
            return httpx.Response(200, headers={"Docker-Content-Digest": header})
        return httpx.Response(200, content=BODY)

    registry, seen = make(handler, tmp_path / "cache")
    assert registry.tag_digest("latest") == DIGEST
    assert [r.method for r in seen] == ["HEAD", "GET"]
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [DIGEST.replace(":", "-")]
    assert not (tmp_path / "planted").exists()


def test_a_missing_tag_is_none_and_a_missing_manifest_not_found():
    registry, _ = make(
        lambda _r: httpx.Response(
            404, json={"errors": [{"code": "MANIFEST_UNKNOWN", "message": "m\x1b[31m"}]}
        )
    )
    assert registry.tag_digest("0.1.0") is None
    with pytest.raises(NotFoundError) as caught:
        registry.manifest(DIGEST, "release 0.1.0")
    assert "MANIFEST_UNKNOWN" in str(caught.value) and "\x1b" not in str(caught.value)


def test_bytes_that_are_not_the_digest_are_refused():
    registry, _ = make(lambda _r: httpx.Response(200, content=b'{"other": 1}'))
    with pytest.raises(VerificationError, match="not sha256:"):
        registry.manifest(DIGEST, "release")


def test_a_manifest_past_the_cap_is_refused():
    registry, _ = make(lambda _r: httpx.Response(200, content=b" " * (artifact.MANIFEST_CAP + 1)))
    with pytest.raises(NetworkError, match="larger than the 4 MiB allowed"):
        registry.manifest(DIGEST, "release")


def test_a_busy_registry_is_retried_then_named():
    registry, seen = make(lambda _r: httpx.Response(503))
    with pytest.raises(
        NetworkError,
        match=r"cannot fetch tag 1\.0\.0 from registry oci://registry\.example/acme/codex "
        r"after 3 attempts: HTTP 503",
    ):
        registry.tag_digest("1.0.0")
    assert len(seen) == 3


def test_an_unreachable_registry_is_a_connection_level_failure():
    def handler(request):
        raise httpx.ConnectError("refused", request=request)

    registry, _ = make(handler)
    with pytest.raises(NetworkError) as caught:
        registry.tag_digest("1.0.0")
    assert caught.value.connection_level


def test_denied_is_a_network_error_naming_the_repository():
    registry, _ = make(lambda _r: httpx.Response(403, json={"errors": [{"code": "DENIED"}]}))
    with pytest.raises(
        NetworkError,
        match=r"the tag list from registry oci://registry\.example/acme/codex: HTTP 403 \(DENIED\)",
    ):
        registry.tags()


def test_tags_follow_link_pages_on_the_same_registry_only():
    def handler(request):
        last = request.url.params.get("last")
        if last is None:
            link = '</v2/acme/codex/tags/list?n=2&last=b>; rel="next"'
            return httpx.Response(200, json={"tags": ["a", "b"]}, headers={"Link": link})
        if last == "b":
            link = '<https://evil.example/v2/x/tags/list?last=c>; rel="next"'
            return httpx.Response(200, json={"tags": ["c", 7]}, headers={"Link": link})
        raise AssertionError(request.url)

    registry, seen = make(handler)
    assert registry.tags() == ["a", "b", "c"]
    assert {r.url.host for r in seen} == {"registry.example"}


def test_a_repository_that_does_not_exist_has_no_tags():
    registry, _ = make(lambda _r: httpx.Response(404))
    assert registry.tags() == []


def test_a_present_blob_is_not_uploaded_a_missing_one_is_once(tmp_path):
    stored: dict[str, bytes] = {}

    def handler(request):
        path = request.url.path
        if request.method == "HEAD":
            return httpx.Response(200 if path.rsplit("/", 1)[1] in stored else 404)
        if request.method == "POST":
            return httpx.Response(
                202, headers={"Location": "/v2/acme/codex/blobs/uploads/u1?state=s"}
            )
        if request.method == "PUT":
            assert request.url.params["state"] == "s"
            stored[request.url.params["digest"]] = request.read()
            return httpx.Response(201)
        raise AssertionError(request.method)

    registry, _ = make(handler)
    blob = tmp_path / "a.tar.zst"
    blob.write_bytes(b"x" * 3_000_000)
    digest = artifact.digest_of(blob.read_bytes())
    registry.push_blob(blob, digest, 3_000_000, None)
    registry.push_blob(blob, digest, 3_000_000, None)
    assert stored == {digest: blob.read_bytes()}
    counts = registry.counts
    assert (counts.uploaded, counts.present, counts.uploaded_bytes) == (1, 1, 3_000_000)


def test_a_mount_is_tried_first_and_an_offer_refused_becomes_an_upload():
    answers = iter(
        [
            httpx.Response(404),  # HEAD
            httpx.Response(201),  # mounted
            httpx.Response(404),  # HEAD
            httpx.Response(202, headers={"Location": "/u"}),  # mount refused: an upload
            httpx.Response(201),  # PUT
        ]
    )
    registry, seen = make(lambda _r: next(answers))
    registry.push_blob(b"{}", artifact.EMPTY_DIGEST, 2, "team/src")
    registry.push_blob(b"{}", artifact.EMPTY_DIGEST, 2, "team/src")
    assert seen[1].url.params["mount"] == artifact.EMPTY_DIGEST
    assert seen[1].url.params["from"] == "team/src"
    assert seen[4].method == "PUT"
    assert (registry.counts.mounted, registry.counts.uploaded) == (1, 1)


def test_an_upload_with_no_location_is_refused():
    answers = iter([httpx.Response(404), httpx.Response(202)])
    registry, _ = make(lambda _r: next(answers))
    with pytest.raises(NetworkError, match="no Location"):
        registry.push_blob(b"{}", artifact.EMPTY_DIGEST, 2, None)


def test_a_manifest_stored_under_another_digest_is_an_error():
    registry, _ = make(lambda _r: httpx.Response(201, headers={"Docker-Content-Digest": DIGEST}))
    doc = artifact.Document(b'{"x": 1}', artifact.MANIFEST)
    with pytest.raises(NetworkError, match=r"stored manifest 1\.0\.0 as"):
        registry.put_manifest("1.0.0", doc)


def test_a_blob_gone_between_its_head_and_its_push_is_one_clear_error(tmp_path):
    registry, seen = make(lambda _r: httpx.Response(404))
    with pytest.raises(NetworkError, match="during the sync; run it again"):
        registry.push_blob(tmp_path / "never-downloaded.tar.zst", DIGEST, 10, None)
    assert [r.method for r in seen] == ["HEAD"]


def test_a_blob_size_is_its_content_length():
    registry, _ = make(lambda _r: httpx.Response(200, headers={"Content-Length": "1234"}))
    assert registry.blob_size(DIGEST) == 1234


def test_an_upload_whose_body_cannot_be_sent_again_is_one_clear_error(tmp_path):
    """A registry (a real socket: a mock transport would keep the body) that challenges the
    streamed PUT itself: its body cannot be sent twice."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from codex_install.sources.oci.auth import Login, RegistryAuth

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def answer(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
            self.send_response(status)
            for key, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def do_HEAD(self) -> None:
            self.answer(404, {})

        def do_POST(self) -> None:
            self.answer(202, {"Location": "/v2/codex/blobs/uploads/u"})

        def do_GET(self) -> None:
            self.answer(200, {"Content-Type": "application/json"}, b'{"token": "t"}')

        def do_PUT(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            realm = f"http://127.0.0.1:{self.server.server_address[1]}/token"
            self.answer(401, {"WWW-Authenticate": f'Bearer realm="{realm}"'})

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        reference = parse_reference(f"oci://127.0.0.1:{httpd.server_address[1]}/codex")
        with httpx.Client() as client:
            auth = RegistryAuth(client)
            auth.add(Login(reference, find=lambda: None))
            client.auth = auth
            registry = Registry(client, reference, sleep=lambda _s: None)
            blob = tmp_path / "a.tar.zst"
            blob.write_bytes(b"x" * 10)
            with pytest.raises(NetworkError, match="asked for the upload again mid-way"):
                registry.push_blob(blob, artifact.digest_of(b"x" * 10), 10, None)
    finally:
        stop_server(httpd)


def test_only_a_blob_of_a_registry_logged_into_is_fetched_through_its_login():
    from codex_install.sources.oci.auth import Login, RegistryAuth
    from codex_install.sources.oci.source import registry_blob

    sums = b"ab" * 32 + b"  codex.tar.zst\n"
    digest = artifact.digest_of(sums)
    registry, seen = make(lambda _r: httpx.Response(200, content=sums))
    client = registry.client
    url = REF.blob_url(digest)
    assert registry_blob(client, url, "SUMS", 1 << 20, 5.0) is None  # no registry flow yet
    auth = RegistryAuth(client)
    auth.add(Login(REF, find=lambda: None))
    client.auth = auth
    assert (
        registry_blob(
            client, "https://other.example/v2/acme/codex/blobs/" + digest, "SUMS", 1 << 20, 5.0
        )
        is None
    )
    assert registry_blob(client, REF.url("manifests/latest"), "SUMS", 1 << 20, 5.0) is None
    assert registry_blob(client, url, "SUMS", 1 << 20, 5.0) == sums
    with pytest.raises(VerificationError, match="not sha256:"):
        registry_blob(client, REF.blob_url("sha256:" + "cd" * 32), "SUMS", 1 << 20, 5.0)
    assert [r.url.host for r in seen] == ["registry.example", "registry.example"]

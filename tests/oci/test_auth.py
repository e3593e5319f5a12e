"""The registry auth flow (httpx.MockTransport as registry, token service and CDN)."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

import httpx
import pytest

from codex_install.errors import NetworkError
from codex_install.http.retry import Retryable
from codex_install.sources.oci.auth import Login, RegistryAuth, parse_challenge
from codex_install.sources.oci.credentials import Credential
from codex_install.sources.oci.reference import parse_reference

REGISTRY = "oci+https://registry.example/acme/codex"
REALM = "https://auth.example/token"
BLOB = "https://registry.example/v2/acme/codex/blobs/sha256:" + "ab" * 32


class World:
    """A registry at registry.example that wants ``scheme`` auth, its token service at
    auth.example (which knows ``users``), and a CDN that blob GETs redirect to."""

    def __init__(self, scheme: str = "bearer", users: dict[str, str] | None = None) -> None:
        self.scheme = scheme
        self.users = users if users is not None else {"ci": "pw"}
        self.seen: list[httpx.Request] = []
        self.token_answer: httpx.Response | None = None
        self.realm = REALM

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        host = request.url.host
        if host == "auth.example" or request.url.path == "/token":
            return self.token(request)
        if host == "cdn.example":
            return httpx.Response(200, content=b"blob")
        header = request.headers.get("authorization", "")
        if self.scheme == "basic":
            if header == "Basic " + base64.b64encode(b"ci:pw").decode():
                return httpx.Response(200, content=b"ok")
            return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'})
        if header.startswith("Bearer good-"):
            if request.url.path.startswith("/v2/acme/codex/blobs/") and request.method == "GET":
                return httpx.Response(307, headers={"Location": "https://cdn.example/b?sig=1"})
            return httpx.Response(200, content=b"ok")
        scope = "repository:acme/codex:pull"
        challenge = f'Bearer realm="{self.realm}",service="reg",scope="{scope}"'
        return httpx.Response(401, headers={"WWW-Authenticate": challenge})

    def token(self, request: httpx.Request) -> httpx.Response:
        if self.token_answer is not None:
            return self.token_answer
        header = request.headers.get("authorization", "")
        if request.method == "POST":
            form = parse_qs(request.content.decode())
            ok = form.get("refresh_token") == ["refresh"]
            return httpx.Response(200 if ok else 401, json={"access_token": "good-refreshed"})
        if header:
            user, _, password = (
                base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
            )
            if self.users.get(user) != password:
                return httpx.Response(401)
            return httpx.Response(200, json={"token": f"good-{user}"})
        return httpx.Response(200, json={"token": "good-anonymous"})

    def client(
        self, credential: Credential | None = None, **login: object
    ) -> tuple[httpx.Client, list[int]]:
        client = httpx.Client(transport=httpx.MockTransport(self.handle), follow_redirects=True)
        auth = RegistryAuth(client)
        asked: list[int] = []

        def find() -> Credential | None:
            asked.append(1)
            return credential

        auth.add(Login(parse_reference(REGISTRY), find=find, **login))  # type: ignore[arg-type]
        client.auth = auth
        return client, asked


def token_requests(world: World) -> list[httpx.Request]:
    return [r for r in world.seen if r.url.host == "auth.example"]


@pytest.mark.parametrize(
    ("header", "scheme", "params"),
    [
        (
            'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:a/b:pull"',
            "bearer",
            {
                "realm": "https://ghcr.io/token",
                "service": "ghcr.io",
                "scope": "repository:a/b:pull",
            },
        ),
        (
            'Bearer realm="https://a/t",scope="repository:a/b:pull,push",error="insufficient_scope"',
            "bearer",
            {
                "realm": "https://a/t",
                "scope": "repository:a/b:pull,push",
                "error": "insufficient_scope",
            },
        ),
        ('Basic realm="Registry Realm"', "basic", {"realm": "Registry Realm"}),
        (
            "Bearer realm=https://x/t, service=reg",
            "bearer",
            {"realm": "https://x/t", "service": "reg"},
        ),
        ('Bearer realm="a\\"b"', "bearer", {"realm": 'a"b'}),
    ],
)
def test_challenges_are_read_as_registries_send_them(header, scheme, params):
    challenge = parse_challenge(header)
    assert challenge is not None
    assert (challenge.scheme, challenge.params) == (scheme, params)


def test_no_challenge_is_none():
    assert parse_challenge(None) is None and parse_challenge("") is None


def test_anonymous_bearer_token_is_asked_once_and_reused():
    world = World()
    client, asked = world.client()
    assert client.get(BLOB).content == b"blob"
    assert client.get("https://registry.example/v2/acme/codex/manifests/1.0.0").status_code == 200
    tokens = token_requests(world)
    assert len(tokens) == 1
    assert "authorization" not in tokens[0].headers
    assert parse_qs(tokens[0].url.query.decode()) == {
        "service": ["reg"],
        "scope": ["repository:acme/codex:pull"],
    }
    assert asked == [1]


def test_the_login_goes_to_the_realm_and_the_token_to_the_registry_only():
    world = World()
    client, _ = world.client(Credential("ci", "pw"))
    assert client.get(BLOB).content == b"blob"
    (realm,) = token_requests(world)
    assert realm.headers["authorization"] == "Basic " + base64.b64encode(b"ci:pw").decode()
    cdn = [r for r in world.seen if r.url.host == "cdn.example"]
    assert cdn and "authorization" not in cdn[0].headers
    registry = [r for r in world.seen if r.url.host == "registry.example"]
    assert registry[-1].headers["authorization"] == "Bearer good-ci"


def test_a_push_asks_for_push_scope_and_a_mount_for_the_other_repository():
    world = World()
    client, _ = world.client(Credential("ci", "pw"))
    url = "https://registry.example/v2/acme/codex/blobs/uploads/?mount=sha256:x&from=team/src"
    assert client.post(url).status_code == 200
    scopes = parse_qs(token_requests(world)[0].url.query.decode())["scope"]
    assert scopes == [
        "repository:acme/codex:pull",
        "repository:acme/codex:pull,push",
        "repository:team/src:pull",
    ]


def test_an_identity_token_is_exchanged_with_a_post():
    world = World()
    client, _ = world.client(Credential("<token>", "refresh", identity_token=True))
    assert client.get(BLOB).content == b"blob"
    (post,) = token_requests(world)
    assert post.method == "POST"
    form = parse_qs(post.content.decode())
    assert form["grant_type"] == ["refresh_token"] and form["client_id"] == ["codex-install"]


def test_wrong_credentials_say_which_registry_and_never_the_secret():
    world = World()
    client, _ = world.client(Credential("ci", "wrong-secret", origin="/home/u/.docker/config.json"))
    with pytest.raises(NetworkError) as caught:
        client.get(BLOB)
    line = caught.value.line()
    assert "registry registry.example refused the login from /home/u/.docker/config.json" in line
    assert "wrong-secret" not in line and caught.value.exit_code == 4


def test_basic_auth_with_and_without_a_login():
    world = World("basic")
    client, _ = world.client(Credential("ci", "pw"))
    assert client.get(BLOB).content == b"ok"
    anonymous, _ = World("basic").client()
    with pytest.raises(NetworkError, match="wants credentials for acme/codex"):
        anonymous.get(BLOB)
    wrong, _ = World("basic").client(Credential("ci", "nope"))
    with pytest.raises(NetworkError, match="refused the login"):
        wrong.get(BLOB)


def test_other_hosts_never_see_the_flow():
    world = World()
    client, asked = world.client(Credential("ci", "pw"))
    assert client.get("https://cdn.example/anything").status_code == 200
    assert asked == [] and "authorization" not in world.seen[0].headers


def test_a_token_earned_by_a_login_never_crosses_plain_http_either():
    world = World()
    client = httpx.Client(transport=httpx.MockTransport(world.handle))
    auth = RegistryAuth(client)
    auth.add(
        Login(
            parse_reference("oci+http://registry.example/acme/codex"),
            find=lambda: Credential("ci", "pw"),
        )
    )
    client.auth = auth
    with pytest.raises(NetworkError, match="over plain http"):
        client.get("http://registry.example/v2/acme/codex/manifests/1.0.0")
    assert token_requests(world) == []


def test_a_login_never_crosses_plain_http_to_another_host():
    world = World()
    world.realm = "http://auth.example/token"
    client, _ = world.client(Credential("ci", "pw"))
    with pytest.raises(NetworkError, match="over plain http"):
        client.get(BLOB)
    assert token_requests(world) == []
    allowed, _ = world.client(Credential("ci", "pw"), allow_cleartext=True)
    assert allowed.get(BLOB).content == b"blob"


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (httpx.Response(200, content=b"x" * (2 << 20)), "larger than the 1 MiB allowed"),
        (httpx.Response(200, content=b"not json"), "no JSON"),
        (httpx.Response(200, json={"token": ""}), "gave no token"),
        (httpx.Response(200, json={"token": "a\nb"}), "gave no token"),
        (httpx.Response(200, json=["token"]), "gave no token"),
        (httpx.Response(418), "token service of registry registry.example: HTTP 418"),
    ],
)
def test_a_broken_token_service_is_one_clear_error(answer, error):
    world = World()
    world.token_answer = answer
    client, _ = world.client()
    with pytest.raises(NetworkError, match=error):
        client.get(BLOB)


def test_a_busy_token_service_is_retried_by_the_caller():
    world = World()
    world.token_answer = httpx.Response(503)
    client, _ = world.client()
    with pytest.raises(Retryable):
        client.get(BLOB)


def test_a_realm_that_is_no_url_is_refused():
    world = World()
    world.realm = "file:///etc/passwd"
    client, _ = world.client()
    with pytest.raises(NetworkError, match="no usable token service"):
        client.get(BLOB)

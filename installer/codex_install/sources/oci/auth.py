"""Registry authentication as docker, oras and skopeo do it, as one httpx auth flow: send the
request; on a 401 read its ``WWW-Authenticate`` challenge; for ``Bearer realm=…,service=…,
scope=…`` ask the realm for a token (anonymously, with the login, or with an identity token)
and send the request again; for ``Basic`` send the login. The flow acts only on requests to a
registry it was told about: the login goes to that registry and to the token realm it names,
never to a host a blob redirect leads to (httpx drops ``Authorization`` across origins).
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import httpx

from codex_install.errors import NetworkError
from codex_install.http.classify import Failure, classify_error, classify_status
from codex_install.http.client import host_of
from codex_install.http.limits import DEFAULT_DEADLINE_S, TOKEN_ANSWER_CAP, read_capped, too_large
from codex_install.http.watchdog import DEADLINE, DeadlinePassed
from codex_install.sources.oci.credentials import Credential
from codex_install.sources.oci.reference import Reference, is_loopback

_PARAM = re.compile(r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?')
CLIENT_ID = "codex-install"
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Challenge:
    scheme: str  # lower case: "bearer" or "basic"
    params: dict[str, str]


def parse_challenge(header: str | None) -> Challenge | None:
    """The first challenge of a ``WWW-Authenticate`` header (registries send one)."""
    if not header:
        return None
    scheme, _, rest = header.strip().partition(" ")
    params: dict[str, str] = {}
    pos = 0
    while pos < len(rest):
        match = _PARAM.match(rest, pos)
        if match is None or match.end() == pos:
            break
        quoted, bare = match.group(2), match.group(3)
        value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare or ""
        params[match.group(1).lower()] = value
        pos = match.end()
    return Challenge(scheme.lower(), params)


@dataclass
class Login:
    """One registry's state: how to find its login (asked only when a challenge needs it) and
    the Authorization values earned so far, by action ("pull", "push", "push+<from repo>")."""

    reference: Reference
    find: Callable[[], Credential | None]
    allow_cleartext: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    _credential: tuple[Credential | None] | None = None

    @property
    def credential(self) -> Credential | None:
        if self._credential is None:
            self._credential = (self.find(),)
        return self._credential[0]

    def refused(self, status: int) -> NetworkError:
        cred = self.credential
        name = self.reference.host
        if cred is None:
            return NetworkError(
                f"registry {name} wants credentials for {self.reference.repository} "
                f"(HTTP {status})",
                hint=f"docker login {name}, or set REGISTRY_AUTH_FILE",
            )
        return NetworkError(
            f"registry {name} refused the login from {cred.origin or 'the credentials file'} "
            f"(HTTP {status})",
            hint=f"docker login {name} again",
        )


class RegistryAuth(httpx.Auth):
    """The auth flow for every registry this command talks to (usually one). ``client`` asks
    the token realms: a request of its own, outside this flow, so that its answer is read
    under a cap and a deadline."""

    def __init__(self, client: httpx.Client, seconds: float = DEFAULT_DEADLINE_S) -> None:
        self.client = client
        self.seconds = seconds  # each token request's deadline (the plan's metadata_s)
        self.logins: dict[str, Login] = {}

    def add(self, login: Login) -> None:
        self.logins.setdefault(login.reference.origin, login)

    def login_for(self, url: str) -> Login | None:
        """The login of the registry ``url`` is on, if this flow knows it."""
        try:
            return self.logins.get(_origin(httpx.URL(url)))
        except httpx.InvalidURL:
            return None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        login = self.logins.get(_origin(request.url))
        if login is None:
            yield request
            return
        action = _action(request)
        known = login.headers.get(action) or (
            login.headers.get("push") if action == "pull" else None
        )
        if known:
            request.headers["Authorization"] = known
        response = yield request
        if response.status_code != 401:
            return
        header = self._answer(login, response.headers.get("www-authenticate"), request)
        if header == known:
            raise login.refused(401)
        login.headers[action] = header
        request.headers["Authorization"] = header
        response = yield request
        if response.status_code == 401:
            raise login.refused(401)

    def _answer(self, login: Login, header: str | None, request: httpx.Request) -> str:
        """The Authorization value that answers the registry's challenge."""
        challenge = parse_challenge(header)
        if challenge is not None and challenge.scheme == "bearer":
            if login.credential is not None:  # a token earned by the login is as good as it
                _no_cleartext(login, request.url)
            return self._token(login, _token_request(login, challenge, request))
        if challenge is not None and challenge.scheme == "basic" and login.credential:
            _no_cleartext(login, request.url)
            return _basic(login.credential)
        raise login.refused(401)

    def _token(self, login: Login, request: httpx.Request) -> str:
        from codex_install.http.deadline import send  # the watchdog, as for every request

        deadline = time.monotonic() + self.seconds
        request.extensions[DEADLINE] = deadline
        answered = False
        try:
            response = send(self.client, request, self.seconds, client_auth=False)
            answered = True
            try:
                return _accept_token(login, response, deadline, self.seconds)
            finally:
                response.close()
        except (httpx.HTTPError, DeadlinePassed) as err:
            raise _token_failure(
                login, request, classify_error(err), answered, self.seconds
            ) from err


def _token_failure(
    login: Login, request: httpx.Request, failure: Failure, answered: bool, seconds: float
) -> Exception:
    """A failed token request, classified as every request is: another try for the caller's
    retry loop (it re-sends the registry request, which asks again), or the final error."""
    from codex_install.http.network import Failed, failure_error, retry_or_fail

    outcome = retry_or_fail(failure, answered=answered)
    if not isinstance(outcome, Failed):
        return outcome
    return failure_error(
        outcome,
        "a token",
        str(request.url),
        seconds=seconds,
        source=f"the token service of registry {login.reference.host}",
    )


def _origin(url: httpx.URL) -> str:
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}".lower()


def _action(request: httpx.Request) -> str:
    if request.method not in _WRITES:
        return "pull"
    mount = parse_qs(request.url.query.decode()).get("from")
    return f"push+{mount[0]}" if mount else "push"


def _scopes(login: Login, challenge: Challenge, request: httpx.Request) -> list[str]:
    repo = login.reference.repository
    action = _action(request)
    wanted = f"repository:{repo}:pull" if action == "pull" else f"repository:{repo}:pull,push"
    scopes = [challenge.params.get("scope") or wanted]
    if wanted not in scopes[0].split(" "):
        scopes.append(wanted)
    if action.startswith("push+"):  # a cross-repository mount reads the other repository
        scopes.append(f"repository:{action.removeprefix('push+')}:pull")
    return scopes


def _token_request(login: Login, challenge: Challenge, request: httpx.Request) -> httpx.Request:
    realm = challenge.params.get("realm", "")
    parts = urlsplit(realm)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise NetworkError(
            f"registry {login.reference.host} named no usable token service ({realm[:80]!r})"
        )
    service = challenge.params.get("service")
    scopes = _scopes(login, challenge, request)
    params: list[tuple[str, str | int | float | bool | None]] = (
        [("service", service)] if service else []
    )
    params += [("scope", s) for s in scopes]
    cred = login.credential
    if cred is not None:
        _no_cleartext(login, httpx.URL(realm))
    if cred is not None and cred.identity_token:
        # An identity token is an OAuth2 refresh token: it is exchanged, as docker does.
        form = {
            "grant_type": "refresh_token",
            "refresh_token": cred.secret,
            "client_id": CLIENT_ID,
            "service": service or "",
            "scope": " ".join(scopes),
        }
        return httpx.Request("POST", realm, data=form)
    headers = {"Authorization": _basic(cred)} if cred is not None else {}
    return httpx.Request("GET", realm, params=params, headers=headers)


def _accept_token(login: Login, response: httpx.Response, deadline: float, seconds: float) -> str:
    status = response.status_code
    failure = classify_status(status, response.headers)
    if failure is None and status != 200:
        failure = Failure("status", f"HTTP {status}", status)  # no token in a 204
    if failure is not None:
        if failure.kind == "status" and status in (401, 403):
            raise login.refused(status)  # the login, not the service, is what failed
        raise _token_failure(login, response.request, failure, True, seconds)
    name = login.reference.host
    body = read_capped(
        response.iter_bytes(),
        TOKEN_ANSWER_CAP,
        over_cap=lambda: NetworkError(
            too_large(
                f"the token answer of registry {name}", host_of(str(response.url)), TOKEN_ANSWER_CAP
            )
        ),
        deadline=deadline,
        past_deadline=lambda: DeadlinePassed(seconds),
    )
    return f"Bearer {_token_in(body, name)}"


def _token_in(body: bytes, name: str) -> str:
    """The token of a token service's JSON answer (``token``, or OAuth2's ``access_token``)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise NetworkError(f"the token service of registry {name} answered no JSON") from err
    token = data.get("token") or data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token or not token.isascii() or "\n" in token:
        raise NetworkError(f"the token service of registry {name} gave no token")
    return token


def _basic(cred: Credential | None) -> str:
    assert cred is not None
    raw = f"{cred.username}:{cred.secret}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def _no_cleartext(login: Login, url: httpx.URL) -> None:
    """A login never crosses the network in clear text, unless the user said so."""
    if url.scheme == "https" or is_loopback(url.host) or login.allow_cleartext:
        return
    raise NetworkError(
        f"refusing to send the login for registry {login.reference.host} to {url.host} over "
        "plain http://",
        hint="use https, or set CODEX_INSTALL_ALLOW_HTTP_TOKEN=1",
    )

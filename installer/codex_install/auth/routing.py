"""Workspace routing discovery, as Codex 0.171.0's app-server does it for ``account/read``: one
``GET`` of the ChatGPT backend's accounts check with the account's bearer token, the entry of the
signed-in workspace picked out, and its backend origin and routing override checked.

The rules (which answers are errors, and their messages) are the real binary's, measured over
stdio against a loopback backend (tests/auth/test_routing.py has a case per rule; the opt-in
e2e test holds them side by side): the answer's shape is strict, an origin must be a bare
``https`` origin without credentials, ``NO_CONSTRAINT`` means the configured backend's own
origin. ``parse_accounts`` and ``resolve`` are pure; ``discover`` makes the request.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urlsplit

from codex_install import __version__
from codex_install.errors import AccountReadError

if TYPE_CHECKING:
    import httpx

OVERRIDES = ("NO_CONSTRAINT", "us", "us_cr")
NO_CONSTRAINT = "NO_CONSTRAINT"
DISCOVERY_TIMEOUT_S = 15.0  # Codex's own bound on one discovery
ANSWER_CAP = 1 << 20
_ENTRY_FIELDS = (
    "plan_type",
    "workspace_backend_origin",
    "account_routing_override",
    "name",
    "profile_picture_url",
    "structure",
)
_CHATGPT_HOSTS = ("https://chatgpt.com", "https://chat.openai.com")

FAILED = "workspace routing discovery failed"
UNAUTHORIZED = "workspace routing discovery unauthorized (401)"
TIMED_OUT = "workspace routing discovery timed out"
MISSING_ACCOUNT_ID = "workspace routing requires a ChatGPT account id"
MISSING_WORKSPACE = "selected workspace missing from routing discovery"
DUPLICATE_WORKSPACE = "duplicate workspace in routing discovery"
MISSING_ORIGIN = "workspace routing discovery missing backend origin"
INVALID_OVERRIDE = "workspace routing discovery has invalid account routing override"
NOT_AN_ORIGIN = "workspace routing discovery must return an origin"
INVALID_URL = "invalid workspace backend URL"
NOT_HTTPS_ORIGIN = "workspace backend must use an HTTPS origin without credentials"


class Unauthorized(AccountReadError):
    """The backend answered 401: the caller may refresh the token once and ask again."""

    def __init__(self) -> None:
        super().__init__(UNAUTHORIZED)


@dataclass(frozen=True)
class Entry:
    id: str | None
    origin: str | None
    override: str | None


def check_url(base_url: str) -> str:
    """The accounts check under ``chatgpt_base_url``, as Codex's backend client builds it: a base
    under ``/backend-api`` asks ``/wham/accounts/check``, any other ``/api/codex/accounts/check``
    (chatgpt.com without a path gets ``/backend-api``)."""
    base = base_url.rstrip("/")
    if base.startswith(_CHATGPT_HOSTS) and "/backend-api" not in base:
        base += "/backend-api"
    path = "/wham/accounts/check" if "/backend-api" in base else "/api/codex/accounts/check"
    return base + path


def parse_accounts(document: object) -> list[Entry]:
    """Pure: the entries of an accounts-check answer; AccountReadError(FAILED) for any other
    shape. A list entry names its workspace in ``id``; a map entry's ``account.account_id`` names
    it and carries no routing, and counts only when ``account_ordering`` lists its key
    (measured)."""
    if not isinstance(document, Mapping):
        raise AccountReadError(FAILED)
    accounts = document.get("accounts")
    ordering = _ordering(document)
    if isinstance(accounts, list):
        return [_list_entry(entry) for entry in accounts]
    if isinstance(accounts, Mapping):
        entries = {key: _map_entry(entry) for key, entry in accounts.items()}
        # Only the workspaces the answer orders are candidates (measured: without an
        # account_ordering naming it, a map entry is "missing").
        return [entries[key] for key in ordering if key in entries]
    raise AccountReadError(FAILED)


def _ordering(document: Mapping[str, object]) -> list[str]:
    ordering = document.get("account_ordering", [])
    if not isinstance(ordering, list) or not all(isinstance(key, str) for key in ordering):
        raise AccountReadError(FAILED)
    return ordering


def _list_entry(entry: object) -> Entry:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
        raise AccountReadError(FAILED)
    for name in _ENTRY_FIELDS:
        if entry.get(name) is not None and not isinstance(entry[name], str):
            raise AccountReadError(FAILED)
    return Entry(
        entry["id"], entry.get("workspace_backend_origin"), entry.get("account_routing_override")
    )


def _map_entry(entry: object) -> Entry:
    account = entry.get("account") if isinstance(entry, Mapping) else None
    if not isinstance(account, Mapping):
        raise AccountReadError(FAILED)
    account_id = account.get("account_id")
    if account_id is not None and not isinstance(account_id, str):
        raise AccountReadError(FAILED)
    return Entry(account_id, None, None)


def resolve(entries: list[Entry], account_id: str, base_url: str) -> dict[str, str]:
    """Pure: the ``workspaceRouting`` of ``account_id`` among ``entries``, or AccountReadError
    with Codex's message."""
    found = [entry for entry in entries if entry.id == account_id]
    if not found:
        raise AccountReadError(MISSING_WORKSPACE)
    if len(found) > 1:
        raise AccountReadError(DUPLICATE_WORKSPACE)
    (entry,) = found
    if entry.origin is None:
        raise AccountReadError(MISSING_ORIGIN)
    if entry.override not in OVERRIDES:
        raise AccountReadError(INVALID_OVERRIDE)
    if entry.origin == NO_CONSTRAINT:
        origin = _https_origin(base_url)[0]
    else:
        origin, bare = _https_origin(entry.origin)
        if not bare:
            raise AccountReadError(NOT_AN_ORIGIN)
    return {
        "chatgptAccountId": account_id,
        "backendOrigin": origin,
        "accountRoutingOverride": entry.override,
    }


def _https_origin(value: str) -> tuple[str, bool]:
    """(the origin ``scheme://host[:port]``, whether ``value`` is nothing more than that)."""
    parts, hostname, port = _checked_https(value)
    host = hostname.lower()
    host = f"[{host}]" if ":" in host else host
    origin = f"https://{host}" + (f":{port}" if port not in (None, 443) else "")
    return origin, _is_bare(parts, value)


def _checked_https(value: str) -> tuple[SplitResult, str, int | None]:
    """``value`` split, with its host and port; AccountReadError unless it is an https URL
    with a host and no user info or surrounding whitespace."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        raise AccountReadError(INVALID_URL) from None
    if not parts.scheme or not parts.netloc or not parts.hostname:
        raise AccountReadError(INVALID_URL)
    if parts.scheme.lower() != "https" or parts.username is not None or value.strip() != value:
        raise AccountReadError(NOT_HTTPS_ORIGIN)
    return parts, parts.hostname, port


def _is_bare(parts: SplitResult, value: str) -> bool:
    return parts.path in ("", "/") and not parts.query and not parts.fragment and "?" not in value


def discover(
    client: httpx.Client,
    base_url: str,
    access_token: str,
    account_id: str,
    *,
    seconds: float = DISCOVERY_TIMEOUT_S,
) -> dict[str, str]:
    """Ask the accounts check and resolve ``account_id``'s routing. Unauthorized on a 401;
    AccountReadError(FAILED or TIMED_OUT) for any other failure to get a good answer."""
    if not account_id:
        raise AccountReadError(MISSING_ACCOUNT_ID)
    answer = _fetch(client, base_url, access_token, account_id, seconds)
    return resolve(parse_accounts(answer), account_id, base_url)


def _fetch(client: httpx.Client, base_url: str, token: str, account_id: str, seconds: float) -> Any:
    import httpx  # heavy: only a discovery pays for it, never the launcher's hot path

    from codex_install.http.deadline import send
    from codex_install.http.limits import read_capped
    from codex_install.http.watchdog import DEADLINE, DeadlinePassed

    deadline = time.monotonic() + seconds
    headers = {
        "Authorization": f"Bearer {token}",
        "ChatGPT-Account-Id": account_id,
        "User-Agent": f"codex-install/{__version__}",
    }
    try:
        request = client.build_request(
            "GET",
            check_url(base_url),
            headers=headers,
            timeout=seconds,
            extensions={DEADLINE: deadline},
        )
        response = send(client, request, seconds)
        with contextlib.closing(response):
            if response.status_code == 401:
                raise Unauthorized()
            if not 200 <= response.status_code < 300:
                raise AccountReadError(FAILED)
            body = read_capped(
                response.iter_bytes(),
                ANSWER_CAP,
                over_cap=lambda: AccountReadError(FAILED),
                deadline=deadline,
                past_deadline=lambda: AccountReadError(TIMED_OUT),
            )
    except DeadlinePassed:
        raise AccountReadError(TIMED_OUT) from None
    except (httpx.HTTPError, httpx.InvalidURL):
        raise AccountReadError(FAILED) from None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise AccountReadError(FAILED) from None

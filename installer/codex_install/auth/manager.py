"""AuthManager: refresh under the poisoned-snapshot rules of SPEC §9, single-flight across
processes, and the status objects of the status protocol."""

from __future__ import annotations

import json
import logging
import os
import random
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codex_install.auth import refresh, routing
from codex_install.auth.account import account_response, plan_type
from codex_install.auth.codexconfig import CHATGPT_MODES, read_codex_config, restriction
from codex_install.auth.credstore import FILE_STORE, STORE_KEY, credentials_store
from codex_install.auth.keyring import Keyring
from codex_install.auth.ledger import (
    LEDGER_FILE,
    Backoff,
    Ledger,
    Poison,
    read_ledger,
    write_ledger,
)
from codex_install.auth.lock import refresh_lock
from codex_install.auth.policy import (
    backoff_delay,
    parse_timestamp,
    permanent_message,
    within_coalesce_window,
)
from codex_install.auth.state import SIGNED_OUT, CredentialState, credential_state
from codex_install.auth.store import (
    AUTH_FILE,
    EXTERNAL_MODES,
    TOKEN_FIELDS,
    AuthSnapshot,
    load_snapshot,
    merge_tokens,
    parse_auth,
    sweep_temp_files,
    unstorable,
    write_auth,
)
from codex_install.errors import (
    AccountReadError,
    AuthFileError,
    CodexInstallError,
    FilesystemError,
    RefreshError,
    hold_secret,
)

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

LOCK_TIMEOUT_S = 60.0
KEYRING_STORE, AUTO_STORE = "keyring", "auto"
_STORES = (FILE_STORE, KEYRING_STORE, AUTO_STORE)
# Codex 0.171.0's account/updated reason once routing discovery is done for the signed-in owner.
ROUTING_READY = "workspaceRoutingReady"
PLAN_TYPE_REQUIRED = "plan type is required for chatgpt authentication"


class AuthManager:
    """Reads auth.json on every call (other processes change it) and refreshes it at most once
    per snapshot across all processes.

    The persisted ledger is the source of truth for poison and backoff; the in-memory copy only
    keeps this process well-behaved when ``CODEX_HOME`` is read-only.
    """

    def __init__(
        self,
        codex_home: Path,
        *,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        client: httpx.Client | None = None,
        jitter: Callable[[], float] = random.random,
        lock_timeout: float = LOCK_TIMEOUT_S,
        warn: Callable[[str], None] | None = None,
        keyring: Keyring | None = None,
    ) -> None:
        self.codex_home = codex_home
        self._env = dict(os.environ if env is None else env)
        self._clock = clock
        self._sleep = sleep
        self._client = client
        self._owns_client = client is None
        self._jitter = jitter
        self._lock_timeout = lock_timeout
        self._warn = _stderr_line if warn is None else warn
        self._warned: set[str] = set()
        self._memory = Ledger()
        # Workspace routing discovered, by (snapshot digest, workspace, chatgpt_base_url): one
        # request per snapshot, as Codex caches it per auth generation. Failures are not kept.
        self._routes: dict[tuple[str, str, str], dict[str, str]] = {}
        self._keyring = Keyring(codex_home, self._env) if keyring is None else keyring
        self._routing_lock = threading.RLock()

    def close(self) -> None:
        if self._owns_client and self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> AuthManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- state ---

    def state(self) -> CredentialState:
        """The state as the status protocol sees it: an unusable auth.json is signed out."""
        snapshot = self._load_for_status()
        return self._state_of(snapshot, self._ledger(snapshot))

    def ensure_fresh(self, *, force: bool = False) -> CredentialState:
        """Refresh a stale chatgpt token if the rules allow (``force``: a valid one too, unless
        this snapshot was refreshed or tried within the coalescing window). Returns the
        resulting state ("poisoned" after a permanent failure, without a request if already
        known); raises RefreshError on a transient failure or while backing off from one."""
        snapshot = self._load()
        settled = self._settled(snapshot, self._ledger(snapshot), force)
        if settled is not None:
            return settled
        with refresh_lock(self.codex_home, timeout=self._lock_timeout, sleep=self._sleep):
            return self._refresh_locked(force)

    # --- status protocol (SPEC §9) ---

    def get_auth_status(
        self, include_token: bool = False, refresh_token: bool = False
    ) -> dict[str, object]:
        """Codex's getAuthStatus. ``include_token`` on an expired token refreshes first, as
        Codex does; ``refresh_token`` forces one. While a transient failure backs off, the
        cached token is handed out (as Codex does): ``authToken: null`` means "sign in again"
        to a client, so it is kept for poisoned and signed-out states."""
        state, snapshot = self._status_state(force=refresh_token, proactive=include_token)
        method = _method(state)
        if snapshot is not None and method in CHATGPT_MODES and not _has_token_data(snapshot):
            method = None  # as Codex: ChatGPT tokens without `last_refresh` give no status
        token: str | None = None
        if include_token and snapshot is not None and method is not None:
            token = _usable_token(state, snapshot)
        return {"authMethod": method, "authToken": token, "requiresOpenaiAuth": True}

    def account_read(self, refresh_token: bool = False, discover: bool = True) -> dict[str, object]:
        """Codex's account/read; ``discover``: the workspace routing of a ChatGPT account too
        (a backend request, once per snapshot), AccountReadError when it fails."""
        state, snapshot = self._status_state(force=refresh_token, proactive=False)
        if snapshot is not None and state.kind == "signed_out":
            answer = _signed_out_answer(snapshot)
            if answer is not None:
                return answer
        method = _method(state) if state.kind != "poisoned" else None
        found = None
        if discover and state.kind == "chatgpt" and snapshot is not None:
            found = self._workspace_routing(snapshot)
        claims = snapshot.claims if snapshot is not None else None
        return account_response(method, claims, found)

    def account_updated(self) -> dict[str, object] | None:
        """The ``account/updated`` notification Codex sends once a connection is initialized
        and routing discovery for the signed-in ChatGPT account succeeded; None otherwise (a
        failed discovery is said by account/read, not here)."""
        state, snapshot = self._status_state(force=False, proactive=False)
        if state.kind != "chatgpt" or snapshot is None or snapshot.account_id is None:
            return None
        try:
            if self._workspace_routing(snapshot) is None:
                return None
        except CodexInstallError as err:
            log.info("workspace routing discovery: %s", err)
            return None
        return {
            "authMode": state.method,
            "planType": plan_type(state.plan),
            "reason": ROUTING_READY,
        }

    # --- internals ---

    def _status_state(
        self, *, force: bool, proactive: bool
    ) -> tuple[CredentialState, AuthSnapshot | None]:
        snapshot = self._load_for_status()
        if snapshot is not None and (force or proactive):
            try:
                self.ensure_fresh(force=force)
            except (RefreshError, FilesystemError, AuthFileError) as err:
                # Status answers carry no error; the token rules decide what is handed out.
                log.info("token refresh skipped: %s", err)
            snapshot = self._load_for_status()
        return self._state_of(snapshot, self._ledger(snapshot)), snapshot

    def _workspace_routing(self, snapshot: AuthSnapshot) -> dict[str, str] | None:
        # One discovery at a time: `auth serve`'s notifier runs one beside the request loop,
        # and an account/read then waits for it instead of asking again (as Codex does).
        with self._routing_lock:
            return self._discovered(snapshot)

    def _discovered(self, snapshot: AuthSnapshot) -> dict[str, str] | None:
        account_id = snapshot.account_id
        token = snapshot.token("access_token")
        if account_id is None or token is None:
            return None
        base = read_codex_config(self.codex_home).chatgpt_base_url
        key = (snapshot.digest, account_id, base)
        if key not in self._routes:
            seconds = min(routing.DISCOVERY_TIMEOUT_S, refresh.deadline_s(self._env))
            try:
                self._routes[key] = routing.discover(
                    self._http(), base, token, account_id, seconds=seconds
                )
            except routing.Unauthorized:
                return self._rediscover(snapshot)
        return self._routes[key]

    def _rediscover(self, snapshot: AuthSnapshot) -> dict[str, str] | None:
        """A 401: as Codex, refresh once and ask again — under our rules (coalesced, poison,
        backoff), so a backend that keeps answering 401 costs at most one token request."""
        try:
            self.ensure_fresh(force=True)
        except (RefreshError, FilesystemError, AuthFileError) as err:
            log.info("token refresh after a 401 skipped: %s", err)
        current = self._load_for_status()
        if current is None or current.digest == snapshot.digest:
            raise routing.Unauthorized()
        state = self._state_of(current, self._ledger(current))
        if state.kind != "chatgpt":
            raise routing.Unauthorized()
        return self._workspace_routing(current)

    def _load_for_status(self) -> AuthSnapshot | None:
        """As Codex answers: an auth.json that cannot be used is "signed out", never an error;
        so are credentials config.toml refuses, and modes only Codex can check. One line on
        stderr names the problem (never the content), once per problem."""
        store = credentials_store(str(self.codex_home), ())
        if store not in _STORES:
            # "ephemeral" keeps the credentials in Codex's memory alone; any other value Codex
            # refuses. Either way there is nothing persisted to answer from.
            self._warn_once(
                f"{STORE_KEY} = {store!r} in {self.codex_home}/config.toml: no stored "
                "credentials to read; answering as signed out"
            )
            return None
        try:
            snapshot = self._load()
        except AuthFileError as err:
            self._warn_once(f"{err}; answering as signed out")
            return None
        if snapshot is None:
            return None
        config = read_codex_config(self.codex_home)
        for note in config.notes:
            self._warn_once(note)
        reason = restriction(config, snapshot.mode, snapshot.account_id)
        if reason is not None:
            self._warn_once(f"{reason}; answering as signed out")
            return None
        if snapshot.mode in EXTERNAL_MODES:
            self._warn_once(
                f"auth.json holds `{snapshot.mode}` credentials, which only Codex can check; "
                "answering as signed out"
            )
            return None
        return snapshot

    def _warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            self._warn(message)

    def _load(self) -> AuthSnapshot | None:
        """The credentials where Codex keeps them (``cli_auth_credentials_store``): auth.json;
        the keyring item; for "auto" the keyring item, else — none there, or no keyring to
        ask — auth.json, as Codex falls back."""
        store = credentials_store(str(self.codex_home), ())
        if store in (KEYRING_STORE, AUTO_STORE):
            try:
                raw = self._keyring.load()
            except AuthFileError:
                if store == KEYRING_STORE:
                    raise
                raw = None
            if raw is not None:
                snapshot = parse_auth(raw, Path(self._keyring.where))
                return replace(snapshot, origin=KEYRING_STORE)
            if store == KEYRING_STORE:
                return None
        return load_snapshot(self.codex_home, sleep=self._sleep)

    def _unstorable(self, snapshot: AuthSnapshot) -> str | None:
        if snapshot.origin == KEYRING_STORE:
            return self._keyring.unstorable()
        return unstorable(self.codex_home)

    def _store(self, snapshot: AuthSnapshot, data: dict[str, Any]) -> AuthSnapshot:
        """Write refreshed credentials back where they were read: Codex's keyring item (whole,
        compact, as Codex writes it) or auth.json."""
        if snapshot.origin == KEYRING_STORE:
            self._keyring.save(json.dumps(data, separators=(",", ":"), ensure_ascii=False))
            return replace(AuthSnapshot.from_data(data), origin=KEYRING_STORE)
        return write_auth(self.codex_home, data)

    def _ledger(self, snapshot: AuthSnapshot | None) -> Ledger:
        disk = read_ledger(self.codex_home)
        if (
            snapshot is not None
            and disk.snapshot != snapshot.digest
            and self._memory.snapshot == snapshot.digest
        ):
            return self._memory
        return disk

    def _state_of(self, snapshot: AuthSnapshot | None, ledger: Ledger) -> CredentialState:
        poison = ledger.poison_for(snapshot.digest) if snapshot else None
        return credential_state(snapshot, poison, self._clock())

    def _settled(
        self, snapshot: AuthSnapshot | None, ledger: Ledger, force: bool = False
    ) -> CredentialState | None:
        """The answer when no request is needed or allowed; None when a refresh should be tried.
        Raises RefreshError while a transient backoff for this snapshot is running."""
        if snapshot is None:
            return SIGNED_OUT
        state = self._state_of(snapshot, ledger)
        if state.kind != "chatgpt":
            return state
        if not state.stale:
            return state if not force or self._coalesced(snapshot, ledger) else None
        if snapshot.token("refresh_token") is None:
            return CredentialState(
                kind="poisoned",
                stale=True,
                email=state.email,
                plan=state.plan,
                reason=permanent_message(None),
            )
        backoff = ledger.backoff_for(snapshot.digest)
        now = self._clock()
        if backoff is not None and backoff.until > now:
            raise RefreshError(
                f"token refresh is backing off after {backoff.attempts} failed attempt(s): "
                f"{backoff.last_error}",
                permanent=False,
                retry_after=backoff.until - now,
            )
        return None

    def _coalesced(self, snapshot: AuthSnapshot, ledger: Ledger) -> bool:
        """A forced refresh of a valid token is answered by a recent one: this snapshot was
        written by a refresh (any process's, Codex's too) or tried within the window. Without a
        refresh token there is nothing to force, and the valid token stands."""
        now = self._clock()
        backoff = ledger.backoff_for(snapshot.digest)
        return (
            snapshot.token("refresh_token") is None
            or within_coalesce_window(parse_timestamp(snapshot.data.get("last_refresh")), now)
            or (backoff is not None and within_coalesce_window(backoff.at or None, now))
        )

    def _refresh_locked(self, force: bool) -> CredentialState:
        # Under the lock: another process may have refreshed, poisoned or backed off meanwhile,
        # or died mid-write and left a temp copy of the credentials.
        sweep_temp_files(self.codex_home, (AUTH_FILE, LEDGER_FILE))
        snapshot = self._load()
        ledger = self._ledger(snapshot)
        settled = self._settled(snapshot, ledger, force)
        if settled is not None or snapshot is None:
            return settled or SIGNED_OUT
        refresh_token = self._spendable_refresh_token(snapshot)
        try:
            tokens = self._request_tokens(refresh_token, snapshot)
        except RefreshError as err:
            if err.permanent:
                return self._record_permanent(snapshot, err)
            self._record_transient(snapshot, ledger, err)
            raise
        return self._adopt(snapshot, tokens)

    def _spendable_refresh_token(self, snapshot: AuthSnapshot) -> str:
        """The refresh token of a snapshot ``_settled`` let through, once a new token could be
        stored; every token of the snapshot is held secret from then on."""
        refresh_token = snapshot.token("refresh_token")
        assert refresh_token is not None  # _settled returns a state otherwise
        why = self._unstorable(snapshot)
        if why is not None:
            # Spending the refresh token now would rotate it at the server and leave auth.json
            # with the revoked one: answer from the snapshot as it is, with no request.
            raise FilesystemError(f"a new token could not be stored: {why}")
        for name in TOKEN_FIELDS:  # whatever the endpoint echoes, no message or ledger shows these
            hold_secret(snapshot.token(name))
        return refresh_token

    def _request_tokens(self, refresh_token: str, snapshot: AuthSnapshot) -> dict[str, str]:
        now = self._clock()
        reason = refresh.PROACTIVE_EXPIRY if snapshot.stale(now) else refresh.FORCED
        return refresh.post_refresh(
            self._http(),
            refresh.token_url(self._env),
            refresh_token,
            now=now,
            reason=reason,
            seconds=refresh.deadline_s(self._env),
        )

    def _adopt(self, snapshot: AuthSnapshot, tokens: dict[str, str]) -> CredentialState:
        """Store the new ``tokens`` over ``snapshot`` unless auth.json changed meanwhile."""
        current = self._load()
        if current is None or current.digest != snapshot.digest:
            # Someone wrote auth.json during the request (a new login): theirs wins.
            return self._state_of(current, self._ledger(current))
        for value in tokens.values():
            hold_secret(value)
        written = self._store(snapshot, merge_tokens(snapshot.data, tokens, self._clock()))
        self._remember(Ledger())
        return self._state_of(written, Ledger())

    def _record_permanent(self, snapshot: AuthSnapshot, err: RefreshError) -> CredentialState:
        current = self._load()
        if current is None or current.digest != snapshot.digest:
            # The failure is about the snapshot we sent, not about what is on disk now.
            return self._state_of(current, self._ledger(current))
        poison = Poison(code=err.code, reason=err.message, at=self._clock())
        ledger = Ledger(snapshot=snapshot.digest, poison=poison)
        self._remember(ledger)
        return self._state_of(snapshot, ledger)

    def _record_transient(self, snapshot: AuthSnapshot, ledger: Ledger, err: RefreshError) -> None:
        previous = ledger.backoff_for(snapshot.digest)
        attempts = (previous.attempts if previous else 0) + 1
        delay = backoff_delay(attempts, err.retry_after, self._jitter())
        now = self._clock()
        backoff = Backoff(attempts=attempts, until=now + delay, last_error=err.message, at=now)
        self._remember(Ledger(snapshot=snapshot.digest, backoff=backoff))
        err.retry_after = delay

    def _remember(self, ledger: Ledger) -> None:
        self._memory = ledger
        if ledger == Ledger() and read_ledger(self.codex_home) == Ledger():
            return
        try:
            write_ledger(self.codex_home, ledger)
        except FilesystemError as err:
            log.warning("could not persist the auth refresh state: %s", err)

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = refresh.new_client()
        return self._client


def _signed_out_answer(snapshot: AuthSnapshot) -> dict[str, object] | None:
    """Codex's account/read for credentials it reads as signed out, where that is no plain
    signed-out answer: an empty API key, or ChatGPT tokens without a plan."""
    if snapshot.mode == "apikey" and snapshot.data.get("OPENAI_API_KEY") == "":
        return account_response("apikey", None)  # as Codex answers an empty key
    if snapshot.mode in CHATGPT_MODES:
        raise AccountReadError(PLAN_TYPE_REQUIRED, invalid_request=True)
    return None


def _method(state: CredentialState) -> str | None:
    if state.kind in ("signed_out", "external"):
        return None
    return state.method


def _has_token_data(snapshot: AuthSnapshot) -> bool:
    """Codex's ``get_token_data``: ChatGPT tokens count only with a ``last_refresh``."""
    return bool(snapshot.tokens) and snapshot.data.get("last_refresh") is not None


def _usable_token(state: CredentialState, snapshot: AuthSnapshot) -> str | None:
    if state.kind == "apikey":
        return snapshot.api_key
    if state.kind != "chatgpt":
        return None  # poisoned: the stale bearer token is never handed out again
    return snapshot.token("access_token")


def _stderr_line(message: str) -> None:
    sys.stderr.write(f"codex-install: warning: {message}\n")
    sys.stderr.flush()

"""`codex-install auth serve`: the auth part of Codex's app-server JSON-RPC on stdio (SPEC §9).

One JSON object per line each way; ``"jsonrpc"`` is optional and echoed when sent. Bad lines get
an error answer and the server keeps serving; EOF ends it cleanly (exit 0). Every line out is
strict JSON; a line in longer than MAX_LINE is skipped to its newline, unread, and answered with
one parse error. A closed stdout ends the session with EXIT_OUTPUT_CLOSED and nothing on stderr:
nobody is left to read an answer.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any, Protocol

from codex_install import __version__
from codex_install.errors import AccountReadError, CodexInstallError

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
MAX_LINE = 1 << 20  # a request is a few hundred bytes; this leaves room for any client's params
EXIT_OUTPUT_CLOSED = 1  # as every command whose answer is cut off by a closed stdout
NOTIFY_WAIT_S = 20.0  # at EOF, for a routing discovery under way (bounded by 15 s itself)


class AuthStatusSource(Protocol):
    def get_auth_status(
        self, include_token: bool = False, refresh_token: bool = False
    ) -> dict[str, object]: ...

    def account_read(self, refresh_token: bool = False) -> dict[str, object]: ...


class _RpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


Notifier = Callable[[], "dict[str, object] | None"]


class RpcSession:
    """The protocol state machine; ``handle_line`` is everything but the I/O.

    ``account_updated`` gives the params of Codex's ``account/updated`` notification (or None).
    Codex 0.171.0 sends it once routing discovery is done, in the background: when the client
    says ``initialized``, ``account_update_due`` tells the server to ask ``account_notification``
    off the request loop, so no answer waits for the backend."""

    def __init__(
        self,
        source: AuthStatusSource,
        account_updated: Notifier | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._source = source
        self._account_updated = account_updated
        self._clock = clock
        self.initialized = False
        self.account_update_due = False

    def handle_line(self, line: str) -> dict[str, Any] | None:
        try:
            message = json.loads(line, parse_constant=_not_json)
        except (ValueError, RecursionError):  # RecursionError: nested too deep
            return _error(None, PARSE_ERROR, "Parse error", jsonrpc=False)
        if not _is_request(message):
            return _error(_request_id(message), INVALID_REQUEST, "Invalid Request", jsonrpc=False)
        return self._answer(message)

    def _answer(self, message: dict[str, Any]) -> dict[str, Any] | None:
        """The response to a well-formed request; None for a notification, even a failed one."""
        jsonrpc = "jsonrpc" in message
        is_notification = "id" not in message
        try:
            result = self._dispatch(message["method"], message.get("params"), is_notification)
        except _RpcError as err:
            return (
                None
                if is_notification
                else _error(message["id"], err.code, err.message, jsonrpc=jsonrpc)
            )
        if is_notification:
            return None
        response: dict[str, Any] = {"id": message["id"], "result": result}
        return {"jsonrpc": "2.0", **response} if jsonrpc else response

    def _dispatch(self, method: str, params: object, is_notification: bool) -> object:
        if method == "initialize":
            if self.initialized:
                raise _RpcError(INVALID_REQUEST, "Already initialized")
            self.initialized = True
            return {"userAgent": f"codex-install/{__version__}"}
        if method == "initialized" and is_notification:
            self.account_update_due = self._account_updated is not None
            return None
        if not self.initialized:
            raise _RpcError(INVALID_REQUEST, "Not initialized")
        if method == "getAuthStatus":
            args = _flags(params, "includeToken", "refreshToken")
            return self._call(
                lambda: self._source.get_auth_status(
                    include_token=args["includeToken"], refresh_token=args["refreshToken"]
                )
            )
        if method == "account/read":
            args = _flags(params, "refreshToken")
            return self._call(lambda: self._source.account_read(refresh_token=args["refreshToken"]))
        raise _RpcError(METHOD_NOT_FOUND, f"Method not found: {method}")

    def account_notification(self) -> dict[str, Any] | None:
        """The ``account/updated`` line, or None when there is nothing to say."""
        params = self._account_updated() if self._account_updated is not None else None
        if params is None:
            return None
        # As Codex 0.171.0 stamps every notification.
        return {
            "method": "account/updated",
            "params": params,
            "emittedAtMs": int(self._clock() * 1000),
        }

    @staticmethod
    def _call(func: Callable[[], object]) -> object:
        try:
            return func()
        except AccountReadError as err:
            code = INVALID_REQUEST if err.invalid_request else INTERNAL_ERROR
            raise _RpcError(code, str(err)) from err
        except CodexInstallError as err:
            raise _RpcError(INTERNAL_ERROR, str(err)) from err


def serve(
    source: AuthStatusSource,
    stdin: IO[bytes],
    stdout: IO[str],
    account_updated: Notifier | None = None,
) -> int:
    """Answer one line at a time until EOF; returns the exit status.

    ``stdin`` is binary: the protocol is UTF-8 whatever the locale says, and a line that is not
    UTF-8 must be one parse error, not a decode error that ends the session."""
    session = RpcSession(source, account_updated)
    writer = _Writer(stdout)
    notifier: threading.Thread | None = None
    for raw in read_lines(stdin, MAX_LINE):
        if raw is not None and not raw.strip():
            continue
        response = _response_to(session, raw)
        if response is not None and not writer.send(response):
            return EXIT_OUTPUT_CLOSED
        if session.account_update_due:
            notifier = _start_notifier(session, writer)
    if notifier is not None:
        notifier.join(NOTIFY_WAIT_S)  # what was found out at EOF is still said
    return EXIT_OUTPUT_CLOSED if writer.closed else 0


def _response_to(session: RpcSession, raw: bytes | None) -> dict[str, Any] | None:
    """The answer to one line of input (None: a line longer than MAX_LINE)."""
    if raw is None:
        return _error(None, PARSE_ERROR, "Parse error: line too long", jsonrpc=False)
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _error(None, PARSE_ERROR, "Parse error", jsonrpc=False)
    return session.handle_line(line)


def _start_notifier(session: RpcSession, writer: _Writer) -> threading.Thread:
    session.account_update_due = False
    notifier = threading.Thread(target=_notify, args=(session, writer), daemon=True)
    notifier.start()
    return notifier


def _notify(session: RpcSession, writer: _Writer) -> None:
    message = session.account_notification()
    if message is not None:
        writer.send(message)


class _Writer:
    """Whole lines from the request loop and the notifier, never interleaved."""

    def __init__(self, stdout: IO[str]) -> None:
        self._stdout = stdout
        self._lock = threading.Lock()
        self.closed = False

    def send(self, message: Mapping[str, Any]) -> bool:
        with self._lock:
            self.closed = self.closed or not _send(self._stdout, message)
            return not self.closed


def read_lines(stream: IO[bytes], cap: int) -> Iterator[bytes | None]:
    """Each line of ``stream`` (newline included), or None for a line longer than ``cap``,
    which is skipped to its newline without being held: memory stays within ``cap``."""
    while line := stream.readline(cap + 1):
        if len(line) <= cap or line.endswith(b"\n"):
            yield line if len(line) <= cap else None
            continue
        while (rest := stream.readline(cap)) and not rest.endswith(b"\n"):
            pass
        yield None


def encode(message: Mapping[str, Any]) -> str:
    """One strict JSON line: NaN and the infinities are not JSON, and never leave."""
    return json.dumps(message, separators=(",", ":"), allow_nan=False) + "\n"


def _send(stdout: IO[str], message: Mapping[str, Any]) -> bool:
    """False when stdout is closed: then its descriptor goes to /dev/null, so the interpreter's
    last flush at exit has nothing to complain about."""
    try:
        stdout.write(encode(message))
        stdout.flush()
    except (BrokenPipeError, ConnectionResetError):
        _to_devnull(stdout)
        return False
    return True


def _to_devnull(stream: IO[str]) -> None:
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


def _is_request(message: object) -> bool:
    """A JSON object with a string ``method`` and, if it has an ``id``, a valid one."""
    return (
        isinstance(message, dict)
        and isinstance(message.get("method"), str)
        and ("id" not in message or _valid_id(message["id"]))
    )


def _request_id(message: object) -> object:
    """The id to answer an invalid request with: its own, when that is a valid id."""
    request_id = message.get("id") if isinstance(message, dict) else None
    return request_id if _valid_id(request_id) else None


def _valid_id(value: object) -> bool:
    """JSON-RPC ids Codex takes: a string or an integer (a float, a bool, null are none)."""
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _not_json(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _flags(params: object, *names: str) -> dict[str, bool]:
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise _RpcError(INVALID_PARAMS, "Invalid params: expected an object")
    flags = {}
    for name in names:
        value = params.get(name)
        if value is not None and not isinstance(value, bool):
            raise _RpcError(INVALID_PARAMS, f"Invalid params: {name} must be a boolean")
        flags[name] = bool(value)
    return flags


def _error(request_id: object, code: int, message: str, *, jsonrpc: bool) -> dict[str, Any]:
    response: dict[str, Any] = {"id": request_id, "error": {"code": code, "message": message}}
    return {"jsonrpc": "2.0", **response} if jsonrpc else response

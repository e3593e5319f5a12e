"""The re-run of an install that changed nothing, answered from what the previous run left,
before click and the install stack are imported (SPEC §11).

A Python process that imports click, pathlib and the install stack spends ~0.15 s before it can
say "already installed"; Codex's install.sh says it in ~0.05 s. So when a full run of
``install … --no-login`` found its release installed and changed nothing, it leaves a record
(``<cache dir>/noop.json``, mode 0600): a digest of everything the process was given (argv,
environment, working directory, user, terminals, this package's files), the state of every path
its answer was read from, the one conditional request that says the release metadata is
unchanged, and the answer itself (its stderr lines and ``--json`` object). The next run with the
same digest and the same state sends that request and, on ``304 Not Modified``, prints the same
answer with its own timings. Anything else (another digest, a path changed, the lock held, any
other HTTP answer, an unreadable record) and the full CLI runs and answers, as it always does.

Only ``os``-level modules: this runs before anything else on every ``codex-install install``.
"""

from __future__ import annotations

import json
import os
import sys
import time

from codex_install import __version__, locations

TYPE_CHECKING = False  # not typing's: importing typing costs ms on this path
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import IO, Any

RECORD = "noop.json"
RECORD_VERSION = 1
RECORD_CAP = 1 << 20  # a record is a few KiB; anything bigger is not one of ours
HEADERS_CAP = 64 << 10
LIGHT_TIMEOUT = 2.0  # as sources.github's light request: a silent host costs no more here
INTERRUPTED = "codex-install: interrupted"
# How the revalidation went when it did not say 304, by URL: the full run's light request takes
# "refused" as its own failed attempt and "late" as its own timeout, so that a dead or silent
# GitHub costs what it cost before this path existed.
UNANSWERED: dict[str, str] = {}


def render_json(data: Mapping[str, Any]) -> str:
    """The ``--json`` object as every command prints it."""
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def may_answer(argv: Sequence[str]) -> bool:
    """Whether a record could stand for this command line: ``install … --no-login`` only (the
    sign-in of any other reads credentials, which no record can vouch for)."""
    return bool(argv) and argv[0] == "install" and "--no-login" in argv


def record_path(env: Mapping[str, str]) -> str:
    return os.path.join(locations.cache_dir(env), RECORD)


# Variables that differ from one run of the same command to the next and that nothing here
# reads: the shell's previous directory and nesting level, and the padding hyperfine adds to
# every run's environment (a benchmark would otherwise never see a re-run).
VOLATILE = frozenset({"OLDPWD", "SHLVL", "HYPERFINE_RANDOMIZED_ENVIRONMENT_OFFSET"})


def digest(argv: Sequence[str], env: Mapping[str, str]) -> str:
    """What the answer may depend on that is given to the process rather than read from disk."""
    import hashlib  # here: a command that never gets this far never loads OpenSSL's digests

    given = [
        list(argv),
        sorted(item for item in env.items() if item[0] not in VOLATILE),
        os.getcwd(),
        [os.getuid(), os.geteuid(), os.getgid(), sorted(os.getgroups())],
        [_isatty(fd) for fd in (0, 1, 2)],
        list(os.uname()),
        [sys.executable, sys.version, __version__, _package_state()],
    ]
    return hashlib.sha256(json.dumps(given).encode("utf-8", "surrogateescape")).hexdigest()


def state(paths: Sequence[str]) -> list[list[Any]]:
    """Each path with what lstat (and stat, through a link) says of it; None where nothing is."""
    return [[p, _stat(p, follow=False), _stat(p, follow=True), _realpath(p)] for p in paths]


def answer(
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> int | None:
    """The exit code after printing the recorded answer, or None: the full CLI answers."""
    if not may_answer(argv):
        return None
    t0 = clock()
    record = _ours(argv, env)
    fd = _try_lock(record["lock"]) if record is not None else None
    if record is None or fd is None:
        return None
    try:
        t_lock = clock()
        if not _still_true(record):
            return None
        try:
            streams = (sys.stdout if out is None else out, sys.stderr if err is None else err)
            _print(record, (t0, t_lock, clock()), *streams)
        except OSError:  # stdout or stderr closed under us: said nothing whole, never twice
            return 1
    finally:
        os.close(fd)  # the lock goes with it
    return 0


def _still_true(record: dict[str, Any]) -> bool:
    """Checked under the lock (an install or `use` that finished meanwhile shows here): every
    watched path as it was, then the release metadata unchanged (304) where it was asked."""
    if not _standing(record):
        return False
    request = record.get("request")
    return request is None or _not_modified(request)


def _ours(argv: Sequence[str], env: Mapping[str, str]) -> dict[str, Any] | None:
    """The record, when this very invocation left it."""
    record = _load(record_path(env))
    if record is None or record.get("digest") != digest(argv, env):
        return None
    return record


def _standing(record: dict[str, Any]) -> bool:
    """Whether every path the record watches is as it was, and still writable where it was."""
    if state(record["paths"]) != record["state"]:
        return False
    return all(os.access(d, os.W_OK) for d in record["writable"])


def _print(
    record: dict[str, Any],
    times: tuple[float, float, float],
    out: IO[str] | None,
    err: IO[str] | None,
) -> None:
    """The recorded answer; a stream Python started without (``>&-``) gets nothing, as click's
    echo gives it nothing."""
    if err is not None:
        for line in record["stderr"]:
            err.write(line + "\n")
        err.flush()
    data = record.get("stdout")
    if isinstance(data, dict) and out is not None:
        t0, t_lock, t_end = times
        # A reuse charges the lock wait to "lock" and the rest (the request) to "activate".
        timings = dict.fromkeys(data.get("timings") or (), 0.0)
        timings["lock"] = round(t_lock - t0, 4)
        timings["activate"] = round(t_end - t_lock, 4)
        timings["total"] = round(t_end - t0, 4)
        out.write(render_json({**data, "timings": timings}))
        out.flush()


def _load(path: str) -> dict[str, Any] | None:
    """The record, when it is one: anything unreadable or odd is no record."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
        try:
            st = os.fstat(fd)
            # Ours alone (a cache dir in /tmp could hold anyone's): our uid, nobody else's write.
            mine = st.st_uid == os.geteuid() and not st.st_mode & 0o022
            raw = os.read(fd, RECORD_CAP + 1) if mine else b""
        finally:
            os.close(fd)
        record = json.loads(raw) if raw and len(raw) <= RECORD_CAP else None
    except (OSError, ValueError, RecursionError):
        return None
    return record if _well_formed(record) else None


def _well_formed(record: object) -> bool:
    if not isinstance(record, dict) or record.get("version") != RECORD_VERSION:
        return False
    shapes = {"paths": list, "state": list, "writable": list, "stderr": list, "lock": str}
    if not all(isinstance(record.get(k), kind) for k, kind in shapes.items()):
        return False
    lines_ok = all(isinstance(line, str) for line in record["stderr"])
    return lines_ok and len(record["paths"]) == len(record["state"])


def _try_lock(path: str) -> int | None:
    """The install lock, held (as fs.file_lock holds it), or None when it is busy or odd: the
    full CLI then waits for it and says so."""
    import fcntl

    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _not_modified(request: dict[str, Any]) -> bool:
    """Whether the recorded request, conditional on the recorded ETag, is answered 304 within
    LIGHT_TIMEOUT (connect, TLS and the headers: a signal cuts a trickle off)."""
    import signal

    def late(_signum: int, _frame: object) -> None:
        raise TimeoutError("no answer in time")

    try:
        previous = signal.signal(signal.SIGALRM, late)
    except ValueError:  # not the main thread (a test harness): the socket timeouts only
        return _exchange(request) == "304"
    signal.setitimer(signal.ITIMER_REAL, LIGHT_TIMEOUT)
    try:
        outcome = _exchange(request)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if outcome != "304":
        UNANSWERED[str(request.get("url"))] = outcome
    return outcome == "304"


def _exchange(request: dict[str, Any]) -> str:
    """ "304", or what happened instead: "refused" (no connection at all), "late", "other"."""
    import socket

    try:
        host, port, scheme = request["host"], int(request["port"]), request["scheme"]
        text = _request_text(request)
        sock = socket.create_connection((host, port), LIGHT_TIMEOUT)
    except (socket.gaierror, ConnectionRefusedError):
        return "refused"
    except TimeoutError:
        return "late"
    except (OSError, KeyError, TypeError, ValueError):
        return "other"
    try:
        if scheme == "https":
            sock = _tls(sock, host, request.get("cafile"))
        sock.sendall(text)
        return "304" if _status(sock) == b"304" else "other"
    except TimeoutError:
        return "late"
    except (OSError, ValueError):
        return "other"
    finally:
        sock.close()


def _request_text(request: dict[str, Any]) -> bytes:
    lines = [f"GET {request['target']} HTTP/1.1", f"Host: {request['authority']}"]
    lines += [f"{name}: {value}" for name, value in request["headers"].items()]
    lines += [f"If-None-Match: {request['etag']}", "Connection: close"]
    if any(c in line for line in lines for c in "\r\n\0"):
        raise ValueError("a recorded header carries a line break")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _tls(sock: Any, host: str, cafile: str | None) -> Any:
    import ssl  # only an https API URL pays for it

    context = ssl.create_default_context(cafile=cafile)
    try:
        return context.wrap_socket(sock, server_hostname=host)
    except BaseException:
        sock.close()
        raise


def _status(sock: Any) -> bytes:
    """The status code of the answer whose headers arrive, whole, within HEADERS_CAP."""
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(8192)
        if not chunk or len(head) + len(chunk) > HEADERS_CAP:
            return b""
        head += chunk
    status_line = head.split(b"\r\n", 1)[0].split(b" ")
    if len(status_line) < 2 or status_line[0] not in (b"HTTP/1.1", b"HTTP/1.0"):
        return b""
    return status_line[1]


def _stat(path: str, *, follow: bool) -> list[int] | None:
    try:
        st = os.stat(path) if follow else os.lstat(path)
    except OSError:
        return None
    return [
        st.st_mode,
        st.st_ino,
        st.st_dev,
        st.st_uid,
        st.st_gid,
        st.st_size,
        st.st_mtime_ns,
        st.st_ctime_ns,
    ]


def _realpath(path: str) -> str | None:
    try:
        return os.path.realpath(path, strict=True)
    except (OSError, ValueError):
        return None


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def _package_state() -> list[Any]:
    """This package's files (code and shipped manifests) as they are now: an edited checkout or
    another release of it is another program."""
    root = os.path.dirname(os.path.abspath(__file__))
    found = []
    for where, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            path = os.path.join(where, name)
            st = os.stat(path)
            found.append([os.path.relpath(path, root), st.st_size, st.st_mtime_ns])
    return found

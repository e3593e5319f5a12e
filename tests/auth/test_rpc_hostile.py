"""`auth serve` against hostile input (issue 21 item 7): every line out is strict JSON, ids
other than a string or an integer are invalid requests, a line past the cap is skipped to its
newline in bounded memory, and a closed stdout ends the session with its documented code and
nothing on stderr."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from codex_install.auth.rpc import (
    EXIT_OUTPUT_CLOSED,
    MAX_LINE,
    RpcSession,
    encode,
    read_lines,
    serve,
)
from servers.oauth import FakeTokenEndpoint

from .conftest import auth_env
from .test_rpc import INIT, FakeSource

# The server's own peak RSS on Linux and macOS (which has no /proc): a small shim starts it and
# reports wait4's ru_maxrss once it ends. Started from pytest itself, the child's count would
# begin at pytest's own size on Linux (exec carries the high-water mark over).
_PEAK_RSS_SHIM = (
    "import os, sys\n"
    "pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    "os.write(int(sys.argv[1]), str(usage.ru_maxrss).encode())\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)
INVALID = {"code": -32600, "message": "Invalid Request"}
PARSE = {"code": -32700, "message": "Parse error"}


def strict(line: str) -> object:
    return json.loads(line, parse_constant=lambda name: pytest.fail(f"{name} in output"))


@pytest.mark.parametrize(
    ("raw_id", "error"),
    [
        ("1e400", INVALID),  # valid JSON, a float beyond any double: never echoed as Infinity
        ("1.5", INVALID),
        ("-0.0", INVALID),
        ("true", INVALID),
        ("null", INVALID),
        ("[1]", INVALID),
        ('{"a": 1}', INVALID),
        ("NaN", PARSE),  # not JSON at all
        ("-Infinity", PARSE),
        ("Infinity", PARSE),
    ],
)
def test_an_id_that_is_no_string_or_integer_is_refused_with_a_null_id(
    raw_id: str, error: dict[str, object]
) -> None:
    rpc = RpcSession(FakeSource())
    rpc.handle_line(json.dumps(INIT))
    answer = rpc.handle_line(f'{{"id": {raw_id}, "method": "getAuthStatus"}}')
    assert answer == {"id": None, "error": error}
    assert strict(encode(answer)) == answer  # type: ignore[arg-type]


@pytest.mark.parametrize("good_id", ["abc", 7, -3, 2**70, ""])
def test_string_and_integer_ids_are_echoed(good_id: object) -> None:
    rpc = RpcSession(FakeSource())
    rpc.handle_line(json.dumps(INIT))
    answer = rpc.handle_line(json.dumps({"id": good_id, "method": "getAuthStatus"}))
    assert answer is not None and answer["id"] == good_id and "result" in answer


def test_encode_refuses_what_is_not_json() -> None:
    with pytest.raises(ValueError):
        encode({"id": float("nan")})


def test_a_line_past_the_cap_is_one_error_and_the_next_line_is_answered() -> None:
    stream = io.BytesIO(
        json.dumps(INIT).encode()
        + b"\n"
        + b"x" * (3 * MAX_LINE + 5)
        + b"\n"
        + b'{"id": 2, "method": "getAuthStatus"}\n'
        + b"y" * (MAX_LINE + 1)  # the last line, no newline
    )
    out = io.StringIO()
    assert serve(FakeSource(), stream, out) == 0
    answers = [strict(line) for line in out.getvalue().splitlines()]
    assert [a.get("id") for a in answers] == [0, None, 2, None]  # type: ignore[union-attr]
    assert (
        answers[1]
        == answers[3]
        == {"id": None, "error": {**PARSE, "message": "Parse error: line too long"}}
    )


def test_read_lines_holds_at_most_the_cap() -> None:
    lines = list(read_lines(io.BytesIO(b"ab\n" + b"c" * 10 + b"\nd"), 4))
    assert lines == [b"ab\n", None, b"d"]
    assert list(read_lines(io.BytesIO(b"abcd\nabcde\n"), 4)) == [None, None]


def test_closed_stdout_ends_the_session_with_its_code_and_no_noise(
    home: Path, oauth: FakeTokenEndpoint
) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will ever read an answer
    proc = subprocess.Popen(
        [sys.executable, "-m", "codex_install", "auth", "serve"],
        env=auth_env(home, oauth),
        stdin=subprocess.PIPE,
        stdout=write_end,
        stderr=subprocess.PIPE,
    )
    os.close(write_end)
    _, err = proc.communicate(json.dumps(INIT).encode() + b"\n", timeout=30)
    assert proc.returncode == EXIT_OUTPUT_CLOSED
    assert err == b""


@pytest.mark.slow
def test_a_512_mib_line_is_skipped_in_bounded_memory(home: Path, oauth: FakeTokenEndpoint) -> None:
    report_r, report_w = os.pipe()
    serve = [sys.executable, "-m", "codex_install", "auth", "serve"]
    proc = subprocess.Popen(
        [sys.executable, "-S", "-c", _PEAK_RSS_SHIM, str(report_w), *serve],
        env=auth_env(home, oauth),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        pass_fds=(report_w,),
    )
    os.close(report_w)
    assert proc.stdin is not None and proc.stdout is not None
    start = time.monotonic()

    def feed() -> None:
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(INIT).encode() + b"\n")
        chunk = b"x" * (1 << 20)
        for _ in range(512):
            proc.stdin.write(chunk)
        proc.stdin.write(b'\n{"id": 2, "method": "getAuthStatus"}\n')
        proc.stdin.flush()

    writer = threading.Thread(target=feed)
    writer.start()
    answers = [json.loads(proc.stdout.readline()) for _ in range(3)]
    took = time.monotonic() - start
    writer.join()
    proc.stdin.close()
    proc.wait(timeout=30)
    with os.fdopen(report_r, "rb") as report:
        max_rss = int(report.read())
    peak_kib = max_rss // 1024 if sys.platform == "darwin" else max_rss  # bytes on macOS
    assert [a["id"] for a in answers] == [0, None, 2]
    assert peak_kib < 100 * 1024, f"peak RSS {peak_kib} KiB"
    print(f"512 MiB line: {took:.2f} s, peak RSS {peak_kib / 1024:.1f} MiB")

"""Talk to an app-server over stdio — Codex's own (``codex app-server``) or ours
(``codex-install auth serve``) — with the same lines, and collect every answer and notification.

Used to hold our answers against the real binary side by side (the opt-in e2e tests) and to
drive ours as a process."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

INITIALIZE = {
    "id": 0,
    "method": "initialize",
    "params": {"clientInfo": {"name": "t", "version": "1"}},
}
INITIALIZED = {"method": "initialized"}


@dataclass(frozen=True)
class Session:
    answers: dict[Any, dict[str, Any]]  # by request id
    notifications: list[dict[str, Any]]
    stderr: str
    returncode: int | None

    def result(self, request_id: Any) -> Any:
        return self.answers[request_id].get("result")

    def error(self, request_id: Any) -> Any:
        return self.answers[request_id].get("error")

    def notified(self, method: str) -> list[dict[str, Any]]:
        return [n.get("params") for n in self.notifications if n.get("method") == method]


def talk(
    argv: Sequence[str],
    env: Mapping[str, str],
    requests: Sequence[Mapping[str, Any]],
    *,
    linger: float = 0.0,
    timeout: float = 30.0,
) -> Session:
    """Send initialize, initialized and ``requests`` (one line each, waiting for each answer),
    wait ``linger`` seconds more for notifications, then close stdin."""
    proc = subprocess.Popen(
        list(argv),
        env=dict(env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    answers: dict[Any, dict[str, Any]] = {}
    notifications: list[dict[str, Any]] = []
    buffer = b""
    deadline = time.monotonic() + timeout
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)

    def pump(until: float, want: Any = None) -> None:
        nonlocal buffer
        while time.monotonic() < until and (want is None or want not in answers):
            if not sel.select(max(0.0, min(0.05, until - time.monotonic()))):
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)  # type: ignore[union-attr]
            if not chunk:
                return
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if not line.strip():
                    continue
                message = json.loads(line)
                if "id" in message and ("result" in message or "error" in message):
                    answers[message["id"]] = message
                else:
                    notifications.append(message)

    try:
        for request in (INITIALIZE, INITIALIZED, *requests):
            proc.stdin.write(json.dumps(request).encode() + b"\n")
            proc.stdin.flush()
            if "id" in request:
                pump(deadline, request["id"])
        pump(min(deadline, time.monotonic() + linger))
        proc.stdin.close()
        try:
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        pump(time.monotonic() + 0.2)
        stderr = proc.stderr.read().decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sel.close()
        proc.stdout.close()
        proc.stderr.close()
    return Session(answers, notifications, stderr, proc.returncode)

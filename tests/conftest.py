"""Shared fixtures: loopback servers and an isolated environment for each test."""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from servers.fake_http import FakeHTTPServer

# CI must not go red on an example nobody has seen before: it replays a fixed set. Locally the
# examples stay random (and hypothesis keeps any failure it finds in .hypothesis/).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

# CODEX_INSTALL_CHECK_DURATIONS=report lists the tests not marked slow that took >= 1 s (setup,
# call and teardown together); =1 also fails the run for one that took >= 2 s (the margin keeps a
# busy machine from turning a 0.7 s test red). CI only reports: a noisy runner must not fail it.
_CHECK = os.environ.get("CODEX_INSTALL_CHECK_DURATIONS", "")
CHECK_DURATIONS = _CHECK in ("1", "report")
FAIL_ON_SLOW = _CHECK == "1"
SLOW_REPORT_S, SLOW_FAIL_S = 1.0, 2.0
_unmarked_seconds: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if CHECK_DURATIONS and "slow" not in report.keywords:
        _unmarked_seconds[report.nodeid] = (
            _unmarked_seconds.get(report.nodeid, 0.0) + report.duration
        )


def _too_slow(limit: float) -> list[tuple[float, str]]:
    return sorted(((s, n) for n, s in _unmarked_seconds.items() if s >= limit), reverse=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if FAIL_ON_SLOW and _too_slow(SLOW_FAIL_S) and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    slow = _too_slow(SLOW_REPORT_S)
    if not slow:
        return
    terminalreporter.section(f"not marked slow but took >= {SLOW_REPORT_S:g} s")
    for seconds, nodeid in slow:
        verdict = "FAIL" if FAIL_ON_SLOW and seconds >= SLOW_FAIL_S else "mark it slow"
        terminalreporter.write_line(f"{seconds:6.2f}s {nodeid}  ({verdict})")
    if FAIL_ON_SLOW and slow[0][0] >= SLOW_FAIL_S:
        terminalreporter.write_line(f"exit status 1: an unmarked test took >= {SLOW_FAIL_S:g} s")


_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: object) -> None:
    if self.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
        host = str(address[0])
        if not (host.startswith("127.") or host in ("::1", "localhost")):
            raise ConnectionRefusedError(f"hermetic tests: no connection to {host}")
    _real_connect(self, address)


@pytest.fixture(autouse=True)
def hermetic_network(request: pytest.FixtureRequest) -> Iterator[None]:
    """In-process code may only talk to 127.0.0.1 (e2e tests are exempt)."""
    if request.node.get_closest_marker("e2e"):
        yield
        return
    socket.socket.connect = _loopback_only  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect = _real_connect  # type: ignore[method-assign]


@pytest.fixture(scope="session", autouse=True)
def shared_ssl_contexts() -> Iterator[None]:
    """Each httpx client parses a whole CA bundle into a new SSL context (~30 ms); the suite
    makes hundreds of clients. For verify=True the context depends only on the bundle file
    (SSL_CERT_FILE, else certifi's), so the tests share one per file and its stat; anything
    else (verify=False/a context, client certs, SSL_CERT_DIR alone) is built anew."""
    try:
        import certifi
        from httpx._transports import default as transport
    except ImportError:  # another httpx layout: no sharing, just slower
        yield
        return
    real: Callable[..., ssl.SSLContext] = transport.create_ssl_context
    shared: dict[tuple[object, ...], ssl.SSLContext] = {}

    def bundle(trust_env: bool) -> str | None:
        """The CA file httpx would load; None for an SSL_CERT_DIR (read lazily, cheap)."""
        if trust_env and os.environ.get("SSL_CERT_FILE"):
            return os.environ["SSL_CERT_FILE"]
        if trust_env and os.environ.get("SSL_CERT_DIR"):
            return None
        return str(certifi.where())

    def create(verify: Any = True, cert: Any = None, trust_env: bool = True) -> ssl.SSLContext:
        cafile = bundle(trust_env)
        if verify is not True or cert is not None or cafile is None:
            return real(verify=verify, cert=cert, trust_env=trust_env)
        try:
            st = os.stat(cafile)
        except OSError:
            return real(verify=verify, cert=cert, trust_env=trust_env)
        key = (cafile, st.st_ino, st.st_size, st.st_mtime_ns)
        if key not in shared:
            shared[key] = real(verify=verify, cert=cert, trust_env=trust_env)
        return shared[key]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(transport, "create_ssl_context", create)
        yield


@pytest.fixture
def server() -> Iterator[FakeHTTPServer]:
    srv = FakeHTTPServer().start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


@pytest.fixture
def env(home: Path, server: FakeHTTPServer, tmp_path: Path) -> dict[str, str]:
    """An environment with every path in a temp dir and GitHub pointed at the fake server."""
    base = {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "CODEX_HOME": str(home / ".codex"),
        "CODEX_INSTALL_DIR": str(home / "bin"),
        "CODEX_INSTALL_CACHE_DIR": str(tmp_path / "cache"),
        # Hermetic: no manifest shipped in the repo pins a test install (tests opt in).
        "CODEX_INSTALL_MANIFEST_DIR": str(tmp_path / "no-shipped-manifests"),
        "GITHUB_API_URL": server.url,
        "CODEX_NON_INTERACTIVE": "1",
        "NO_PROXY": "127.0.0.1,localhost",
        "LANG": "C.UTF-8",
    }
    return base

"""The light GitHub request (``fetch_release_light``) never takes a cut-off answer for one: a
body that ends before its Content-Length is left to the requests path (which retries it, and
refuses it), and nothing of it is cached."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from builders import package_release
from cli_helpers import REPO
from codex_install.sources.github import LIGHT_CACHE, GitHubConfig, fetch_release_light
from codex_install.versions import parse_version


@contextlib.contextmanager
def cut_off_server(body: bytes, claimed: int) -> Iterator[str]:
    """Answers every request with ``body`` under ``Content-Length: claimed``, then hangs up."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with contextlib.suppress(OSError), conn:
                conn.recv(65536)
                conn.sendall(
                    b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nETag: "e1"\r\n'
                    + f"Content-Length: {claimed}\r\nConnection: close\r\n\r\n".encode()
                    + body
                )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        listener.close()


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("https_proxy", "http_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.mark.parametrize("spec", ["latest", "0.169.0"])
def test_a_body_short_of_its_content_length_is_no_answer(tmp_path: Path, spec: str) -> None:
    rel = package_release("0.169.0")
    body = json.dumps(rel.release_json({n: f"http://127.0.0.1:9/{n}" for n in rel.files}))
    with cut_off_server(body.encode(), len(body) + 100) as url:
        config = GitHubConfig(api_url=url, repo=REPO, cache_dir=tmp_path)
        assert fetch_release_light(config, parse_version(spec)) is None
    assert not (tmp_path / LIGHT_CACHE).exists()


def test_a_body_of_its_content_length_is_the_answer(tmp_path: Path) -> None:
    rel = package_release("0.169.0")
    body = json.dumps(rel.release_json({n: f"http://127.0.0.1:9/{n}" for n in rel.files}))
    with cut_off_server(body.encode(), len(body)) as url:
        config = GitHubConfig(api_url=url, repo=REPO, cache_dir=tmp_path)
        release = fetch_release_light(config, parse_version("latest"))
    assert release is not None and release.version == "0.169.0"
    assert (tmp_path / LIGHT_CACHE).exists()

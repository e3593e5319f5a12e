"""Serve a bench release (bench/make_release.py) on 127.0.0.1 as a GitHub API + download host.

Routes, for a release directory DIR::

    /repos/bench/codex/releases/{latest,tags/rust-v<ver>}     DIR/release.json (.tar.zst + .tar.gz)
    /repos/bench/codex-gz/releases/{latest,tags/rust-v<ver>}  DIR/release-gz.json (.tar.gz only)
    /download/<asset>                                          the file, with Range support

Files go out with ``sendfile`` (zero-copy, GIL released), so the server is never the bottleneck:
``curl -o /dev/null`` from it runs at memory speed. Prints one JSON line ``{"url": ...}`` on
stdout once it accepts connections, then serves until killed. ``--static`` serves every file
under DIR at its path instead (a ``mirror sync`` tree, as a web server would).

    python bench/serve.py DIR [--port 0] [--static]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPOS = {"bench/codex": "release.json", "bench/codex-gz": "release-gz.json"}


def make_handler(root: Path, version: str, *, static: bool = False) -> type[BaseHTTPRequestHandler]:
    assets = {p.name: p for p in root.iterdir() if p.name.startswith("codex-package")}
    tag = f"rust-v{version}"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "bench-serve"
        # Headers and body go out as two writes: with Nagle on, a keep-alive client's second
        # request waits ~40 ms for the delayed ACK before its body comes. Real servers (GitHub,
        # nginx) send with TCP_NODELAY; so do the test suite's servers.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_HEAD(self) -> None:
            self._serve(head=True)

        def do_GET(self) -> None:
            self._serve(head=False)

        def _serve(self, head: bool) -> None:
            path = self.path.split("?", 1)[0]
            if static:
                found = (root / path.lstrip("/")).resolve()
                if found.is_relative_to(root.resolve()) and found.is_file():
                    return self._file(found, head)
                return self._send(404, b"not found", "text/plain", head)
            if path.startswith("/download/") and path[10:] in assets:
                return self._file(assets[path[10:]], head)
            for repo, name in REPOS.items():
                base = f"/repos/{repo}/releases/"
                if path in (base + "latest", base + f"tags/{tag}"):
                    body = (root / name).read_bytes()
                    # As GitHub: a strong ETag, and 304 (no body) when the client has it.
                    etag = f'"{hashlib.sha256(body).hexdigest()}"'
                    if self.headers.get("If-None-Match") == etag:
                        return self._send(304, b"", "application/json", True, etag)
                    return self._send(200, body, "application/json", head, etag)
            return self._send(404, b'{"message": "Not Found"}', "application/json", head)

        def _send(
            self, status: int, body: bytes, ctype: str, head: bool, etag: str | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            if etag is not None:
                self.send_header("ETag", etag)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def _file(self, path: Path, head: bool) -> None:
            size = path.stat().st_size
            start, status = 0, 200
            rng = self.headers.get("Range", "")
            if rng.startswith("bytes="):
                start = int(rng[6:].split("-", 1)[0] or 0)
                if start >= size:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = 206
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(size - start))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
            self.end_headers()
            if head:
                return
            self.wfile.flush()
            try:
                with open(path, "rb") as f:
                    self.connection.sendfile(f, offset=start)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="release directory from make_release.py")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--static", action="store_true", help="serve DIR's files at their paths")
    args = parser.parse_args()
    version = "" if args.static else json.loads((args.root / "meta.json").read_text())["version"]
    handler = make_handler(args.root, version, static=args.static)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    server.daemon_threads = True
    port = server.server_address[1]
    sys.stdout.write(json.dumps({"url": f"http://127.0.0.1:{port}", "pid": os.getpid()}) + "\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()

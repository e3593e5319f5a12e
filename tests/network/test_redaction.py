"""No URL password, token query parameter or ``${VAR}``-expanded secret reaches any output line
or ``--json``, for every class of message that carries a URL (issue 20; issue 21 item 6): one
redactor (errors.shown_url) and one scrub of the secrets the process holds."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from builders import TARGET, package_release
from cli_helpers import REPO, run
from servers.fake_http import FakeHTTPServer
from sources.npm_helpers import PACKUMENT, closed_port

PASSWORD = "pw-s3cr3t-9876"
TOKEN = "tok-q7x-55555"
NPM_TOKEN = "npm-t0ken-4242"


def _with_password(url: str) -> str:
    return url.replace("://", f"://user:{PASSWORD}@", 1)


Setup = Callable[[FakeHTTPServer, dict[str, str], Path], tuple[dict[str, str], list[str]]]


def mirror_404(server, env, _tmp):
    return env, ["--mirror", _with_password(server.url + "/mirror")]


def mirror_malformed(server, env, _tmp):
    server.add("/mirror/channels/latest", "{not json")
    return env, ["--mirror", _with_password(server.url + "/mirror")]


def mirror_refused(_server, env, _tmp):
    return env, ["--mirror", _with_password(f"http://127.0.0.1:{closed_port()}/m")]


def github_malformed(server, env, _tmp):
    server.add(f"/repos/{REPO}/releases/latest", "{not json")
    return {**env, "GITHUB_API_URL": _with_password(server.url)}, ["--source", "github"]


def github_refused(_server, env, _tmp):
    url = _with_password(f"http://127.0.0.1:{closed_port()}")
    return {**env, "GITHUB_API_URL": url}, ["--source", "github"]


def github_404(server, env, _tmp):
    return {**env, "GITHUB_API_URL": _with_password(server.url)}, ["--source", "github"]


def github_500(server, env, _tmp):
    server.add(f"/repos/{REPO}/releases/latest", "oops", status=500)
    env = {**env, "GITHUB_API_URL": _with_password(server.url), "GITHUB_TOKEN": TOKEN}
    return env, ["--source", "github"]


def _signed(server: FakeHTTPServer, name: str) -> dict[str, str]:
    """A release whose asset URLs carry a token in their query (signed CDN URLs)."""
    rel = package_release("0.169.0")
    urls = {n: f"{server.url}/dl/{n}?token={TOKEN}" for n in rel.files}
    for n, data in rel.files.items():
        if n != name:
            server.add(f"/dl/{n}", data)
    server.add(f"/repos/{REPO}/releases/latest", json.dumps(rel.release_json(urls)))
    return urls


def archive_404(server, env, _tmp):
    _signed(server, f"codex-package-{TARGET}.tar.zst")
    return env, ["--source", "github"]


def sums_404(server, env, _tmp):
    _signed(server, "codex-package_SHA256SUMS")
    return env, ["--source", "github"]


def archive_html(server, env, _tmp):
    _signed(server, "")
    server.fault(f"/dl/codex-package-{TARGET}.tar.zst", "html")
    return env, ["--source", "github"]


def npm_404(server, env, tmp):
    return _npmrc(server, env, tmp, "/npm-${NPM_TOKEN}/")


def npm_malformed(server, env, tmp):
    server.add(f"/npm-{NPM_TOKEN}/@openai%2fcodex", "{not json")
    return _npmrc(server, env, tmp, "/npm-${NPM_TOKEN}/")


def npm_refused(_server, env, tmp):
    return _npmrc(None, env, tmp, "/npm-${NPM_TOKEN}/")


def npm_token_refused(server, env, tmp):
    server.add(PACKUMENT, "denied", status=401)
    auth = "//127.0.0.1:{port}/npm/:_authToken=${{NPM_TOKEN}}"
    return _npmrc(server, env, tmp, "/npm/", auth=auth)


def _npmrc(
    server: FakeHTTPServer | None, env: dict[str, str], tmp: Path, path: str, auth: str = ""
) -> tuple[dict[str, str], list[str]]:
    port = server.port if server is not None else closed_port()
    lines = [f"registry=http://127.0.0.1:{port}{path}"]
    if auth:
        lines.append(auth.format(port=port))
    (Path(env["HOME"]) / ".npmrc").write_text("\n".join(lines) + "\n")
    return {**env, "NPM_TOKEN": NPM_TOKEN}, ["--source", "npm"]


CLASSES: dict[str, tuple[Setup, int]] = {
    "mirror 404": (mirror_404, 3),
    "mirror malformed JSON": (mirror_malformed, 4),
    "mirror refused": (mirror_refused, 4),
    "GitHub malformed JSON": (github_malformed, 4),
    "GitHub refused": (github_refused, 4),
    "GitHub 404": (github_404, 3),
    "GitHub 500, tries exhausted": (github_500, 4),
    "archive 404 (signed URL)": (archive_404, 3),
    "SUMS 404 (signed URL)": (sums_404, 3),
    "archive is an HTML page (signed URL)": (archive_html, 5),
    "npm registry 404 (${VAR} in its path)": (npm_404, 3),
    "npm packument malformed (${VAR} in its path)": (npm_malformed, 4),
    "npm registry refused (${VAR} in its path)": (npm_refused, 4),
    "npm token refused (${VAR} token)": (npm_token_refused, 4),
}


@pytest.fixture(autouse=True)
def fast(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from codex_install.http.retry import RetryPolicy

    monkeypatch.setattr(RetryPolicy, "delay", lambda self, attempt, retry_after=None: 0.0)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # no project .npmrc


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_no_secret_in_any_line_or_json(env, server, tmp_path, name):
    setup, code = CLASSES[name]
    env, args = setup(server, env, tmp_path)
    commands = [["install", "--no-login"]]
    if not name.startswith("archive"):  # resolve downloads no archive
        commands.append(["resolve"])
    for command in commands:
        result = run(env, *command, "--target", TARGET, "--json", *args)
        said = result.stdout + result.stderr
        assert result.exit_code == code, said
        assert json.loads(result.stdout)["ok"] is False
        for secret in (PASSWORD, TOKEN, NPM_TOKEN):
            assert secret not in said, f"{name}: {said}"
        if "${VAR} in its path" in name:
            assert "/npm-${NPM_TOKEN}/" in said  # the text before the expansion
        assert "Traceback" not in said


def test_resolve_json_shows_a_signed_url_without_its_token(env, server):
    _signed(server, "")
    result = run(env, "resolve", "--target", TARGET, "--json", "--source", "github")
    assert result.exit_code == 0, result.output
    url = json.loads(result.stdout)["url"]
    assert url.endswith(f"/dl/codex-package-{TARGET}.tar.zst") and TOKEN not in result.output

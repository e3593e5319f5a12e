"""Every url that enters a manifest is held to RFC 3986's characters, refused with exit 2 before
anything is downloaded: parsed from a manifest file, pinned by ``manifest generate`` from a
source's release JSON, or mirrored by ``mirror sync``."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from click.testing import CliRunner, Result

from builders import TARGET, FakeRelease, package_release
from codex_install.cli import cli
from codex_install.errors import UsageError
from codex_install.manifest import (
    ManifestAsset,
    build_manifest,
    render_manifest,
    url_problem,
    validate_manifest,
    write_manifest,
)
from codex_install.manifest.document import tomllib  # tomli on Python 3.10
from payloads import INJECTIONS
from servers.fake_http import FakeHTTPServer

VERSION = "0.169.0"
NAME = f"codex-package-{TARGET}.tar.gz"
# Those RFC 3986 allows (sub-delims, '#', '$', '@'): the encoders make them harmless instead.
LEGAL = {"global-interpolation", "ivar-interpolation", "cvar-interpolation"}


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), obj={"env": env}, catch_exceptions=False)


def hostile_release(server: FakeHTTPServer, payload: str) -> FakeRelease:
    """A release whose package archive's url carries ``payload`` (published GitHub-style)."""
    rel = package_release(VERSION)
    rel.publish_github(server)
    body = json.dumps(rel.release_json({n: f"{server.url}/dl/{payload}/{n}" for n in rel.files}))
    server.add(f"/repos/openai/codex/releases/tags/{rel.tag}", body)
    server.add("/repos/openai/codex/releases/latest", body)
    return rel


@pytest.mark.parametrize(
    "payload", [p for n, p in INJECTIONS.items() if n not in LEGAL], ids=lambda p: repr(p)[:24]
)
def test_the_rule_refuses_every_quote_backslash_space_control_and_non_ascii(payload: str) -> None:
    url = f"https://mirror.example/{payload}/x.tar.gz"
    if all((c.isascii() and c.isalnum()) or c in "-._~:/?#[]@!$&()*+,;=" for c in payload):
        pytest.skip("RFC 3986-legal")
    assert url_problem(url) is not None


@pytest.mark.parametrize("url", ["https://h.example/a%2Fb?q=1&r=(x)#f", "file:///srv/m/x.tgz"])
def test_the_rule_keeps_ordinary_urls(url: str) -> None:
    assert url_problem(url) is None


@pytest.mark.parametrize("bad", ["https://h/%zz", "https://h/a'b", "ftp://h/x", "https://h/\u00e9"])
def test_a_stray_percent_a_quote_another_scheme_and_non_ascii_are_refused(bad: str) -> None:
    assert url_problem(bad) is not None


@pytest.mark.parametrize("command", ["generate", "sync"])
def test_a_hostile_release_url_exits_2_before_any_download(
    env: dict[str, str], server: FakeHTTPServer, tmp_path, command: str
) -> None:
    for name, payload in INJECTIONS.items():
        # urllib drops tabs and line breaks from a url (WHATWG): what is left must be refused.
        if url_problem("https://h/" + payload.translate({9: None, 10: None, 13: None})) is None:
            continue
        hostile_release(server, payload)
        out = tmp_path / name
        before = len(server.log)
        if command == "generate":
            args = ["manifest", "generate", "--output", str(out), "--target", TARGET]
        else:
            args = ["mirror", "sync", "--output", str(out), "--target", TARGET]
        result = run(env, *args, "--version", VERSION)
        assert result.exit_code == 2, (name, result.output)
        errors = [line for line in result.output.splitlines() if "error:" in line]
        assert len(errors) == 1 and "RFC 3986" in errors[0], result.output
        assert not [r for r in server.log[before:] if r.path.endswith((".tar.gz", ".tar.zst"))]
        assert not out.exists() or (not any(out.rglob("*.toml")) and not any(out.rglob("*.json")))


# --- TOML: tomli-w is the one encoder of a manifest -------------------------------------------


@pytest.mark.parametrize("payload", list(INJECTIONS.values()), ids=list(INJECTIONS))
@pytest.mark.parametrize("field", ["url", "name", "npm_spec", "integrity"])
def test_every_manifest_string_reads_back_as_itself_and_only_a_valid_one_is_written(
    tmp_path, field: str, payload: str
) -> None:
    base = ManifestAsset(
        TARGET,
        "package",
        f"codex-package-{TARGET}.tar.gz",
        "https://mirror.example/codex/x.tar.gz",
        1,
        "a" * 64,
    )
    value = {"url": "https://mirror.example/" + payload}.get(field, payload)
    manifest = build_manifest(VERSION, [replace(base, **{field: value})])
    table = tomllib.loads(render_manifest(manifest))["assets"][0]
    assert table[field] == value
    if validate_manifest(manifest):
        with pytest.raises(UsageError):
            write_manifest(manifest, tmp_path / "m.toml")
        assert not (tmp_path / "m.toml").exists()

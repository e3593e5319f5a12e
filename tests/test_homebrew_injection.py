"""No value in a manifest becomes Ruby: every rendered cask and formula is *loaded* against a
stub of Homebrew's DSLs that records every call (``ruby -c`` is a syntax check, not a safety
check). The values go in through ``homebrew.ruby_string``; urls are also held to RFC 3986 at
the manifest's edge, so most hostile urls never reach the renderer."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from click.testing import CliRunner

from codex_install.cli import cli
from codex_install.homebrew import (
    Pin,
    archive_name,
    archive_url,
    cask_source,
    formula_source,
    ruby_string,
    verified,
)
from codex_install.platforms import SUPPORTED_TARGETS
from payloads import INJECTIONS

RUBY = shutil.which("ruby")
pytestmark = pytest.mark.skipif(RUBY is None, reason="ruby is not installed (.ci/run installs it)")
STUB = Path(__file__).parent / "ruby" / "recording_stub.rb"
# What a formula's class body calls by itself (Ruby's hooks for a subclass and a def).
BENIGN_CALLS = {("c_call", "Class", "inherited"), ("c_call", "Module", "method_added")}
BLOCK_TARGETS = {
    ("on_macos", "on_arm"): "aarch64-apple-darwin",
    ("on_macos", "on_intel"): "x86_64-apple-darwin",
    ("on_linux", "on_arm"): "aarch64-unknown-linux-musl",
    ("on_linux", "on_intel"): "x86_64-unknown-linux-musl",
}
CASK_SHA_KEYS = {
    "arm": "aarch64-apple-darwin",
    "intel": "x86_64-apple-darwin",
    "arm64_linux": "aarch64-unknown-linux-musl",
    "x86_64_linux": "x86_64-unknown-linux-musl",
}


def load_recorded(files: list[Path], cwd: Path) -> dict[str, Any]:
    """Every file loaded by one ruby process against the recording stub."""
    assert RUBY is not None
    done = subprocess.run(
        [RUBY, str(STUB), *map(str, files)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert not (cwd / "PWNED").exists()
    return dict(json.loads(done.stdout))


def mirror_pins(token: str) -> dict[str, Pin]:
    return {
        t: Pin(f"https://mirror.example/codex/{token}/{t}.tar.gz", f"{token}-{t}")
        for t in SUPPORTED_TARGETS
    }


def github_pins(version: str, token: str) -> dict[str, Pin]:
    return {t: Pin(archive_url(version, t, "package"), f"{token}-{t}") for t in SUPPORTED_TARGETS}


# (name, render) pairs: each render takes the hostile string and returns (text, version, pins).
RENDERS = {
    "cask-mirror": lambda p: (cask_source(p, mirror_pins(p), "package"), p, mirror_pins(p)),
    "cask-npm": lambda p: (cask_source(p, mirror_pins(p), "npm"), p, mirror_pins(p)),
    "cask-github": lambda p: (
        cask_source(p, github_pins(p, p), "package"),
        p,
        github_pins(p, p),
    ),
    "formula-package": lambda p: (formula_source(p, mirror_pins(p), "package"), p, mirror_pins(p)),
    "formula-legacy": lambda p: (formula_source(p, mirror_pins(p), "legacy"), p, mirror_pins(p)),
}


def check_recorded(
    got: dict[str, Any], benign: dict[str, Any], version: str, pins: dict[str, Pin]
) -> None:
    """The hostile load made exactly the calls the benign one made, and every value it passed
    is the value rendered, byte for byte."""
    assert got["error"] is None
    assert {tuple(c) for c in got["calls"]} <= BENIGN_CALLS
    assert [(d[0], d[1]) for d in got["dsl"]] == [(d[0], d[1]) for d in benign["dsl"]]
    urls = {t: p.url for t, p in pins.items()}
    seen = {"url": 0, "sha256": 0, "version": 0}
    for where, name, args, kwargs in got["dsl"]:
        target = BLOCK_TARGETS.get(tuple(w for w in where if w.startswith("on_")))
        if name == "version" and args:
            assert args == [version]
            seen["version"] += 1
        elif name == "sha256" and target is not None:
            assert args == [pins[target].sha256]
            seen["sha256"] += 1
        elif name == "sha256":
            assert kwargs == {k: pins[t].sha256 for k, t in CASK_SHA_KEYS.items()}
            seen["sha256"] += 4
        elif name == "url" and target is not None:
            assert args == [pins[target].url]
            where_from = verified(urls.values())
            assert kwargs == ({"verified": where_from} if "verified" in kwargs else {})
            seen["url"] += 1
    assert seen["sha256"] == 4 and seen["version"] == 1
    assert seen["url"] == (0 if all("github.com" in u for u in urls.values()) else 4)


def test_every_injection_loads_as_the_value_it_was_and_calls_nothing(tmp_path: Path) -> None:
    files: dict[Path, tuple[str, str, dict[str, Pin]]] = {}
    for render_name, render in RENDERS.items():
        for kind, payload in [("benign", "1.2.3"), *INJECTIONS.items()]:
            text, version, pins = render(payload)
            path = tmp_path / f"{render_name}-{kind}.rb"
            path.write_text(text, encoding="utf-8")
            files[path] = (render_name, version, dict(pins))
    recorded = load_recorded(list(files), tmp_path)
    for path, (render_name, version, pins) in files.items():
        benign = recorded[str(tmp_path / f"{render_name}-benign.rb")]
        check_recorded(recorded[str(path)], benign, version, pins)
    assert len(files) == len(RENDERS) * (len(INJECTIONS) + 1)


@pytest.mark.parametrize("payload", list(INJECTIONS.values()), ids=list(INJECTIONS))
def test_ruby_string_is_the_value_itself(payload: str) -> None:
    literal = ruby_string(payload)
    assert literal.isascii() and "\n" not in literal and "\r" not in literal
    assert literal.startswith('"') and literal.endswith('"')


def _manifest_toml(url_of: dict[str, str], version: str = "1.2.3") -> str:
    return tomli_w.dumps(
        {
            "schema": 1,
            "version": version,
            "tag": f"rust-v{version}",
            "assets": [
                {
                    "target": t,
                    "layout": "package",
                    "name": archive_name(t, "package"),
                    "url": url_of[t],
                    "size": 1,
                    "sha256": "a" * 64,
                }
                for t in SUPPORTED_TARGETS
            ],
        }
    )


@pytest.mark.parametrize("kind", ["cask", "formula"])
def test_a_manifest_url_either_is_refused_or_renders_as_itself(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the CLI: each injection in a manifest's urls exits 2 with one line and writes
    nothing, or (the RFC 3986-legal ones, like ``#$0``) renders Ruby that loads as that url."""
    monkeypatch.chdir(tmp_path)  # short paths: the one line names the character
    refused, rendered = [], {}
    for name, payload in INJECTIONS.items():
        urls = {t: f"https://mirror.example/codex/{payload}/{t}.tar.gz" for t in SUPPORTED_TARGETS}
        manifest = Path(f"{name}.toml")
        manifest.write_text(_manifest_toml(urls), encoding="utf-8")
        out = tmp_path / f"{name}.rb"
        result = CliRunner().invoke(
            cli,
            ["homebrew", "--manifest", str(manifest), "--kind", kind, "--output", str(out)],
            obj={"env": {}},
            catch_exceptions=False,
        )
        if result.exit_code == 2:
            assert len(result.output.strip().splitlines()) == 1, result.output
            assert "which RFC 3986 does not allow" in result.output
            assert not out.exists()
            refused.append(name)
        else:
            assert result.exit_code == 0, result.output
            rendered[out] = {t: Pin(u, "a" * 64) for t, u in urls.items()}
    benign_manifest = tmp_path / "benign.toml"
    benign_manifest.write_text(
        _manifest_toml({t: f"https://mirror.example/codex/x/{t}.tar.gz" for t in SUPPORTED_TARGETS})
    )
    benign = tmp_path / "benign.rb"
    args = ["homebrew", "--manifest", str(benign_manifest), "--kind", kind, "--output", str(benign)]
    assert CliRunner().invoke(cli, args, obj={"env": {}}).exit_code == 0
    recorded = load_recorded([benign, *rendered], tmp_path)
    for path, pins in rendered.items():
        check_recorded(recorded[str(path)], recorded[str(benign)], "1.2.3", pins)
    # Quotes, backslashes, whitespace, controls and non-ASCII never reach a manifest.
    for must_refuse in ("close-quote-call", "trailing-backslash", "newline-statement", "nul"):
        assert must_refuse in refused
    assert {"global-interpolation", "ivar-interpolation"} <= {p.stem for p in rendered}

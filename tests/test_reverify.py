"""Reuse re-verifies: the receipt records the installed entrypoint's digest, and an install
without --force that finds ``bin/codex`` changed since reinstalls the release, saying why in one
line (through the in-process CLI and through the real entry point, after a no-op)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from builders import TARGET, package_release
from cli_helpers import codex_version, install
from codex_install.fs import sha256_file
from codex_install.install import RECEIPT, recorded_entrypoint
from servers.fake_http import FakeHTTPServer

VERSION = "0.169.0"
INSTALLER = Path(__file__).resolve().parents[1] / "installer"


def release_dir(env: dict[str, str]) -> Path:
    return Path(env["CODEX_HOME"]) / f"packages/standalone/releases/{VERSION}-{TARGET}"


def tamper(env: dict[str, str]) -> Path:
    """What another program could do to the installed codex: a script that still says the
    right version, written in place."""
    entry = release_dir(env) / "bin" / "codex"
    entry.write_text(f'#!/bin/sh\ntouch "$HOME/PWNED"\necho "codex-cli {VERSION}"\n')
    return entry


@pytest.fixture
def installed(env: dict[str, str], server: FakeHTTPServer) -> dict[str, str]:
    package_release(VERSION).publish_github(server)
    assert install(env, "--version", VERSION).exit_code == 0
    return env


def test_the_receipt_records_the_entrypoint_digest(installed: dict[str, str]) -> None:
    entry = release_dir(installed) / "bin" / "codex"
    recorded = json.loads((release_dir(installed) / RECEIPT).read_text())["files"]
    assert recorded == {"bin/codex": hashlib.sha256(entry.read_bytes()).hexdigest()}
    assert recorded_entrypoint(release_dir(installed)) == recorded["bin/codex"]


@pytest.mark.parametrize("version", [VERSION, "latest"])
def test_a_changed_entrypoint_is_reinstalled_and_the_user_told_why(
    installed: dict[str, str], server: FakeHTTPServer, version: str
) -> None:
    original = sha256_file(release_dir(installed) / "bin" / "codex")
    tamper(installed)
    before = len(server.log)
    result = install(installed, "--version", version, "--json")
    assert result.exit_code == 0, result.output
    why = [line for line in result.stderr.splitlines() if "changed since it was installed" in line]
    assert len(why) == 1 and "reinstalling it" in why[0] and "bin/codex" in why[0]
    data = json.loads(result.stdout)
    assert data["reused"] is False and data["downloaded_bytes"] > 0
    assert [r for r in server.log[before:] if r.path.endswith((".tar.zst", ".tar.gz"))]
    assert sha256_file(release_dir(installed) / "bin" / "codex") == original
    assert codex_version(installed) == f"codex-cli {VERSION}"
    assert not (Path(installed["HOME"]) / "PWNED").exists()


def test_an_unchanged_release_is_reused_with_no_download_and_no_word(
    installed: dict[str, str], server: FakeHTTPServer
) -> None:
    before = len(server.log)
    result = install(installed, "--version", VERSION, "--json")
    assert json.loads(result.stdout)["reused"] is True
    assert "changed since" not in result.stderr
    assert not [r for r in server.log[before:] if r.path.endswith((".tar.zst", ".tar.gz"))]


def test_an_entrypoint_made_unreadable_is_reinstalled(installed: dict[str, str]) -> None:
    entry = release_dir(installed) / "bin" / "codex"
    entry.unlink()
    entry.symlink_to("/bin/sh")  # executable through the link, but not what was installed
    result = install(installed, "--version", VERSION)
    assert result.exit_code == 0, result.output
    assert "changed since it was installed" in result.stderr
    assert not entry.is_symlink()


def test_a_receipt_without_file_digests_is_taken_as_it_is(installed: dict[str, str]) -> None:
    receipt = release_dir(installed) / RECEIPT
    data = json.loads(receipt.read_text())
    del data["files"]
    receipt.write_text(json.dumps(data))
    tamper(installed)
    result = install(installed, "--version", VERSION, "--json")
    assert json.loads(result.stdout)["reused"] is True


@pytest.mark.slow
def test_the_real_entry_point_after_a_noop_notices_the_change(
    env: dict[str, str], server: FakeHTTPServer
) -> None:
    package_release(VERSION).publish_github(server)
    child_env = {
        **{k: v for k, v in env.items() if k != "CODEX_INSTALL_MANIFEST_DIR"},
        "PYTHONPATH": str(INSTALLER),
    }
    args = [sys.executable, "-m", "codex_install", "install", "--no-login", "--target", TARGET]

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args, env=child_env, capture_output=True, text=True, timeout=60, check=True
        )

    run()
    run()  # a no-op re-run first: reused, nothing changed
    tamper(env)
    again = run()
    assert "changed since it was installed" in again.stderr
    assert codex_version(env) == f"codex-cli {VERSION}"
    assert (
        "PWNED"
        not in subprocess.run(
            [str(release_dir(env) / "bin" / "codex")], capture_output=True, text=True, check=True
        ).stdout
    )


@pytest.mark.slow
def test_what_the_reverify_costs_on_a_codex_sized_entrypoint(tmp_path: Path) -> None:
    """The no-op re-run hashes only the entrypoint: measured on 150 MiB (Codex's binary is
    of that order), reported, and held to well under a second."""
    entry = tmp_path / "codex"
    entry.write_bytes(os.urandom(150 << 20))
    sha256_file(entry)  # warm the page cache, as an installed binary is
    start = time.perf_counter()
    sha256_file(entry)
    ms = (time.perf_counter() - start) * 1000
    print(f"reverify of a 150 MiB entrypoint: {ms:.0f} ms")
    assert ms < 1000


def test_an_untouched_entrypoint_is_not_hashed_again(installed: dict[str, str]) -> None:
    """The receipt keeps the entrypoint's identity (inode, size, mtime, ctime, mode) from when it
    was hashed; while it is the same, a no-op re-run trusts the recorded digest instead of
    hashing the whole binary again: a digest that no longer fits is then not even looked at."""
    receipt = release_dir(installed) / RECEIPT
    data = json.loads(receipt.read_text())
    assert data["identity"]["bin/codex"]
    data["files"]["bin/codex"] = "0" * 64
    receipt.write_text(json.dumps(data))
    result = install(installed, "--version", VERSION, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["reused"] is True
    assert "changed since it was installed" not in result.stderr


def test_a_touched_but_equal_entrypoint_is_hashed_and_reused(installed: dict[str, str]) -> None:
    entry = release_dir(installed) / "bin" / "codex"
    os.utime(entry, ns=(0, 0))  # a new mtime and ctime: the identity no longer matches
    result = install(installed, "--version", VERSION, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["reused"] is True
    assert "changed since it was installed" not in result.stderr

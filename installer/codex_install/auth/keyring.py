"""Codex's credentials in the OS keyring (``cli_auth_credentials_store = "keyring"`` or
``"auto"``), read — and after a refresh written back — exactly where Codex keeps them, through
the platform's own tool: ``secret-tool`` (libsecret) on Linux, ``security`` on macOS.

Codex 0.171.0 (keyring-rs) keeps the whole auth.json document, compact JSON, as one secret:
service ``Codex Auth``, account ``cli|`` + the first 16 hex digits of the SHA-256 of the
canonical CODEX_HOME; on Linux the Secret Service item also carries ``target = default`` and
``application = rust-keyring`` (measured with gnome-keyring). A write sets the same attributes,
so it replaces Codex's item instead of adding a second one Codex would never read. On macOS the
only write the tool offers takes the secret on its command line, where any process could read
it: there the keyring is read, never written, so a refresh is never spent (see ``unstorable``).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codex_install.auth.quick import AUTH_CAP
from codex_install.errors import AuthFileError, FilesystemError

SERVICE = "Codex Auth"
TIMEOUT_S = 5.0  # a locked or absent Secret Service can hang: never in front of an answer
_ATTRIBUTES = ("application", "rust-keyring", "service", SERVICE, "target", "default")
_MAC_NOT_FOUND = 44  # security(1): "The specified item could not be found in the keychain."

Runner = Callable[..., "subprocess.CompletedProcess[bytes]"]


def store_key(codex_home: Path) -> str:
    """Codex's account name for this CODEX_HOME (keyring storage ``compute_store_key``)."""
    try:
        canonical = str(codex_home.resolve(strict=True))
    except OSError:
        canonical = str(codex_home)
    return "cli|" + hashlib.sha256(canonical.encode("utf-8", "surrogateescape")).hexdigest()[:16]


@dataclass(frozen=True)
class Keyring:
    codex_home: Path
    env: Mapping[str, str]
    run: Runner = field(default=subprocess.run)
    platform: str = sys.platform

    @property
    def where(self) -> str:
        return f"the OS keyring ({SERVICE}, {store_key(self.codex_home)})"

    def load(self) -> bytes | None:
        """The secret Codex stored, or None when there is none; AuthFileError when the keyring
        cannot be asked (no tool, locked, no answer in time)."""
        key = store_key(self.codex_home)
        if self.platform == "darwin":
            argv = ["security", "find-generic-password", "-s", SERVICE, "-a", key, "-w"]
        else:
            argv = ["secret-tool", "lookup", "service", SERVICE, "username", key]
        proc = self._call(argv, None)
        if proc.returncode != 0:
            if proc.returncode == _MAC_NOT_FOUND or not proc.stderr.strip():
                return None  # secret-tool says nothing when there is no such item
            raise AuthFileError(f"cannot read {self.where}: {_first_line(proc.stderr)}")
        secret = proc.stdout.rstrip(b"\n")
        if len(secret) > AUTH_CAP:
            raise AuthFileError(f"{self.where} holds more than {AUTH_CAP} bytes; refusing it")
        return secret or None

    def unstorable(self) -> str | None:
        """Why a refreshed credential could not be written back where Codex reads it."""
        if self.platform == "darwin":
            return "the macOS keychain is written only by Codex (its tool takes the secret on argv)"
        if shutil.which("secret-tool", path=self.env.get("PATH")) is None:
            return "secret-tool (libsecret) is not installed"
        return None

    def save(self, text: str) -> None:
        """Replace Codex's item with ``text`` (the secret goes on stdin, never on argv)."""
        key = store_key(self.codex_home)
        label = f"{key}@{SERVICE}:default"
        argv = ["secret-tool", "store", f"--label={label}", *_ATTRIBUTES, "username", key]
        proc = self._call(argv, text.encode())
        if proc.returncode != 0:
            raise FilesystemError(f"cannot write {self.where}: {_first_line(proc.stderr)}")

    def _call(self, argv: list[str], stdin: bytes | None) -> subprocess.CompletedProcess[bytes]:
        kwargs: dict[str, Any] = (
            {"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}
        )
        try:
            proc: subprocess.CompletedProcess[bytes] = self.run(
                argv,
                env={**self.env, "LC_ALL": "C"},
                capture_output=True,
                timeout=TIMEOUT_S,
                check=False,
                **kwargs,
            )
        except FileNotFoundError:
            raise AuthFileError(f"cannot read {self.where}: {argv[0]} is not installed") from None
        except subprocess.TimeoutExpired:
            raise AuthFileError(f"{self.where} did not answer within {TIMEOUT_S:g} s") from None
        except OSError as err:
            raise AuthFileError(f"cannot read {self.where}: {err.strerror or err}") from None
        return proc


def _first_line(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").strip()
    return text.splitlines()[0][:200] if text else "no reason given"

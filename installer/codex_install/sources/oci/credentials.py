"""Registry credentials where docker, podman, skopeo and oras keep them (read only, never
printed): ``REGISTRY_AUTH_FILE`` (containers' ``auth.json``), then ``$DOCKER_CONFIG/config.json``
(default ``~/.docker/config.json``). In each: ``credHelpers[host]``, an ``auths`` entry, then
``credsStore`` — a ``docker-credential-<name>`` helper asked with ``get`` (the docker credential
helper protocol: the server on stdin, ``{"Username", "Secret"}`` on stdout).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from codex_install.errors import UsageError
from codex_install.fs import UnreadableFileError, read_regular

CONFIG_CAP = 4 << 20
HELPER_ANSWER_CAP = 1 << 20
HELPER_TIMEOUT_S = 30.0
_HELPER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# Docker Hub answers as registry-1.docker.io but `docker login` files it under its index.
_ALIASES = {
    "registry-1.docker.io": ("index.docker.io", "docker.io"),
    "docker.io": ("index.docker.io", "registry-1.docker.io"),
}
# What docker-credential-* says for "nothing stored for that server".
_NOT_FOUND = b"credentials not found"

Helper = Callable[[Sequence[str], bytes, float], tuple[int, bytes]]


@dataclass(frozen=True)
class Credential:
    """A login for one registry. ``identity_token`` (docker's ``identitytoken``, a helper's
    ``<token>`` user) is an OAuth2 refresh token for the registry's token service."""

    username: str
    secret: str = field(repr=False)
    identity_token: bool = False
    origin: str = ""  # where it was found, for messages ("~/.docker/config.json", a helper)


@dataclass(frozen=True)
class AuthFiles:
    """Where to look, from Settings: the files in the order they are consulted, and the PATH
    the ``docker-credential-*`` helpers are found on."""

    files: tuple[Path, ...] = ()
    search_path: str | None = None


def run_helper(argv: Sequence[str], stdin: bytes, timeout: float) -> tuple[int, bytes]:
    """Run a credential helper (production default; tests pass their own)."""
    try:
        proc = subprocess.run(
            list(argv), input=stdin, capture_output=True, timeout=timeout, check=False
        )
    except FileNotFoundError:
        return 127, b""
    except (OSError, subprocess.TimeoutExpired) as err:
        raise UsageError(f"credential helper {argv[0]} failed: {type(err).__name__}") from err
    if proc.returncode == 0:
        return 0, proc.stdout[:HELPER_ANSWER_CAP]
    return proc.returncode, (proc.stdout + proc.stderr)[:4096]


def lookup(host: str, files: AuthFiles, helper: Helper = run_helper) -> Credential | None:
    """The first login for ``host`` (``host[:port]``) in ``files``, or None (anonymous)."""
    for path in files.files:
        config = _load(path)
        if config is None:
            continue
        found = _from_config(host, config, path, partial(_run, helper, files.search_path))
        if found is not None:
            return found
    return None


def _load(path: Path) -> dict[str, object] | None:
    try:
        raw = read_regular(path, CONFIG_CAP, what="the registry credentials file")
    except UnreadableFileError as err:
        raise UsageError(err.message) from err
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise UsageError(f"{path} is not valid JSON; fix or remove it") from err
    if not isinstance(data, dict):
        raise UsageError(f"{path} is not a JSON object; fix or remove it")
    return data


def _from_config(
    host: str, config: dict[str, object], path: Path, helper: Helper
) -> Credential | None:
    names = (host, *_ALIASES.get(host, ()))
    helpers = config.get("credHelpers")
    named = [helpers[n] for n in names if isinstance(helpers, dict) and n in helpers]
    if named and isinstance(named[0], str):
        return _ask_helper(named[0], host, helper)
    found = _from_auths(config.get("auths"), names, str(path))
    if found is not None:
        return found
    store = config.get("credsStore")
    return _ask_helper(store, host, helper) if isinstance(store, str) and store else None


def _from_auths(auths: object, names: tuple[str, ...], origin: str) -> Credential | None:
    """The first ``auths`` entry for one of ``names`` that holds a login."""
    entries = auths.items() if isinstance(auths, dict) else ()
    for key, entry in entries:
        if isinstance(key, str) and _server(key) in names and isinstance(entry, dict):
            found = _entry(entry, origin)
            if found is not None:
                return found
    return None


def _run(
    helper: Helper, search_path: str | None, argv: Sequence[str], stdin: bytes, timeout: float
) -> tuple[int, bytes]:
    """``helper`` with the program found on the command's PATH (127: none there)."""
    program = shutil.which(argv[0], path=search_path)
    return (127, b"") if program is None else helper([program, *argv[1:]], stdin, timeout)


def _server(key: str) -> str:
    """An ``auths`` key as a host: ``https://index.docker.io/v1/`` → ``index.docker.io``."""
    return key.partition("://")[2].partition("/")[0].lower() if "://" in key else key.lower()


def _entry(entry: dict[str, object], origin: str) -> Credential | None:
    token = entry.get("identitytoken")
    if isinstance(token, str) and token:
        return Credential("<token>", token, identity_token=True, origin=origin)
    user, password = entry.get("username"), entry.get("password")
    if isinstance(user, str) and isinstance(password, str) and user:
        return Credential(user, password, origin=origin)
    auth = entry.get("auth")
    return _decoded(auth, origin) if isinstance(auth, str) and auth else None


def _decoded(auth: str, origin: str) -> Credential:
    """An ``auth`` value: base64 of ``user:password``."""
    problem = f"a registry login in {origin} is not base64 user:password"
    try:
        user, sep, password = base64.b64decode(auth, validate=True).decode().partition(":")
    except (binascii.Error, ValueError) as err:
        raise UsageError(problem) from err
    if not sep or not user:
        raise UsageError(problem)
    return Credential(user, password, origin=origin)


def _ask_helper(name: str, host: str, helper: Helper) -> Credential | None:
    if not _HELPER_NAME.fullmatch(name):
        raise UsageError(f"the credential helper name {name[:40]!r} is not a plain name")
    program = f"docker-credential-{name}"
    status, out = helper([program, "get"], host.encode(), HELPER_TIMEOUT_S)
    if status == 127:
        return None  # not installed here (a laptop's config copied to a runner): anonymous
    if status != 0:
        if _NOT_FOUND in out.lower():
            return None
        raise UsageError(f"credential helper {program} failed for {host} (exit {status})")
    return _helper_login(out, program, host)


def _helper_login(out: bytes, program: str, host: str) -> Credential | None:
    """``{"Username", "Secret"}`` from a helper's answer; a ``<token>`` user means the secret
    is an identity token."""
    try:
        data = json.loads(out)
    except (ValueError, UnicodeDecodeError, RecursionError):
        data = None
    user = data.get("Username") if isinstance(data, dict) else None
    secret = data.get("Secret") if isinstance(data, dict) else None
    if not isinstance(user, str) or not isinstance(secret, str):
        raise UsageError(f"credential helper {program} gave no login for {host}")
    if not secret:
        return None
    return Credential(user, secret, identity_token=user == "<token>", origin=program)


@dataclass(frozen=True)
class RegistryConfig:
    """What Settings knows for registries: where logins are kept, where manifests are cached,
    and whether a login may cross plain http (CODEX_INSTALL_ALLOW_HTTP_TOKEN)."""

    auth_files: AuthFiles = field(default_factory=AuthFiles)
    cache_dir: Path | None = None
    allow_cleartext: bool = False
    helper: Helper = field(default=run_helper, compare=False, repr=False)

"""Where things live (SPEC §5), resolved in one documented precedence order each."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from codex_install import locations
from codex_install.errors import NotFoundError, UsageError


@dataclass(frozen=True)
class Paths:
    codex_home: Path
    bin_dir: Path
    cache_dir: Path

    @property
    def standalone(self) -> Path:
        return self.codex_home / "packages" / "standalone"

    @property
    def releases(self) -> Path:
        return self.standalone / "releases"

    @property
    def current(self) -> Path:
        return self.standalone / "current"

    @property
    def lock_file(self) -> Path:
        return self.standalone / "install.lock"

    @property
    def bin_link(self) -> Path:
        return self.bin_dir / "codex"

    @property
    def auth_file(self) -> Path:
        return self.codex_home / "auth.json"

    def release_dir(self, version: str, target: str) -> Path:
        return self.releases / f"{version}-{target}"


def codex_home(explicit: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Path:
    """--codex-home, else CODEX_HOME, else ~/.codex (rule: locations.codex_home)."""
    return Path(locations.codex_home(explicit, env))


def bin_dir(explicit: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Path:
    """--bin-dir, else CODEX_INSTALL_DIR, else XDG_BIN_HOME, else ~/.local/bin (rule:
    locations.bin_dir)."""
    return Path(locations.bin_dir(explicit, env))


def cache_dir(env: Mapping[str, str]) -> Path:
    """CODEX_INSTALL_CACHE_DIR, else XDG_CACHE_HOME/codex-install, else ~/.cache/codex-install
    (~/Library/Caches/codex-install on macOS; rule: locations.cache_dir)."""
    return Path(locations.cache_dir(env))


def resolve_paths(
    env: Mapping[str, str],
    *,
    codex_home_opt: str | os.PathLike[str] | None = None,
    bin_dir_opt: str | os.PathLike[str] | None = None,
) -> Paths:
    return Paths(
        codex_home=codex_home(codex_home_opt, env),
        bin_dir=bin_dir(bin_dir_opt, env),
        cache_dir=cache_dir(env),
    )


def github_token(env: Mapping[str, str]) -> str | None:
    """GITHUB_TOKEN, else GH_TOKEN. Sent only to the GitHub API host, never printed; one that
    cannot be an HTTP header value is a UsageError naming the variable, never echoing it."""
    for name in ("GITHUB_TOKEN", "GH_TOKEN"):
        value = env.get(name, "").strip()
        if value:
            return header_safe(name, value)
    return None


def header_safe(name: str, value: str) -> str:
    """``value`` if it can travel in an HTTP header (visible ASCII and spaces only)."""
    if all(" " <= c <= "~" for c in value):
        return value
    raise UsageError(
        f"{name} is not a valid token: it holds a line break, a control character or a "
        "character that is not ASCII",
        hint=f"set {name} to the token alone",
    )


def find_codex(paths: Paths, env: Mapping[str, str], *, exclude: Sequence[str] = ()) -> Path:
    """The installed codex: the bin-dir link, else ``current/bin/codex``, else the first
    ``codex`` on PATH — skipping any file that is this launcher itself (``exclude``), so a
    ``codex -> codex-launch`` alias never execs itself in a loop."""
    candidates = locations.codex_candidates(str(paths.codex_home), str(paths.bin_dir), env)
    found = locations.first_executable(candidates, exclude)
    if found is not None:
        return Path(found)
    raise NotFoundError(
        f"Codex is not installed (no codex in the bin dir, in {paths.current / 'bin'} or on PATH)",
        hint="install it with `codex-install`",
    )

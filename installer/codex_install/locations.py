"""The precedence rules of paths.py on plain strings, for the codex-launch hot path: ``os`` only
(``pathlib`` and ``dataclasses`` cost milliseconds on every launch). paths.py builds its
``Path`` values from these, so there is one rule for each location."""

from __future__ import annotations

import os

TYPE_CHECKING = False  # not typing's: importing typing costs ms on the codex-launch hot path
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping


def absolute(path: str | os.PathLike[str]) -> str:
    """``~`` expanded and made absolute (not resolved: links are written with these paths)."""
    return os.path.abspath(os.path.expanduser(os.fspath(path)))


def home_dir(env: Mapping[str, str]) -> str:
    return env.get("HOME") or os.path.expanduser("~")


def codex_home(explicit: str | os.PathLike[str] | None, env: Mapping[str, str]) -> str:
    """--codex-home, else CODEX_HOME, else ~/.codex."""
    if explicit:
        return absolute(explicit)
    return absolute(env.get("CODEX_HOME") or os.path.join(home_dir(env), ".codex"))


def bin_dir(explicit: str | os.PathLike[str] | None, env: Mapping[str, str]) -> str:
    """--bin-dir, else CODEX_INSTALL_DIR, else XDG_BIN_HOME, else ~/.local/bin."""
    if explicit:
        return absolute(explicit)
    for name in ("CODEX_INSTALL_DIR", "XDG_BIN_HOME"):
        if env.get(name):
            return absolute(env[name])
    return absolute(os.path.join(home_dir(env), ".local", "bin"))


def cache_dir(env: Mapping[str, str]) -> str:
    """CODEX_INSTALL_CACHE_DIR, else XDG_CACHE_HOME/codex-install, else ~/.cache/codex-install
    (~/Library/Caches/codex-install on macOS)."""
    if env.get("CODEX_INSTALL_CACHE_DIR"):
        return os.path.expanduser(env["CODEX_INSTALL_CACHE_DIR"])
    if env.get("XDG_CACHE_HOME"):
        return os.path.join(os.path.expanduser(env["XDG_CACHE_HOME"]), "codex-install")
    mac = os.path.join(home_dir(env), "Library", "Caches")
    if os.uname().sysname == "Darwin" and os.path.isdir(mac):
        return os.path.join(mac, "codex-install")
    return os.path.join(home_dir(env), ".cache", "codex-install")


def codex_candidates(codex_home_dir: str, bin_dir_path: str, env: Mapping[str, str]) -> list[str]:
    """Where the installed codex is looked for, in order: the bin-dir link, the standalone
    ``current`` release, then every ``codex`` on PATH."""
    current = os.path.join(codex_home_dir, "packages", "standalone", "current", "bin", "codex")
    found = [os.path.join(bin_dir_path, "codex"), current]
    found += [os.path.join(d, "codex") for d in env.get("PATH", "").split(os.pathsep) if d]
    return found


def first_executable(candidates: Iterable[str], exclude: Iterable[str] = ()) -> str | None:
    """The first executable file among ``candidates`` that is none of ``exclude`` (the launcher
    itself: a ``codex -> codex-launch`` alias must never exec itself in a loop)."""
    own = {os.path.realpath(p) for p in exclude if p}
    for candidate in candidates:
        if (
            os.path.isfile(candidate)
            and os.access(candidate, os.X_OK)
            and os.path.realpath(candidate) not in own
        ):
            return candidate
    return None

"""``codex-install list``, ``use VERSION`` and ``uninstall [VERSION]``: the installed releases
(SPEC §5). Every change holds the install lock."""

from __future__ import annotations

from typing import Any

from codex_install import layout, pathenv
from codex_install.config import Settings
from codex_install.errors import NotFoundError, UsageError
from codex_install.fs import file_lock
from codex_install.paths import Paths
from codex_install.platforms import host_target_or_none
from codex_install.versions import parse_version


def list_releases(settings: Settings) -> list[dict[str, Any]]:
    return [
        {"version": r.version, "target": r.target, "current": r.current, "path": str(r.path)}
        for r in layout.list_releases(settings.paths)
    ]


def use(version: str, target: str | None, settings: Settings, *, force: bool = False) -> str:
    """Switch ``current`` (and the bin link) to an installed release."""
    spec = parse_version(version)
    if spec.version is None:
        raise UsageError("use needs a version, e.g. `codex-install use 0.169.0`")
    paths = settings.paths
    with file_lock(paths.lock_file):
        layout.sweep_leftovers(paths)
        release = layout.find_release(
            paths, spec.version, target or host_target_or_none(), exact=target is not None
        )
        # A bin link that cannot be written fails here, before `current` has moved on.
        layout.check_writable(paths, force=force, remove_with=pathenv.removal_command)
        layout.activate(paths, release.path)
        layout.link_bin(paths, force=force, remove_with=pathenv.removal_command)
    return f"codex {release.version} ({release.target}) is now current"


def uninstall(version: str | None, target: str | None, settings: Settings) -> list[str]:
    """Remove one release, or (no version) everything codex-install installed."""
    pinned = _installed_version(version)
    paths = settings.paths
    if paths.standalone.exists() or paths.bin_link.is_symlink():
        with file_lock(paths.lock_file):
            layout.sweep_leftovers(paths)
            removed = layout.uninstall(
                paths, pinned, target or host_target_or_none(), exact=target is not None
            )
            if pinned is None:
                removed += _dangling_links(paths, settings)
    elif pinned is not None:
        raise NotFoundError(f"codex {pinned} is not installed (see `codex-install list`)")
    else:
        removed = []
    return [f"removed {p}" for p in removed] or ["nothing to uninstall"]


def _installed_version(version: str | None) -> str | None:
    if not version:
        return None
    pinned = parse_version(version).version
    if pinned is None:  # "latest" must not fall through to removing everything
        raise UsageError(
            "uninstall takes an installed version (see `codex-install list`), "
            "or no version to remove everything"
        )
    return pinned


def _dangling_links(paths: Paths, settings: Settings) -> list[str]:
    """``codex`` links elsewhere on PATH that led into the tree just removed."""
    removed = []
    for link in pathenv.dangling_links(paths.standalone, settings.env):
        link.unlink(missing_ok=True)
        removed.append(str(link))
    return removed

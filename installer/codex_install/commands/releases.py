"""``codex-install list``, ``use VERSION`` and ``uninstall [VERSION]``: the installed releases
(SPEC §5). Every change holds the install lock."""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

from codex_install import layout, pathenv, tables
from codex_install.config import Settings
from codex_install.errors import FilesystemError, NotFoundError, UsageError
from codex_install.fs import file_lock
from codex_install.paths import Paths
from codex_install.platforms import host_target_or_none
from codex_install.versions import parse_version


def list_releases(settings: Settings) -> list[dict[str, Any]]:
    return [
        {"version": r.version, "target": r.target, "current": r.current, "path": str(r.path)}
        for r in layout.list_releases(settings.paths)
    ]


def table(releases: list[dict[str, Any]], style: tables.Style) -> list[str]:
    """``list`` for people: newest first, with what each release is and where it came from."""
    from codex_install.install import read_receipt

    rows = [
        tables.Release(
            version=r["version"],
            date=_installed_on(Path(r["path"])),
            size=_tree_size(Path(r["path"])),
            source=read_receipt(Path(r["path"])).get("source"),
            status="current" if r["current"] else "",
            target=r["target"],
        )
        for r in reversed(releases)  # list_releases is oldest first
    ]
    return tables.releases(rows, style, date_title="INSTALLED", targets=True)


def _installed_on(release: Path) -> str | None:
    try:
        when = release.stat().st_mtime
    except OSError:
        return None
    return datetime.datetime.fromtimestamp(when, datetime.timezone.utc).strftime("%Y-%m-%d")


def _tree_size(root: Path) -> int | None:
    """The bytes a release takes (links not followed)."""
    total = 0
    try:
        for where, _dirs, files in os.walk(root):
            for name in files:
                total += os.lstat(os.path.join(where, name)).st_size
    except OSError:
        return None
    return total


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


def uninstall_plan(settings: Settings) -> list[str]:
    """What ``uninstall`` of everything would remove, one line each, for the question asked
    before it does (nothing is removed here)."""
    paths = settings.paths
    plan = []
    if layout.bin_link_is_ours(paths):
        plan.append(f"the codex link {paths.bin_link}")
    releases = layout.list_releases(paths)
    if releases:
        versions = ", ".join(r.version for r in reversed(releases))
        plan.append(f"{len(releases)} release(s) in {paths.releases} ({versions})")
    elif paths.releases.exists():
        plan.append(f"{paths.releases}")
    plan += [f"the PATH block in {p}" for p in _profiles_with_block(settings)]
    plan += [
        f"the dangling link {p}" for p in pathenv.dangling_links(paths.standalone, settings.env)
    ]
    return plan


def uninstall(version: str | None, target: str | None, settings: Settings) -> list[str]:
    """Remove one release, or (no version) everything codex-install installed: the releases,
    ``current``, the bin link and the PATH block it put in the shell profiles."""
    pinned = _installed_version(version)
    paths = settings.paths
    removed: list[str] = []
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
    lines = [f"removed {p}" for p in removed]
    if pinned is None:
        for profile in _profiles_with_block(settings):
            pathenv.remove_block(profile)
            lines.append(f"removed the PATH block from {profile}")
    return lines or ["nothing to uninstall"]


def _profiles_with_block(settings: Settings) -> list[Path]:
    home = Path(settings.env.get("HOME") or Path.home())
    found = []
    for profile in dict.fromkeys(pathenv.every_profile(settings.env, home)):
        try:
            text = pathenv.read_profile(profile)
        except FilesystemError:
            continue  # not ours to touch: a FIFO, a huge or binary file
        if pathenv.strip_block(text) is not None:
            found.append(profile)
    return found


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

"""The installed layout of SPEC §5: releases, the ``current`` link and the bin-dir link."""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from codex_install.errors import FilesystemError, NotFoundError, UsageError
from codex_install.fs import (
    UnreadableFileError,
    atomic_symlink,
    make_dirs,
    read_regular,
    remove_tree,
    replace_dir,
)
from codex_install.paths import Paths
from codex_install.versions import version_key

STAGING_PREFIX = ".staging-"
KEEP_PREFIX = ".keep-"  # hard-linked stand-in for the release ``current`` runs (see promote)
# How the user removes another tool's codex found in the bin dir (pathenv.removal_command):
# passed in, so the layout does not depend on PATH inspection.
RemoveWith = Callable[[Path], str]


def _rm(path: Path) -> str:
    return f"rm {path}"


@dataclass(frozen=True)
class InstalledRelease:
    version: str
    target: str
    path: Path
    current: bool


def is_complete(release_dir: Path) -> bool:
    """Release dirs appear only by renaming a verified, smoke-tested staging dir, so a dir with
    its manifest and an executable entrypoint is complete."""
    entry = release_dir / "bin" / "codex"
    return (
        (release_dir / "codex-package.json").is_file()
        and entry.is_file()
        and os.access(entry, os.X_OK)
    )


def current_dir(paths: Paths) -> Path | None:
    try:
        target = os.readlink(paths.current)
    except OSError:
        return None
    resolved = (paths.current.parent / target).resolve()
    return resolved if resolved.is_dir() else None


def split_release_name(name: str) -> tuple[str, str] | None:
    # "<ver>-<target>"; versions may contain "-" (0.1.0-alpha.1), targets always do.
    for marker in ("-aarch64-", "-x86_64-"):
        idx = name.find(marker)
        if idx > 0:
            return name[:idx], name[idx + 1 :]
    return None


def list_releases(paths: Paths) -> list[InstalledRelease]:
    current = current_dir(paths)
    found: list[InstalledRelease] = []
    if not paths.releases.is_dir():
        return found
    for child in paths.releases.iterdir():
        if child.name.startswith(".") or not child.is_dir():
            continue
        parts = split_release_name(child.name)
        if parts is None or not is_complete(child):
            continue
        found.append(
            InstalledRelease(
                version=parts[0],
                target=parts[1],
                path=child,
                current=current is not None and child.resolve() == current,
            )
        )
    found.sort(key=lambda r: (version_key(r.version), r.target))
    return found


def clean_leftovers(paths: Paths) -> int:
    """Remove staging and trash dirs left by an install that was killed (caller holds the lock)."""
    removed = 0
    active = current_dir(paths)
    children = list(paths.releases.iterdir()) if paths.releases.is_dir() else []
    for child in children:
        if child.name.startswith((STAGING_PREFIX, ".trash-", KEEP_PREFIX)) and (
            child.resolve() != active
        ):
            shutil.rmtree(child, ignore_errors=True)
            removed += 1
    # Temp links of atomic_symlink / check_writable exist even before the first release does.
    for child in paths.standalone.glob(".current.tmp-*"):
        child.unlink(missing_ok=True)
    # atomic_symlink's temp link for <bin-dir>/codex: a kill before its rename strands it in a
    # directory on the user's PATH. Only symlinks: a regular file there is not ours.
    for child in paths.bin_dir.glob(f".{paths.bin_link.name}.tmp-*"):
        if child.is_symlink():
            child.unlink(missing_ok=True)
    return removed


def sweep_leftovers(paths: Paths) -> int:
    """What every command does first under the install lock (install, use, prune, uninstall):
    the leftovers of a killed install removed — but only in a tree we trust: nothing in a tree
    owned by someone else is touched (the command itself says so, or refuses, as it would)."""
    try:
        check_trusted(paths)
    except FilesystemError:
        return 0
    return clean_leftovers(paths)


def new_staging_dir(paths: Paths) -> Path:
    try:
        make_dirs(paths.releases)
        staging = paths.releases / f"{STAGING_PREFIX}{os.urandom(6).hex()}"
        staging.mkdir(mode=0o755)
    except OSError as err:
        raise FilesystemError(
            f"cannot create a staging directory in {paths.releases}: {err.strerror}"
        ) from err
    return staging


def promote(staging: Path, release_dir: Path, *, paths: Paths | None = None) -> None:
    """Rename a verified staging dir into place; an existing release (--force) is swapped out.

    Two renames cannot replace a directory atomically. When ``current`` (given ``paths``) runs
    the release being replaced, it first moves to a hard-linked stand-in (no bytes copied), so
    a kill between the renames never leaves ``current`` pointing at nothing.
    """
    keep: Path | None = None
    if paths is not None and release_dir.exists() and current_dir(paths) == release_dir.resolve():
        keep = release_dir.with_name(f"{KEEP_PREFIX}{os.urandom(6).hex()}")
        try:
            shutil.copytree(release_dir, keep, symlinks=True, copy_function=_link_or_copy)
        except OSError as err:
            shutil.rmtree(keep, ignore_errors=True)
            raise FilesystemError(f"cannot move release into {release_dir}: {err}") from err
        activate(paths, keep)
    try:
        replace_dir(staging, release_dir, what="move release into")
    finally:
        if keep is not None and paths is not None:
            activate(paths, release_dir)


def activate(paths: Paths, release_dir: Path) -> None:
    """Swap ``current`` to ``release_dir`` (relative link, atomic rename); a stand-in left by
    ``promote`` goes once nothing points at it."""
    previous = current_dir(paths)
    atomic_symlink(os.path.join("releases", release_dir.name), paths.current)
    if (
        previous is not None
        and previous.name.startswith(KEEP_PREFIX)
        and previous != release_dir.resolve()
    ):
        shutil.rmtree(previous, ignore_errors=True)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dst, follow_symlinks=False)


def link_bin(paths: Paths, *, force: bool = False, remove_with: RemoveWith = _rm) -> Path:
    """Point ``<bin-dir>/codex`` at ``current/bin/codex``. A regular file there is somebody
    else's codex: replace it only with ``--force``."""
    link = paths.bin_link
    _check_bin_dir(paths, force, remove_with)
    if _bin_link_is_current(paths):
        return link
    atomic_symlink(paths.current / "bin" / "codex", link)
    return link


def check_writable(paths: Paths, *, force: bool = False, remove_with: RemoveWith = _rm) -> None:
    """Fail before any download if the ``current`` or bin-dir link could not be written.
    Found out at the end, the command would fail after ``current`` had already moved on."""
    check_trusted(paths, force=force)
    _check_bin_dir(paths, force, remove_with)
    places = [(paths.standalone, paths.current.name)]
    if not _bin_link_is_current(paths):
        places.append((paths.bin_dir, paths.bin_link.name))
    for where, name in places:
        # Named like atomic_symlink's temp links, so clean_leftovers sweeps one a kill strands.
        probe = where / f".{name}.tmp-{os.urandom(4).hex()}"
        try:
            os.symlink(name, probe)
            probe.unlink()
        except OSError as err:
            raise FilesystemError(f"cannot write in {where}: {err.strerror}") from err


def user_private_group(gid: int, uid: int) -> bool:
    """Whether ``gid`` is ``uid``'s own group in the user-private-group scheme (Debian, Fedora:
    a group of the user's name with no other member, umask 002): a dir writable by that group
    is writable by nobody else, so it is as trusted as mode 755."""
    import grp  # only a group-writable dir needs the look-ups
    import pwd

    try:
        group, user = grp.getgrgid(gid), pwd.getpwuid(uid)
    except KeyError:  # a gid or uid with no name: nobody can say who else is in it
        return False
    return (
        group.gr_name == user.pw_name and user.pw_gid == gid and set(group.gr_mem) <= {user.pw_name}
    )


def check_trusted(
    paths: Paths,
    *,
    force: bool = False,
    uid: int | None = None,
    private_group: Callable[[int, int], bool] = user_private_group,
) -> None:
    """Refuse a standalone tree (the dir, ``releases/`` and each release in it) that another
    user owns or that group/others may write: whoever can write there can swap the codex we
    run and link onto PATH. The same holds for the dirs above it, CODEX_HOME and
    ``packages/`` (whoever can write one can rename the tree below and put another in its
    place), except that a sticky dir (mode 1777, like /tmp) lets nobody move what is ours.
    Writable by the user's own private group (``private_group``) counts as not writable by
    others. ``--force`` overrides; ``uid`` defaults to our effective uid."""
    if force:
        return
    me = os.geteuid() if uid is None else uid
    above = [paths.codex_home, paths.standalone.parent]
    for where in [*above, *_tree_dirs(paths)]:
        try:
            st = os.stat(where)
        except OSError:
            continue  # not there yet: we create it, with mode 0755 (fs.make_dirs)
        own_group = st.st_mode & 0o020 != 0 and private_group(st.st_gid, me)
        _check_trust(where, st, me, sticky_ok=where in above, own_group=own_group)


def _tree_dirs(paths: Paths) -> list[Path]:
    dirs = [paths.standalone, paths.releases]
    try:
        children = list(paths.releases.iterdir())
    except OSError:
        children = []
    return dirs + [c for c in children if c.is_dir() and not c.is_symlink()]


def _check_trust(
    where: Path, st: os.stat_result, me: int, *, sticky_ok: bool = False, own_group: bool = False
) -> None:
    if st.st_uid != me:
        raise FilesystemError(
            f"{where} is owned by another user (uid {st.st_uid}, you are {me}); refusing to "
            "install there",
            hint="fix its owner, or pass --force if you trust it",
        )
    writable = st.st_mode & (0o002 if own_group else 0o022)
    if writable and not (sticky_ok and st.st_mode & stat.S_ISVTX):
        who = (
            "group and others" if writable == 0o022 else ("group" if writable & 0o020 else "others")
        )
        raise FilesystemError(
            f"{where} is writable by {who} (mode {stat.S_IMODE(st.st_mode):o}); refusing to "
            "install there",
            hint=f"run `chmod go-w {where}`, or pass --force if you trust it",
        )


def _check_bin_dir(paths: Paths, force: bool, remove_with: RemoveWith) -> None:
    try:
        paths.bin_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise FilesystemError(f"cannot create bin dir {paths.bin_dir}: {err.strerror}") from err
    link = paths.bin_link
    if link.exists() and not link.is_symlink() and not force:
        raise FilesystemError(
            f"{link} exists and is not a link made by codex-install",
            hint="remove it or pass --force to replace it",
        )
    if link.is_symlink() and not force and not _replaceable_link(link):
        raise FilesystemError(
            f"{link} is a link to another install of codex ({os.readlink(link)})",
            hint=f"remove it with `{remove_with(link)}`, or pass --force to replace it",
        )


def _replaceable_link(link: Path) -> bool:
    """A link into a standalone layout (ours, or Codex's own installer's) or to nothing at all;
    a link to an npm or Homebrew codex (``--bin-dir /usr/local/bin``) belongs to them."""
    if not link.exists():
        return True
    target = os.path.normpath(os.path.join(link.parent, os.readlink(link)))
    return f"{os.sep}packages{os.sep}standalone{os.sep}" in target


def _bin_link_is_current(paths: Paths) -> bool:
    link = paths.bin_link
    return link.is_symlink() and os.readlink(link) == str(paths.current / "bin" / "codex")


def find_release(
    paths: Paths, version: str, target: str | None, *, exact: bool = False
) -> InstalledRelease:
    """The installed release of ``version``: for ``target`` when there is one, else (unless
    ``exact``: the user named the target) the only one installed."""
    matches = _installed(paths, version, target, exact=exact)
    if len(matches) == 1:
        return matches[0]
    if not matches:
        where = f" for {target}" if exact and target else ""
        raise NotFoundError(f"codex {version} is not installed{where} (see `codex-install list`)")
    raise UsageError(
        f"codex {version} is installed for several targets; pass --target "
        f"({', '.join(r.target for r in matches)})"
    )


def _installed(
    paths: Paths, version: str, target: str | None, *, exact: bool
) -> list[InstalledRelease]:
    matches = [r for r in list_releases(paths) if r.version == version]
    if target is None:
        return matches
    preferred = [r for r in matches if r.target == target]
    return preferred if exact else preferred or matches


def bin_link_is_ours(paths: Paths) -> bool:
    link = paths.bin_link
    if not link.is_symlink():
        return False
    return os.readlink(link).startswith(str(paths.standalone))


def uninstall(
    paths: Paths, version: str | None, target: str | None, *, exact: bool = False
) -> list[str]:
    """Remove one release (not the current one), or everything codex-install installed —
    never anything else in CODEX_HOME (it holds the user's sessions and credentials)."""
    removed: list[str] = []
    if version is not None:
        release = find_release(paths, version, target, exact=exact)
        if release.current:
            others = [r for r in list_releases(paths) if not r.current]
            raise UsageError(
                f"codex {version} is the current release; "
                + (
                    f"switch first with `codex-install use {others[-1].version}`"
                    if others
                    else "run `codex-install uninstall` to remove everything"
                )
            )
        remove_tree(release.path)
        return [str(release.path)]
    if bin_link_is_ours(paths):
        paths.bin_link.unlink()
        removed.append(str(paths.bin_link))
    if paths.current.is_symlink():
        paths.current.unlink()
        removed.append(str(paths.current))
    if paths.releases.exists():
        remove_tree(paths.releases)
        removed.append(str(paths.releases))
    return removed


def write_package_json(
    release_dir: Path, version: str, target: str, *, legacy: bool = False
) -> None:
    """Legacy archives carry no codex-package.json; write the one the package layout has
    (marked ``installedFrom: legacy`` so ``installed_layout`` can tell later)."""
    data: dict[str, object] = {
        "layoutVersion": 1,
        "version": version,
        "target": target,
        "variant": "codex",
        "entrypoint": "bin/codex",
        "resourcesDir": "codex-resources",
        "pathDir": "codex-path",
    }
    if legacy:
        data["installedFrom"] = "legacy"
    (release_dir / "codex-package.json").write_text(json.dumps(data, indent=2) + "\n")


STATE_CAP = 1 << 20  # a receipt or codex-package.json is a few hundred bytes


def read_state_json(path: Path, what: str) -> object:
    """The JSON value of a small file of a release (its receipt, its ``codex-package.json``),
    None when there is none. Read as every state file is (``fs.read_regular``: no FIFO, device
    or oversized file); raises UnreadableFileError, or ValueError when it is no JSON."""
    data = read_regular(path, STATE_CAP, what=what)
    if data is None:
        return None
    try:
        return json.loads(data)
    except RecursionError as err:  # nested for ever: no JSON we wrote
        raise ValueError(f"{what} nests too deeply") from err


def installed_layout(release_dir: Path) -> Literal["package", "legacy"]:
    """Which kind of archive an installed release came from (see write_package_json)."""
    try:
        data = read_state_json(release_dir / "codex-package.json", "codex-package.json")
    except (UnreadableFileError, ValueError):
        return "package"
    legacy = isinstance(data, dict) and data.get("installedFrom") == "legacy"
    return "legacy" if legacy else "package"

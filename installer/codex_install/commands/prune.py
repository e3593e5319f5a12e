"""``codex-install prune [--keep N]``: remove old releases (mise ``prune``). Never ``current``,
never anything in CODEX_HOME but release dirs codex-install can name (SPEC §5)."""

from __future__ import annotations

from dataclasses import dataclass

from codex_install import layout
from codex_install.config import Settings
from codex_install.errors import UsageError
from codex_install.fs import file_lock, remove_tree
from codex_install.layout import InstalledRelease


@dataclass(frozen=True)
class PruneArgs:
    keep: int = 0  # releases kept besides `current`, newest first
    dry_run: bool = False


def to_remove(releases: list[InstalledRelease], keep: int) -> list[InstalledRelease]:
    """The releases to remove (pure): all but ``current`` and the ``keep`` newest others."""
    others = [r for r in releases if not r.current]  # list_releases sorts oldest first
    return others[: max(len(others) - keep, 0)]


def run(args: PruneArgs, settings: Settings) -> list[InstalledRelease]:
    """Remove (or with ``dry_run`` only list) what :func:`to_remove` picks, under the lock."""
    if args.keep < 0:
        raise UsageError("--keep takes a number of releases ≥ 0")
    paths = settings.paths
    if not paths.releases.is_dir():
        return []
    with file_lock(paths.lock_file):
        if not args.dry_run:
            layout.sweep_leftovers(paths)
        releases = layout.list_releases(paths)
        if not any(r.current for r in releases):
            # Without `current` nothing says which release is in use: remove nothing.
            raise UsageError(
                "no release is current (see `codex-install list`); run `codex-install use "
                "VERSION` or `codex-install uninstall` first"
            )
        doomed = to_remove(releases, args.keep)
        if not args.dry_run:
            for release in doomed:
                remove_tree(release.path)
    return doomed

"""``codex-install ls-remote``: the versions the configured source offers for a target
(mise ``ls-remote``), the installed ones marked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from codex_install import layout
from codex_install.config import Settings
from codex_install.errors import NetworkError, UsageError
from codex_install.http.client import make_client
from codex_install.platforms import resolve_target
from codex_install.sources.listing import github_versions, mirror_versions
from codex_install.sources.npm import versions_factory
from codex_install.ui import Reporter, shown

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True)
class RemoteVersions:
    source: str
    target: str
    versions: tuple[str, ...]  # newest first
    installed: frozenset[str]
    current: str | None

    def lines(self) -> list[str]:
        def mark(v: str) -> str:
            return (
                " (current)"
                if v == self.current
                else (" (installed)" if v in self.installed else "")
            )

        # Versions are validated (SPEC §3) wherever they are read; escaped here all the same.
        return [f"{shown(v)}{mark(v)}" for v in self.versions]

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "source": self.source,
            "target": self.target,
            "versions": list(self.versions),
            "installed": sorted(self.installed),
            "current": self.current,
        }


def run(target: str | None, settings: Settings, reporter: Reporter) -> RemoteVersions:
    triple = resolve_target(target)
    with make_client() as client:
        source, versions = _list(settings, client, triple, reporter)
    releases = [r for r in layout.list_releases(settings.paths) if r.target == triple]
    return RemoteVersions(
        source=source,
        target=triple,
        versions=tuple(versions),
        installed=frozenset(r.version for r in releases),
        current=next((r.version for r in releases if r.current), None),
    )


def _list(
    settings: Settings, client: httpx.Client, target: str, reporter: Reporter
) -> tuple[str, list[str]]:
    source = settings.sources.effective
    if source == "npm":
        return "npm", _npm_versions(settings, client, target, reporter)
    if source == "mirror":
        if not settings.sources.mirror:
            raise UsageError("--source mirror needs --mirror URL (or CODEX_INSTALL_MIRROR)")
        return "mirror", mirror_versions(
            client, settings.sources.mirror, registry=settings.sources.registry
        )
    try:
        return "github", github_versions(settings.sources.github, client)
    except NetworkError as err:
        # As install does: with the auto source an unreachable GitHub falls back to npm.
        if source != "auto" or not err.connection_level:
            raise
        versions = versions_factory(
            settings.env, settings.sources.npm_registry, notice=reporter.info
        )
        if versions is None:
            raise
        reporter.info(f"GitHub is unreachable: {err.message}; listing the npm registry instead")
        return "npm", versions(client, target)


def _npm_versions(
    settings: Settings, client: httpx.Client, target: str, reporter: Reporter
) -> list[str]:
    versions = versions_factory(settings.env, settings.sources.npm_registry, notice=reporter.info)
    if versions is None:
        raise UsageError("no npm registry is configured (pass --npm-registry URL)")
    return versions(client, target)

"""``codex-install ls-remote``: the versions the configured source offers for a target
(mise ``ls-remote``), the installed ones marked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from codex_install import layout
from codex_install.config import Settings
from codex_install.platforms import resolve_target
from codex_install.sources.dispatch import versions
from codex_install.sources.npm import versions_factory
from codex_install.ui import Reporter, shown


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
    npm_versions = versions_factory(
        settings.env, settings.sources.npm_registry, notice=reporter.info
    )
    with settings.open_network(reporter.info, reporter.debug) as net:
        npm = (lambda t: npm_versions(net, t)) if npm_versions is not None else None
        source, found = versions(net, settings.sources, triple, npm=npm)
    releases = [r for r in layout.list_releases(settings.paths) if r.target == triple]
    return RemoteVersions(
        source=source,
        target=triple,
        versions=tuple(found),
        installed=frozenset(r.version for r in releases),
        current=next((r.version for r in releases if r.current), None),
    )

"""``codex-install ls-remote``: the versions the configured source offers for a target
(mise ``ls-remote``), the installed ones marked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from codex_install import layout, tables
from codex_install.config import Settings
from codex_install.errors import NetworkError
from codex_install.platforms import resolve_target
from codex_install.sources.dispatch import offered
from codex_install.sources.listing import ReleaseInfo
from codex_install.sources.npm import versions_factory
from codex_install.ui import Reporter, notices, shown


@dataclass(frozen=True)
class RemoteVersions:
    source: str
    target: str
    versions: tuple[str, ...]  # newest first
    installed: frozenset[str]
    current: str | None
    details: Mapping[str, ReleaseInfo] = field(default_factory=dict)

    def table(self, style: tables.Style, *, pre: bool = False) -> list[str]:
        """Newest first; alphas and betas only with ``pre``; a header only on a terminal."""
        rows = []
        for v in self.versions:
            if pre or "-" not in v or v in self.installed:
                info = self.details.get(v, ReleaseInfo(None, None))
                rows.append(tables.Release(v, info.date, info.size, self.source, self._status(v)))
        return tables.releases(rows, style, date_title="DATE")

    def _status(self, v: str) -> str:
        return "current" if v == self.current else "installed" if v in self.installed else ""

    def lines(self) -> list[str]:
        # Versions are validated (SPEC §3) wherever they are read; escaped here all the same.
        return [shown(v) + (f" ({s})" if (s := self._status(v)) else "") for v in self.versions]

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
    if settings.offline:
        raise NetworkError(
            "ls-remote asks the source for its versions, and --offline forbids any request",
            hint="`codex-install list` shows the installed ones",
        )
    npm_versions = versions_factory(
        settings.env, settings.sources.npm_registry, notice=reporter.info
    )
    with settings.open_network(notices(reporter), reporter.debug) as net:
        npm = (lambda t: npm_versions(net, t)) if npm_versions is not None else None
        source, details = offered(net, settings.sources, triple, npm=npm)
    found = list(details)
    releases = [r for r in layout.list_releases(settings.paths) if r.target == triple]
    return RemoteVersions(
        source=source,
        target=triple,
        versions=tuple(found),
        installed=frozenset(r.version for r in releases),
        current=next((r.version for r in releases if r.current), None),
        details=details,
    )

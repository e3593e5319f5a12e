"""``codex-install resolve``: what an install would download, without downloading it (only the
small SUMS file the sha256 comes from)."""

from __future__ import annotations

from typing import Any

from codex_install.config import Settings
from codex_install.http.client import make_client
from codex_install.platforms import resolve_target
from codex_install.sources.dispatch import resolve
from codex_install.ui import Reporter
from codex_install.versions import parse_version


def run(target: str | None, settings: Settings) -> dict[str, Any]:
    """The resolved selection as one flat object (``--json``, or ``key: value`` lines)."""
    version = parse_version(settings.version)
    reporter = Reporter()
    with make_client() as client:
        factory = settings.npm_factory(reporter.info)
        resolved = resolve(
            settings.sources,
            version,
            resolve_target(target),
            client=client,
            notice=reporter.info,
            npm_resolver=factory(client) if factory else None,
        )
    sel = resolved.selection
    sha256 = sel.archive.sha256
    if resolved.sums is not None:
        sha256 = resolved.sums.get(sel.archive.name, sha256)
    return {
        "version": sel.version,
        "target": sel.target,
        "layout": sel.layout,
        "asset": sel.archive.name,
        "url": sel.archive.url,
        "size": sel.archive.size,
        "sha256": sha256,
        "integrity": sel.integrity,
        "source": sel.source,
        "fell_back_from": resolved.fell_back_from,
    }

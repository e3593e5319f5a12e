"""``codex-install resolve``: what an install would download, without downloading it (only the
small SUMS file the sha256 comes from)."""

from __future__ import annotations

from typing import Any

from codex_install.config import Settings
from codex_install.errors import printable, shown_url
from codex_install.manifest import manifest_dirs, shipped_manifest, shipped_origin
from codex_install.models import Selection
from codex_install.platforms import resolve_target
from codex_install.sources.dispatch import choose, with_sums
from codex_install.ui import Reporter, notices
from codex_install.versions import parse_version


def run(target: str | None, settings: Settings) -> dict[str, Any]:
    """The resolved selection as one flat object (``--json``, or ``key: value`` lines)."""
    reporter = Reporter(no_color=settings.no_color)
    triple = resolve_target(target)
    settings = settings.settled(triple, reporter.info, reporter.debug)
    version = parse_version(settings.version)
    factory = settings.npm_factory(reporter.info)
    with settings.open_network(notices(reporter), reporter.debug) as net:
        npm = factory(net) if factory else None
        resolved = choose(net, settings.sources, version, triple, npm=npm)
        resolved = with_sums(resolved.selection, net, resolved.fell_back_from)
    sel = resolved.selection
    sha256, size = sel.archive.sha256, sel.archive.size
    if resolved.sums is not None:
        sha256 = resolved.sums.get(sel.archive.name, sha256)
    pinned = _shipped_pin(sel, settings.manifest_override)
    if pinned is not None:
        sha256, size = sha256 or pinned[0], size or pinned[1]
    return {
        "version": sel.version,
        "target": sel.target,
        "layout": sel.layout,
        "asset": sel.archive.name,
        "url": shown_url(sel.archive.url),
        "size": size,
        "sha256": sha256,
        "integrity": sel.integrity,
        "source": sel.source,
        "fell_back_from": resolved.fell_back_from,
        "manifest": pinned[2] if pinned is not None else None,
    }


def lines(data: dict[str, Any]) -> list[str]:
    """The text output: one ``key: value`` line each, remote values (asset name, URL) escaped
    so that none can start a line of its own."""
    return [
        f"{key}: {printable(str(value)) if value is not None else '-'}"
        for key, value in data.items()
    ]


def _shipped_pin(sel: Selection, override: str | None) -> tuple[str, int, str] | None:
    """(sha256, size, origin) of this archive in the shipped manifest for its version, when
    the manifest pins it with the same npm integrity (an npm packument gives neither)."""
    manifest = shipped_manifest(sel.version, manifest_dirs(override))
    asset = manifest.asset_named(sel.archive.name, sel.target) if manifest else None
    if asset is None or (sel.integrity and asset.integrity and asset.integrity != sel.integrity):
        return None
    return asset.sha256, asset.size, shipped_origin(sel.version, override)

"""``codex-install mirror sync``: write a verified static mirror tree of one release."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_install import mirror_sync
from codex_install.config import Settings
from codex_install.platforms import SUPPORTED_TARGETS, validate_target
from codex_install.sources.dispatch import fetch_release
from codex_install.ui import Reporter
from codex_install.versions import parse_version


@dataclass(frozen=True)
class SyncArgs:
    output: Path
    targets: tuple[str, ...] = ()
    quiet: bool = False


def run(args: SyncArgs, settings: Settings) -> dict[str, Any]:
    reporter = Reporter(quiet=args.quiet)
    targets = [validate_target(t) for t in args.targets] or list(SUPPORTED_TARGETS)
    spec = parse_version(settings.version or "latest")
    with settings.open_network(reporter.info) as client:
        release = fetch_release(client, settings.sources, spec)
        reporter.info(
            f"syncing codex {release.version} ({len(targets)} targets) into {args.output}"
        )
        result = mirror_sync.sync(
            release,
            targets,
            args.output,
            client=client,
            is_latest=spec.is_latest,
            notice=reporter.info,
        )
    reporter.info(f"mirror ready: {result.directory}")
    return result.to_json()

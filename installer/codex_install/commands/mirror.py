"""``codex-install mirror sync``: write a verified static mirror tree of one release, or push
it to an OCI registry (``--output oci://HOST/REPO``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codex_install import mirror_sync
from codex_install.config import Settings
from codex_install.platforms import SUPPORTED_TARGETS, validate_target
from codex_install.sources.dispatch import fetch_release
from codex_install.sources.oci import is_oci
from codex_install.ui import Reporter
from codex_install.versions import VersionSpec, parse_version

if TYPE_CHECKING:
    from codex_install.http.network import Network
    from codex_install.models import Release


@dataclass(frozen=True)
class SyncArgs:
    output: str
    targets: tuple[str, ...] = ()
    quiet: bool = False


def run(args: SyncArgs, settings: Settings) -> dict[str, Any]:
    reporter = Reporter(quiet=args.quiet, no_color=settings.no_color)
    targets = [validate_target(t) for t in args.targets] or list(SUPPORTED_TARGETS)
    settings = settings.settled(targets[0], reporter.info, reporter.debug)
    spec = parse_version(settings.version or "latest")
    with settings.open_network(reporter.info) as client:
        release = fetch_release(client, settings.sources, spec)
        reporter.info(
            f"syncing codex {release.version} ({len(targets)} targets) into {args.output}"
        )
        if is_oci(args.output):
            return _push(args.output, release, targets, spec, settings, client, reporter)
        result = mirror_sync.sync(
            release,
            targets,
            Path(args.output),
            client=client,
            is_latest=spec.is_latest,
            notice=reporter.info,
        )
    reporter.info(f"mirror ready: {result.directory}")
    return result.to_json()


def _push(
    output: str,
    release: Release,
    targets: list[str],
    spec: VersionSpec,
    settings: Settings,
    client: Network,
    reporter: Reporter,
) -> dict[str, Any]:
    from codex_install.sources.oci.reference import parse_reference

    destination = parse_reference(output, "the --output registry")
    source = settings.sources.mirror
    # A release read from another repository of the same registry is mounted, not re-sent.
    mount_from = None
    if source is not None and is_oci(source):
        origin = parse_reference(source)
        mount_from = origin.repository if origin.host == destination.host else None
    registry = settings.sources.registry or settings.registry_config()
    result = mirror_sync.sync_oci(
        release,
        targets,
        output,
        client=client,
        registry=registry,
        is_latest=spec.is_latest,
        mount_from=mount_from,
        notice=reporter.info,
    )
    counts = result.counts
    reporter.info(
        f"pushed {result.registry}:{', '.join(result.tags)} ({counts.uploaded} blobs uploaded, "
        f"{counts.mounted} mounted, {counts.present} already there)"
    )
    return result.to_json()

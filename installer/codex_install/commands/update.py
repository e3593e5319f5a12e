"""``codex-install update``: install the latest release for the installed target and say what
changed (rustup ``update``); the way we advertise instead of Codex's own ``codex update``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from codex_install import ci, layout
from codex_install.config import Settings
from codex_install.install import Hooks, InstallRequest, install
from codex_install.platforms import resolve_target
from codex_install.ui import Reporter, notices
from codex_install.versions import VersionSpec


@dataclass(frozen=True)
class UpdateArgs:
    target: str | None = None
    quiet: bool = False
    verbose: bool = False


def run(args: UpdateArgs, settings: Settings) -> dict[str, Any]:
    """The ``--json`` object of an install, plus ``updated`` (a new version is current)."""
    reporter = Reporter(quiet=args.quiet, verbose=args.verbose, no_color=settings.no_color)
    current = next((r for r in layout.list_releases(settings.paths) if r.current), None)
    request = InstallRequest(
        version=VersionSpec(None),
        target=resolve_target(args.target or (current.target if current else None)),
        sources=settings.sources,
    )
    hooks = Hooks(
        plan=settings.network,
        notice=notices(reporter),
        debug=reporter.debug,
        progress=reporter.progress,
        npm_resolver_factory=settings.npm_factory(reporter.info),
    )
    result = install(request, settings.paths, hooks)
    reporter.info(result.outcome())
    data = {"ok": True, "exit_code": 0, **result.to_json()}
    data["updated"] = result.previous != result.version
    data["github_actions"] = ci.step_outputs(settings.env, result)
    return data

"""``codex-install check``: the installed release against the latest one the configured source
offers (exit 0 when current, 10 when an update exists; rustup ``check``, mise ``outdated``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from codex_install import layout
from codex_install.config import Settings
from codex_install.errors import NetworkError
from codex_install.platforms import resolve_target
from codex_install.sources.dispatch import choose
from codex_install.ui import Reporter, notices
from codex_install.versions import VersionSpec, version_key

UPDATE_AVAILABLE = 10  # SPEC §6
# The latest could not be learnt (--offline, or the source unreachable) and a release is
# installed: neither "up to date" (0) nor "update available" (10), and no failure of the install.
UNCHECKED = 11


@dataclass(frozen=True)
class CheckResult:
    installed: str | None
    latest: str | None  # None: not checked (``unchecked`` says why)
    target: str
    source: str
    unchecked: str | None = None

    @property
    def update_available(self) -> bool:
        if self.latest is None:
            return False
        return self.installed is None or version_key(self.latest) > version_key(self.installed)

    @property
    def exit_code(self) -> int:
        if self.latest is None:
            return UNCHECKED
        return UPDATE_AVAILABLE if self.update_available else 0

    def message(self) -> str:
        if self.latest is None:
            return (
                f"codex {self.installed} is installed; the latest could not be checked "
                f"({self.unchecked})"
            )
        if self.installed is None:
            return (
                f"codex is not installed by codex-install; the latest is {self.latest} "
                "(install it with `codex-install`)"
            )
        if self.update_available:
            return (
                f"codex {self.installed} is installed; {self.latest} is available "
                f"(from {self.source}): run `codex-install update`"
            )
        return f"codex {self.installed} is up to date (latest {self.latest} from {self.source})"

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "exit_code": self.exit_code,
            "installed": self.installed,
            "latest": self.latest,
            "target": self.target,
            "source": self.source,
            "update_available": self.update_available,
            "checked": self.latest is not None,
            "unchecked_because": self.unchecked,
        }


def run(target: str | None, settings: Settings, reporter: Reporter) -> CheckResult:
    """Compare ``current`` with the latest release for its target (or ``target``)."""
    current = next((r for r in layout.list_releases(settings.paths) if r.current), None)
    triple = resolve_target(target or (current.target if current else None))
    installed = current.version if current else None
    if settings.offline:
        if current is None:
            raise NetworkError("nothing is installed, and --offline forbids asking for the latest")
        return CheckResult(installed, None, triple, "none", unchecked="--offline")
    try:
        return _check(installed, triple, settings, reporter)
    except NetworkError as err:
        if current is None:
            raise
        return CheckResult(installed, None, triple, "none", unchecked=err.line())


def _check(
    installed: str | None, triple: str, settings: Settings, reporter: Reporter
) -> CheckResult:
    factory = settings.npm_factory(reporter.info)
    with settings.open_network(notices(reporter), reporter.debug) as net:
        npm = factory(net) if factory else None
        resolved = choose(net, settings.sources, VersionSpec(None), triple, npm=npm)
    latest = resolved.selection
    return CheckResult(
        installed=installed,
        latest=latest.version,
        target=triple,
        source=latest.source,
    )

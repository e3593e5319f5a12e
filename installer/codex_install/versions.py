"""Version strings (SPEC §3): latest, X.Y.Z, vX.Y.Z, rust-vX.Y.Z, with -alpha.N / -beta.N."""

from __future__ import annotations

import re
from dataclasses import dataclass

from codex_install.errors import UsageError

TAG_PREFIX = "rust-v"
# re.ASCII: \d would otherwise accept any Unicode digit ("١.٢.٣").
_VERSION_RE = re.compile(r"^(?:rust-v|v)?(\d+\.\d+\.\d+(?:-(?:alpha|beta)\.\d+)?)$", re.ASCII)


@dataclass(frozen=True)
class VersionSpec:
    """``version`` is None for latest."""

    version: str | None

    @property
    def is_latest(self) -> bool:
        return self.version is None

    @property
    def tag(self) -> str | None:
        return None if self.version is None else TAG_PREFIX + self.version

    def __str__(self) -> str:
        return self.version or "latest"


def parse_version(text: str | None) -> VersionSpec:
    """Parse a user-supplied version; raise UsageError (exit 2) for anything else."""
    if text is None or text.strip() == "" or text.strip().lower() == "latest":
        return VersionSpec(None)
    m = _VERSION_RE.match(text.strip())
    if not m:
        raise UsageError(
            f"invalid version {text!r}: use latest, X.Y.Z, vX.Y.Z or rust-vX.Y.Z "
            "(optionally with -alpha.N or -beta.N)"
        )
    return VersionSpec(m.group(1))


def version_from_tag(tag: str) -> str:
    """``rust-v0.169.0`` → ``0.169.0``; raise UsageError for an unexpected tag."""
    spec = parse_version(tag)
    if spec.version is None:
        raise UsageError(f"release tag {tag!r} is not a Codex version tag")
    return spec.version


def is_prerelease(version: str) -> bool:
    return "-" in version


def version_key(version: str) -> tuple[int, int, int, int, int]:
    """Sort key: prereleases sort before their release (alpha < beta < final)."""
    m = re.match(r"^(\d+)\.(\d+)\.(\d+)(?:-(alpha|beta)\.(\d+))?$", version)
    if not m:
        return (0, 0, 0, 0, 0)
    kind = {"alpha": 0, "beta": 1, None: 2}[m.group(4)]
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)), kind, int(m.group(5) or 0))

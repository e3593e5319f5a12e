"""Asset selection and checksum files (SPEC §3): pure functions."""

from __future__ import annotations

import re

from codex_install.errors import NotFoundError, UsageError, VerificationError
from codex_install.models import Layout, Release, Selection

SUMS_NAME = "codex-package_SHA256SUMS"
_SUMS_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *]?(\S.*)$")


def candidate_names(target: str) -> list[tuple[str, Layout]]:
    """Archive names for ``target`` in order of preference."""
    return [
        (f"codex-package-{target}.tar.zst", "package"),
        (f"codex-package-{target}.tar.gz", "package"),
        (f"codex-{target}.tar.gz", "legacy"),
    ]


def select_asset(release: Release, target: str, *, layout: Layout | None = None) -> Selection:
    """The preferred archive for ``target``: package .tar.zst > .tar.gz > legacy .tar.gz."""
    sums = release.asset(SUMS_NAME)
    for name, kind in candidate_names(target):
        if layout is not None and kind != layout:
            continue
        asset = release.asset(name)
        if asset is None:
            continue
        if kind == "package" and sums is None:
            # Without SUMS a package archive can't get the verification chain §3 demands.
            continue
        return Selection(
            version=release.version,
            target=target,
            layout=kind,
            archive=asset,
            sums=sums if kind == "package" else None,
            source=release.source,
        )
    names = ", ".join(a.name for a in release.assets) or "none"
    raise NotFoundError(f"release {release.tag} has no archive for {target} (assets: {names})")


def parse_sums(text: str) -> dict[str, str]:
    """``<64 hex>  <name>`` lines → {name: hex}. Blank lines are ignored; anything else fails."""
    result: dict[str, str] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        m = _SUMS_LINE.match(line)
        if not m:
            raise VerificationError(f"{SUMS_NAME}: line {lineno} is not '<sha256>  <name>'")
        name = m.group(2).strip()
        if name in result and result[name] != m.group(1).lower():
            raise VerificationError(f"{SUMS_NAME}: conflicting entries for {name}")
        result[name] = m.group(1).lower()
    return result


def expected_sha256(
    selection: Selection, sums: dict[str, str] | None, pinned: str | None
) -> tuple[str, list[str]]:
    """The sha256 the archive must have, and where it came from.

    Every trusted statement must agree; a disagreement is a verification failure before any
    archive byte is downloaded.
    """
    claims: list[tuple[str, str]] = []
    if pinned:
        claims.append(("pinned", pinned.lower()))
    if selection.archive.sha256:
        claims.append(("release digest", selection.archive.sha256))
    if sums is not None:
        if selection.archive.name not in sums:
            raise VerificationError(f"{SUMS_NAME} has no entry for {selection.archive.name}")
        claims.append((SUMS_NAME, sums[selection.archive.name]))
    if not claims:
        raise VerificationError(
            f"no digest is published for {selection.archive.name}; refusing to install "
            "unverified bytes (pass --sha256 to pin one)"
        )
    first_label, first = claims[0]
    for label, value in claims[1:]:
        if value != first:
            raise VerificationError(
                f"{selection.archive.name}: {label} says {value[:12]}…, {first_label} says "
                f"{first[:12]}…"
            )
    return first, [label for label, _ in claims]


def check_sha256(name: str, actual: str, expected: str) -> None:
    if actual.lower() != expected.lower():
        raise VerificationError(
            f"{name}: sha256 mismatch (expected {expected[:16]}…, got {actual[:16]}…)"
        )


def check_integrity(name: str, sri: str, sha512_hex: str | None, sha1_hex: str | None) -> None:
    """npm ``dist.integrity`` (``sha512-<base64>``; ``sha1-`` for ancient packages)."""
    import base64

    algo, _, b64 = sri.strip().partition("-")
    actual = {"sha512": sha512_hex, "sha1": sha1_hex}.get(algo.lower())
    if actual is None:
        raise VerificationError(f"{name}: unsupported integrity algorithm {algo!r}")
    try:
        expected = base64.b64decode(b64, validate=True).hex()
    except ValueError as err:
        raise VerificationError(f"{name}: malformed integrity string") from err
    if actual != expected:
        raise VerificationError(f"{name}: {algo} integrity mismatch")


def parse_sha256_pin(value: str | None) -> str | None:
    """``--sha256 HEX`` (``sha256:`` prefix allowed) as lower-case hex; UsageError otherwise."""
    if value is None:
        return None
    value = value.strip().lower().removeprefix("sha256:")
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise UsageError("--sha256 must be 64 hex digits")
    return value

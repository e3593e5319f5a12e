"""Digest claims and their checks (SPEC §3): what each trusted place says a file's digest is
(release ``digest``, a SUMS line, npm ``dist.integrity``, a manifest pin, ``--sha256``), the one
SRI parser, the one agreement check, and the check of downloaded bytes against the claims.

Pure: no I/O. Every failure is a :class:`VerificationError` (exit 5).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from codex_install.errors import UsageError, VerificationError
from codex_install.models import Asset, ManifestAsset, Selection

SUMS_NAME = "codex-package_SHA256SUMS"
_WHOLE_SHA256 = re.compile(r"\b([0-9a-f]{16})[0-9a-f]{48}\b")
_SUMS_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *]?(\S.*)$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")

# Digest sizes in bytes of the SRI algorithms we can check (hashlib names).
SRI_SIZES = {"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}

SriProblem = Literal["unsupported", "base64", "length"]


class SriError(ValueError):
    """An SRI token we cannot use; ``problem`` says why, for callers that skip unknown
    algorithms but refuse broken hashes."""

    def __init__(self, message: str, problem: SriProblem, algorithm: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.algorithm = algorithm


@dataclass(frozen=True)
class Sri:
    """One Subresource Integrity hash, ``<algorithm>-<base64>`` (npm's ``dist.integrity``)."""

    algorithm: str  # lower-case; also the hashlib name
    hex: str

    @classmethod
    def parse(cls, text: str) -> Sri:
        """One SRI token; ``?options`` after the hash are ignored, as in the SRI spec."""
        algo, _, rest = text.strip().partition("-")
        algorithm = sri_algorithm(text)
        size = SRI_SIZES.get(algorithm)
        if size is None:
            raise SriError(f"unsupported integrity algorithm {algo!r}", "unsupported", algorithm)
        try:
            raw = base64.b64decode(rest.split("?", 1)[0], validate=True)
        except (binascii.Error, ValueError) as err:
            raise SriError("malformed integrity string", "base64", algorithm) from err
        if len(raw) != size:
            raise SriError(f"bad {algorithm} integrity length", "length", algorithm)
        return cls(algorithm, raw.hex())

    @property
    def hashlib_name(self) -> str:
        return self.algorithm

    def __str__(self) -> str:
        return sri(self.algorithm, self.hex)


def sri_algorithm(text: str) -> str:
    """The lower-cased algorithm an SRI string names (``"sha512"`` for ``sha512-…``)."""
    return text.strip().partition("-")[0].lower()


def sri(algorithm: str, hex_digest: str) -> str:
    """An SRI string (``sha512-<base64>``) from a hex digest."""
    return f"{algorithm}-{base64.b64encode(bytes.fromhex(hex_digest)).decode()}"


def is_sri(text: str, algorithms: Sequence[str] = tuple(SRI_SIZES)) -> bool:
    try:
        return Sri.parse(text).algorithm in algorithms
    except SriError:
        return False


def hashes_for(integrity: str | None) -> tuple[str, ...]:
    """The hashes a download must compute, besides sha256, to check ``integrity``."""
    if not integrity:
        return ()
    try:
        name = Sri.parse(integrity).hashlib_name
    except SriError:
        return ()  # the check refuses it, naming the problem
    return () if name == "sha256" else (name,)


def parse_digest(value: object) -> str | None:
    """A release asset's ``"sha256:<64 hex>"`` → hex; anything else (absent, other algorithm)
    → None."""
    if not isinstance(value, str) or not value.lower().startswith("sha256:"):
        return None
    hex_ = value[7:].strip().lower()
    return hex_ if _HEX64.match(hex_) else None


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


# --- claims and the agreement check ---


@dataclass(frozen=True)
class Claim:
    """What one place says a file's digest is."""

    source: str  # "release digest", SUMS_NAME, "pinned", "npm registry", "manifest", ...
    algorithm: str
    hex: str
    integrity: str | None = None  # the SRI text, when the claim was made as one
    pin: bool = False  # a manifest pin: the source of truth the others are held to

    @classmethod
    def sha256(cls, source: str, hex_digest: str, *, pin: bool = False) -> Claim:
        return cls(source, "sha256", hex_digest.lower(), pin=pin)

    @classmethod
    def sri(cls, source: str, text: str, *, pin: bool = False) -> Claim:
        parsed = Sri.parse(text)
        return cls(source, parsed.algorithm, parsed.hex, integrity=text, pin=pin)

    @property
    def shown(self) -> str:
        return self.integrity if self.integrity is not None else self.hex


def disagreements(subject: str, claims: Sequence[Claim]) -> list[str]:
    """Each claim that contradicts the first claim made with the same hash function (flit-style:
    a list of problems, empty when all agree). Claims of different hash functions cannot
    contradict each other."""
    first: dict[str, Claim] = {}
    problems: list[str] = []
    for claim in claims:
        reference = first.setdefault(claim.algorithm, claim)
        if claim.hex != reference.hex:
            problems.append(_contradiction(subject, reference, claim))
    return problems


def _contradiction(subject: str, reference: Claim, claim: Claim) -> str:
    if reference.pin:
        kind = "integrity" if claim.integrity is not None else claim.algorithm
        return (
            f"{subject}: {claim.source} {kind} {claim.shown} differs from the "
            f"{reference.source}'s {reference.shown}"
        )
    return (
        f"{subject}: {claim.source} says {claim.shown[:12]}…, {reference.source} says "
        f"{reference.shown[:12]}…"
    )


def refuse(problems: Sequence[str], consequence: str | None = None) -> None:
    """Disagreeing claims are an error, never a warning (SPEC §3): VerificationError (exit 5)
    naming the first problem."""
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        tail = f"; {consequence}" if consequence else ""
        # Whole sha256 digests would push the error past one line; 16 hex digits tell them apart.
        first = _WHOLE_SHA256.sub(r"\1…", problems[0])
        raise VerificationError(f"{first}{more}{tail}")


def agree(
    subject: str, claims: Sequence[Claim], *, missing: str, consequence: str | None = None
) -> Claim:
    """The one agreement check: at least one claim, and no two that disagree. Returns the
    first claim (the most trusted one, by the caller's order)."""
    if not claims:
        raise VerificationError(missing)
    refuse(disagreements(subject, claims), consequence)
    return claims[0]


def release_claims(
    archive: Asset,
    sums: Mapping[str, str] | None,
    *,
    pinned: str | None = None,
    sums_required: bool = True,
) -> list[Claim]:
    """What a release (and a ``--sha256`` pin) says about ``archive``, most trusted first."""
    claims: list[Claim] = []
    if pinned:
        claims.append(Claim.sha256("pinned", pinned))
    if archive.sha256:
        claims.append(Claim.sha256("release digest", archive.sha256))
    if sums is not None and archive.name in sums:
        claims.append(Claim.sha256(SUMS_NAME, sums[archive.name]))
    elif sums is not None and sums_required:
        raise VerificationError(f"{SUMS_NAME} has no entry for {archive.name}")
    return claims


def expected_sha256(
    selection: Selection, sums: dict[str, str] | None, pinned: str | None
) -> tuple[str, list[str]]:
    """The sha256 the archive must have, and where it came from.

    Every trusted statement must agree; a disagreement is a verification failure before any
    archive byte is downloaded.
    """
    name = selection.archive.name
    claims = release_claims(selection.archive, sums, pinned=pinned)
    chosen = agree(
        name,
        claims,
        missing=f"no digest is published for {name}; refusing to install unverified bytes "
        "(pass --sha256 to pin one)",
    )
    return chosen.hex, [c.source for c in claims]


# --- downloaded bytes against the claims ---


class Hashed(Protocol):
    """What a download computed (``http.download.Digests``)."""

    @property
    def sha256(self) -> str: ...

    def hexdigest(self, algorithm: str) -> str | None: ...


def check_sha256(name: str, actual: str, expected: str) -> None:
    if actual.lower() != expected.lower():
        raise VerificationError(
            f"{name}: sha256 mismatch (expected {expected[:16]}…, got {actual[:16]}…)"
        )


def check_integrity(name: str, integrity: str, digests: Hashed) -> None:
    """npm ``dist.integrity`` (``sha512-<base64>``; ``sha1-`` for ancient packages)."""
    try:
        expected = Sri.parse(integrity)
    except SriError as err:
        raise VerificationError(f"{name}: {err}") from err
    actual = digests.hexdigest(expected.hashlib_name)
    if actual is None:
        raise VerificationError(f"{name}: unsupported integrity algorithm {expected.algorithm!r}")
    if actual != expected.hex:
        raise VerificationError(f"{name}: {expected.algorithm} integrity mismatch")


def check_stream(
    name: str, digests: Hashed, *, sha256: str | None = None, integrity: str | None = None
) -> None:
    """The downloaded bytes against what was claimed for them (VerificationError when not)."""
    if sha256 is not None:
        check_sha256(name, digests.sha256, sha256)
    if integrity:
        check_integrity(name, integrity, digests)


def parse_sha256_pin(value: str | None) -> str | None:
    """``--sha256 HEX`` (``sha256:`` prefix allowed) as lower-case hex; UsageError otherwise."""
    if value is None:
        return None
    value = value.strip().lower().removeprefix("sha256:")
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise UsageError("--sha256 must be 64 hex digits")
    return value


def asset_drift(
    asset: ManifestAsset,
    *,
    size: int | None = None,
    sha256: str | None = None,
    integrity: str | None = None,
    observed: str = "downloaded",
) -> list[str]:
    """Problems between a pinned asset and what was observed (``None`` = not known, skipped).

    ``observed`` says where the values came from, e.g. "downloaded" or "remote digest of".
    """
    problems: list[str] = []
    if size is not None and size != asset.size:
        problems.append(
            f"{asset.label}: {observed} size {size} differs from the manifest's {asset.size}"
        )
    if sha256 is not None:
        pin = Claim.sha256("manifest", asset.sha256, pin=True)
        problems += disagreements(asset.label, [pin, Claim.sha256(observed, sha256)])
    if integrity is not None and asset.integrity is not None:
        pin = Claim.sri("manifest", asset.integrity, pin=True)
        problems += disagreements(asset.label, [pin, Claim.sri(observed, integrity)])
    return problems


__all__ = [
    "SUMS_NAME",
    "Claim",
    "Hashed",
    "Sri",
    "SriError",
    "agree",
    "asset_drift",
    "check_integrity",
    "check_sha256",
    "check_stream",
    "disagreements",
    "expected_sha256",
    "hashes_for",
    "is_sri",
    "parse_digest",
    "parse_sha256_pin",
    "parse_sums",
    "refuse",
    "release_claims",
    "sri",
    "sri_algorithm",
]

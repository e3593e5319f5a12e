"""Packument → :class:`Selection` (pure): ``dist-tags.latest`` (or the pinned version) → the
platform version ``<ver>-<npm-platform>`` → its tarball, verified by ``dist.integrity``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from codex_install.errors import NetworkError, NotFoundError, UsageError, VerificationError
from codex_install.models import Asset, Selection
from codex_install.platforms import NPM_PLATFORMS
from codex_install.sources.npm.npmrc import PACKAGE, Registry
from codex_install.verify import Sri, SriError, sri, sri_algorithm
from codex_install.versions import VersionSpec, is_prerelease, parse_version, version_key

# The npm platform packages carry one build per platform; for Linux it is the static musl one.
VENDOR_TARGETS: dict[str, str] = {
    "darwin-arm64": "aarch64-apple-darwin",
    "darwin-x64": "x86_64-apple-darwin",
    "linux-arm64": "aarch64-unknown-linux-musl",
    "linux-x64": "x86_64-unknown-linux-musl",
}
# The hashes npm publishes in dist.integrity that we check, strongest first.
_NPM_HASHES = ("sha512", "sha1")


def vendor_target(target: str) -> tuple[str, str]:
    """(npm platform, the target triple its tarball holds under ``package/vendor/``)."""
    platform = NPM_PLATFORMS.get(target)
    if platform is None or VENDOR_TARGETS.get(platform) != target:
        holds = f" (the {platform} package holds {VENDOR_TARGETS[platform]})" if platform else ""
        raise NotFoundError(
            f"{PACKAGE} on npm has no build for {target}{holds}",
            hint="use another --target or --source github",
        )
    return platform, target


def malformed(registry: Registry, what: str) -> NetworkError:
    """A registry answer we cannot use: a network-side failure (exit 4), never a crash."""
    return NetworkError(f"malformed {PACKAGE} metadata from {registry.display}: {what}")


def parse_integrity(sri_text: str, registry: Registry, version: str) -> str | None:
    """The one SRI hash to check: the sha512 one, else sha1; None when the string has neither.
    An SRI string may list several hashes separated by spaces."""
    found: dict[str, str] = {}
    for token in sri_text.split():
        if sri_algorithm(token) not in _NPM_HASHES:
            continue
        try:
            parsed = Sri.parse(token)
        except SriError as err:
            problem = f"bad integrity {token[:20]}…" if err.problem == "base64" else str(err)
            raise malformed(registry, f"{version}: {problem}") from err
        b64 = token.partition("-")[2].split("?", 1)[0]  # as published, without SRI options
        found.setdefault(parsed.algorithm, f"{parsed.algorithm}-{b64}")
    return found.get("sha512") or found.get("sha1")


@dataclass(frozen=True)
class NpmChoice:
    selection: Selection
    notices: tuple[str, ...] = ()


def select_from_packument(
    data: Any, spec: VersionSpec, target: str, registry: Registry
) -> NpmChoice:
    """Pick the platform version's tarball from a packument (abbreviated or full)."""
    platform, vendor = vendor_target(target)
    if not isinstance(data, dict):
        raise malformed(registry, "not a JSON object")
    versions = data.get("versions")
    if not isinstance(versions, dict):
        raise malformed(registry, "no versions object")
    version, lag = _version_with_platform(data, versions, spec, platform, registry)
    wanted = f"{version}-{platform}"
    dist = _dist(versions, version, wanted, registry)
    url = _tarball_url(dist, registry, wanted)
    integrity, notices = _integrity(dist, registry, wanted)
    notices = lag + notices
    selection = Selection(
        version=version,
        target=target,
        layout="package",
        # dist.unpackedSize is the unpacked size; a packument gives no tarball size to check.
        archive=Asset(name=_file_name(url, wanted), url=url, size=None),
        integrity=integrity,
        npm_subdir=f"package/vendor/{vendor}/",
        source="npm",
        extra={"npm_spec": f"{PACKAGE}@{wanted}", "registry": registry.display},
    )
    return NpmChoice(selection, notices)


def platform_versions(versions: dict[str, Any], platform: str) -> list[str]:
    """The Codex versions that have a ``<ver>-<platform>`` package, newest first (pure)."""
    found = []
    for key in versions:
        try:
            version = parse_version(key).version
        except UsageError:
            continue  # a platform version ("0.169.0-linux-x64") or a stray key
        if version == key and f"{key}-{platform}" in versions:
            found.append(key)
    return sorted(found, key=version_key, reverse=True)


def _version_with_platform(
    data: dict[str, Any],
    versions: dict[str, Any],
    spec: VersionSpec,
    platform: str,
    registry: Registry,
) -> tuple[str, tuple[str, ...]]:
    """The version to install and what to say about it. npm publishes the platform packages
    one by one after the main one: right after a release, ``latest`` may have none yet for
    this platform, and then the newest version that has one is installed instead."""
    version = spec.version or _latest(data, registry)
    if f"{version}-{platform}" in versions or version not in versions:
        return version, ()
    older = [
        v
        for v in platform_versions(versions, platform)
        if version_key(v) < version_key(version) and is_prerelease(v) <= is_prerelease(version)
    ]
    if spec.version is not None:
        pin = f"; pin the previous one with --version {older[0]}" if older else ""
        raise NotFoundError(
            f"{PACKAGE}@{version} is on {registry.display}, but its {platform} package "
            f"({PACKAGE}@{version}-{platform}) is not published yet{pin}",
            hint="npm publishes the platform packages after the main one; retry later",
        )
    if not older:
        return version, ()  # _dist says what is missing
    return older[0], (
        f"note: {PACKAGE}@latest is {version}, but its {platform} package is not published "
        f"yet on {registry.display}; installing {older[0]}, the newest version that has one",
    )


def _latest(data: dict[str, Any], registry: Registry) -> str:
    tags = data.get("dist-tags")
    latest = tags.get("latest") if isinstance(tags, dict) else None
    if not isinstance(latest, str):
        raise malformed(registry, "no dist-tags.latest")
    try:
        version = parse_version(latest).version
    except UsageError as err:
        raise malformed(registry, f"dist-tags.latest is {latest[:40]!r}") from err
    if version is None:
        raise malformed(registry, f"dist-tags.latest is {latest[:40]!r}")
    return version


def _dist(
    versions: dict[str, Any], version: str, wanted: str, registry: Registry
) -> dict[str, Any]:
    entry = versions.get(wanted)
    if entry is None:
        base = "" if version in versions else f"; codex {version} is not published there at all"
        raise NotFoundError(f"{PACKAGE}@{wanted} not found on {registry.display}{base}")
    dist = entry.get("dist") if isinstance(entry, dict) else None
    if not isinstance(dist, dict):
        raise malformed(registry, f"{wanted} has no dist object")
    return dist


def _tarball_url(dist: dict[str, Any], registry: Registry, wanted: str) -> str:
    tarball = dist.get("tarball")
    if not isinstance(tarball, str) or not tarball:
        raise malformed(registry, f"{wanted} has no dist.tarball")
    try:
        url = urljoin(registry.url, tarball)
        scheme = urlsplit(url).scheme
    except ValueError as err:  # e.g. "http://[": urllib refuses a malformed host
        raise malformed(registry, f"{wanted} dist.tarball is a malformed URL") from err
    if scheme not in ("http", "https"):
        raise malformed(registry, f"{wanted} dist.tarball is not an http(s) URL")
    return url


def _file_name(url: str, wanted: str) -> str:
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    if not name.endswith(".tgz") or "/" in name:
        name = f"codex-{wanted}.tgz"
    return name


def _integrity(
    dist: dict[str, Any], registry: Registry, wanted: str
) -> tuple[str, tuple[str, ...]]:
    published = dist.get("integrity")
    if isinstance(published, str) and published.strip():
        chosen = parse_integrity(published, registry, wanted)
        if chosen is None:
            raise VerificationError(
                f"{PACKAGE}@{wanted}: dist.integrity uses no supported hash (sha512, sha1)"
            )
        notices = () if sri_algorithm(chosen) == "sha512" else (_sha1_notice(wanted),)
        return chosen, notices
    shasum = dist.get("shasum")
    if isinstance(shasum, str) and re.fullmatch(r"[0-9a-fA-F]{40}", shasum):
        return sri("sha1", shasum), (_sha1_notice(wanted),)
    raise VerificationError(
        f"{PACKAGE}@{wanted} publishes no dist.integrity or shasum; refusing to install "
        "unverified bytes"
    )


def _sha1_notice(wanted: str) -> str:
    return (
        f"note: {PACKAGE}@{wanted} has no sha512 dist.integrity; verifying the tarball with its "
        "sha1 shasum (weaker)"
    )

"""Which source answers, in one place: a source, a version and a target → a :class:`Selection`
(SPEC §4), or the versions a source offers. ``--source auto`` asks the mirror when one is set,
else GitHub, and falls back to the npm registry when GitHub never answered — for every command
alike (install, resolve, check, update, ls-remote), with the same one-line notice."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeVar

from codex_install.errors import NetworkError, UsageError, VerificationError, shown_url
from codex_install.http.limits import SUMS_CAP
from codex_install.http.metadata import Doc
from codex_install.http.network import Failed, failure_error
from codex_install.models import Asset, Release, Selection
from codex_install.sources import github, oci
from codex_install.sources.github import GitHubConfig
from codex_install.sources.release import select_asset
from codex_install.verify import check_sha256, parse_sums
from codex_install.versions import VersionSpec

if TYPE_CHECKING:
    from codex_install.http.network import Network
    from codex_install.sources.listing import ReleaseInfo
    from codex_install.sources.oci.credentials import RegistryConfig

SourceChoice = Literal["auto", "github", "mirror", "npm"]
SOURCES: tuple[str, ...] = ("auto", "github", "mirror", "npm")
NpmResolver = Callable[[VersionSpec, str], Selection]
NpmVersions = Callable[[str], list[str]]
T = TypeVar("T")


@dataclass(frozen=True)
class SourceOptions:
    source: SourceChoice = "auto"
    github: GitHubConfig = field(default_factory=GitHubConfig)
    mirror: str | None = None  # a static tree's URL or path, or oci://HOST/REPO
    npm_registry: str | None = None
    registry: RegistryConfig | None = None  # logins and cache for an oci:// mirror

    @property
    def effective(self) -> SourceChoice:
        """The source in use: ``auto`` with a mirror configured means the mirror."""
        return "mirror" if self.source == "auto" and self.mirror else self.source


@dataclass(frozen=True)
class Resolved:
    selection: Selection
    sums: dict[str, str] | None
    fell_back_from: str | None = None


def fetch_release(
    net: Network, options: SourceOptions, spec: VersionSpec, target: str | None = None
) -> Release:
    """The release from the mirror (when one is in use) or else from GitHub; an OCI registry
    reads the manifest of ``target`` only (every target's when None)."""
    source = options.effective
    if source == "npm":
        raise UsageError("this command needs release archives: use --source github or mirror")
    if source == "mirror":
        base = _mirror(options)
        if oci.is_oci(base):
            from codex_install.sources.oci import source as registry  # only an oci:// mirror

            return registry.fetch_release(
                net.client(),
                base,
                spec.version,
                options.registry or registry.RegistryConfig(),
                targets=None if target is None else (target,),
                sleep=net.sleep,
                seconds=(net.plan.metadata_s, net.plan.download_s),
            )
        from codex_install.sources import mirror  # only a mirror's fetch

        return mirror.fetch_release(net, base, spec)
    return github.fetch_release(net, options.github, spec)


def choose(
    net: Network,
    opts: SourceOptions,
    spec: VersionSpec,
    target: str,
    *,
    npm: NpmResolver | None = None,
) -> Resolved:
    """The selection for ``target`` (its SUMS not fetched yet: :func:`with_sums`)."""
    if opts.effective == "npm":
        return Resolved(_need(npm)(spec, target), None)

    def archives() -> Selection:
        return select_asset(fetch_release(net, opts, spec, target), target)

    selection, fell_back = _falling_back(opts, archives, npm and (lambda: npm(spec, target)), net)
    return Resolved(selection, None, fell_back)


def versions(
    net: Network,
    opts: SourceOptions,
    target: str,
    *,
    npm: NpmVersions | None = None,
) -> tuple[str, list[str]]:
    """The versions the source offers for ``target``, newest first, and which source said."""
    source, found = offered(net, opts, target, npm=npm)
    return source, list(found)


def offered(
    net: Network,
    opts: SourceOptions,
    target: str,
    *,
    npm: NpmVersions | None = None,
) -> tuple[str, dict[str, ReleaseInfo]]:
    """:func:`versions`, each with what the source says of it (GitHub: the date it was
    published and the size of ``target``'s archive; the others say nothing)."""
    from codex_install.sources.listing import ReleaseInfo, github_releases, mirror_versions

    def bare(found: list[str]) -> dict[str, ReleaseInfo]:
        return dict.fromkeys(found, ReleaseInfo(None, None))

    source = opts.effective
    if source == "npm":
        return "npm", bare(_need(npm)(target))
    if source == "mirror":
        return "mirror", bare(mirror_versions(net, _mirror(opts), registry=opts.registry))
    found, fell_back = _falling_back(
        opts,
        lambda: github_releases(net, opts.github, target),
        npm and (lambda: bare(npm(target))),
        net,
    )
    return ("npm" if fell_back else "github"), found


def _falling_back(
    opts: SourceOptions,
    primary: Callable[[], T],
    npm: Callable[[], T] | None,
    net: Network,
) -> tuple[T, str | None]:
    """``primary()``; with ``--source auto``, the npm registry's answer when GitHub never
    answered (DNS, refused, silent: ``connection_level``)."""
    try:
        return primary(), None
    except NetworkError as err:
        if opts.effective != "auto" or not err.connection_level or npm is None:
            raise
        net.notice(f"GitHub is unreachable: {err.message}; falling back to the npm registry")
        return npm(), "github"


def _mirror(opts: SourceOptions) -> str:
    if not opts.mirror:
        raise UsageError("--source mirror needs --mirror URL (or CODEX_INSTALL_MIRROR)")
    return opts.mirror


def _need(npm: Callable[..., T] | None) -> Callable[..., T]:
    if npm is None:
        raise UsageError("no npm registry is configured (pass --npm-registry URL)")
    return npm


def _registry_blob(net: Network, sums: Asset) -> bytes | None:
    """The SUMS file of a release read from an OCI registry: through its login (the metadata
    session has none); None for every other source."""
    if "/v2/" not in sums.url:  # no registry's blob: no httpx client made for nothing
        return None
    from codex_install.sources.oci.source import registry_blob  # only a registry's release

    return registry_blob(net.client(), sums.url, sums.name, SUMS_CAP, net.plan.metadata_s)


def with_sums(selection: Selection, net: Network, fell_back_from: str | None = None) -> Resolved:
    """The selection with its SUMS table, fetched and checked against the SUMS file's own
    digest (None when the layout has no SUMS file)."""
    if selection.sums is None:
        return Resolved(selection, None, fell_back_from)
    sums = selection.sums
    body = _registry_blob(net, sums) if selection.source == "mirror" else None
    try:
        body = net.get(Doc(sums.url, sums.name, SUMS_CAP)).body if body is None else body
    except Failed as err:
        raise failure_error(
            err, sums.name, sums.url, seconds=net.plan.metadata_s, proxy=net.proxy_for(sums.url)
        ) from err
    if sums.size is not None and len(body) != sums.size:
        raise VerificationError(
            f"{sums.name}: size {len(body)} != expected {sums.size} ({shown_url(sums.url)})"
        )
    if sums.sha256:
        check_sha256(sums.name, hashlib.sha256(body).hexdigest(), sums.sha256)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise VerificationError(f"{sums.name} is not text") from err
    return Resolved(selection, parse_sums(text), fell_back_from)

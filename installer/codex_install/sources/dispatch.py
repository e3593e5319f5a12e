"""Which source answers: a source, a version and a target → a :class:`Selection` (SPEC §4),
and the one mirror-vs-GitHub choice every command that needs release archives makes."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from codex_install.errors import NetworkError, UsageError, VerificationError
from codex_install.http.limits import SUMS_CAP
from codex_install.models import Release, Selection
from codex_install.sources import github, oci
from codex_install.sources.github import GitHubConfig
from codex_install.sources.release import select_asset
from codex_install.verify import check_sha256, parse_sums
from codex_install.versions import VersionSpec

if TYPE_CHECKING:
    import httpx
    import requests

    from codex_install.sources.oci.credentials import RegistryConfig

SourceChoice = Literal["auto", "github", "mirror", "npm"]
SOURCES: tuple[str, ...] = ("auto", "github", "mirror", "npm")
NpmResolver = Callable[[VersionSpec, str], Selection]


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
    options: SourceOptions,
    spec: VersionSpec,
    *,
    client: httpx.Client | None,
    sleep: Callable[[float], None] = time.sleep,
    session: requests.Session | None = None,
    notice: Callable[[str], None] = lambda _msg: None,
    target: str | None = None,
) -> Release:
    """The release from the mirror (when one is in use) or else from GitHub; an OCI registry
    reads the manifest of ``target`` only (every target's when None)."""
    source = options.effective
    if source == "npm":
        raise UsageError("this command needs release archives: use --source github or mirror")
    if source == "mirror":
        if not options.mirror:
            raise UsageError("--source mirror needs --mirror URL (or CODEX_INSTALL_MIRROR)")
        if oci.is_oci(options.mirror):
            from codex_install.sources.oci import source as registry  # only an oci:// mirror

            return registry.fetch_release(
                client,
                options.mirror,
                spec.version,
                options.registry or registry.RegistryConfig(),
                targets=None if target is None else (target,),
                sleep=sleep,
            )
        from codex_install.sources import mirror  # its download stack: only a mirror's fetch

        return mirror.fetch_release(client, options.mirror, spec, sleep=sleep)
    return fetch_github(options.github, spec, session=session, sleep=sleep, notice=notice)


def fetch_github(
    config: GitHubConfig,
    spec: VersionSpec,
    *,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    notice: Callable[[str], None] = lambda _msg: None,
) -> Release:
    """The GitHub release: the light conditional request first, the requests path (retries,
    rate limits, proxies, messages) whenever that one has no plain answer."""
    refused = 0
    try:
        light = github.fetch_release_light(config, spec) if session is None else None
    except github.LightRefused:  # one failed connection already: the requests path needs one
        light, refused = None, 1
    return light or github.fetch_release(
        config, spec, session=session, sleep=sleep, notice=notice, refused_before=refused
    )


def resolve(
    opts: SourceOptions,
    spec: VersionSpec,
    target: str,
    *,
    client: httpx.Client,
    session: requests.Session | None = None,
    notice: Callable[[str], None] = lambda _msg: None,
    sleep: Callable[[float], None] = time.sleep,
    npm_resolver: NpmResolver | None = None,
) -> Resolved:
    """Pick the source and return the selection, with the SUMS table for package layouts."""
    if opts.effective == "npm":
        return Resolved(_npm(npm_resolver, spec, target), None)
    try:
        release = fetch_release(
            opts, spec, client=client, sleep=sleep, session=session, notice=notice, target=target
        )
    except NetworkError as err:
        github_failed = opts.effective == "auto" and err.connection_level
        if github_failed and npm_resolver is not None:
            notice(f"GitHub is unreachable: {err.message}; falling back to the npm registry")
            return Resolved(_npm(npm_resolver, spec, target), None, fell_back_from="github")
        raise
    return with_sums(select_asset(release, target), client, sleep)


def _npm(npm_resolver: NpmResolver | None, spec: VersionSpec, target: str) -> Selection:
    if npm_resolver is None:
        raise UsageError("no npm registry is configured (pass --npm-registry URL)")
    return npm_resolver(spec, target)


def with_sums(
    selection: Selection, client: httpx.Client, sleep: Callable[[float], None]
) -> Resolved:
    """The selection with its SUMS table, fetched and checked against the SUMS file's own
    digest (None when the layout has no SUMS file)."""
    if selection.sums is None:
        return Resolved(selection, None)
    from codex_install.http.download import fetch_bytes  # a no-op reinstall never asks

    body, digests = fetch_bytes(
        client,
        selection.sums.url,
        expected_size=selection.sums.size,
        label=selection.sums.name,
        sleep=sleep,
        limit=SUMS_CAP,
    )
    if selection.sums.sha256:
        check_sha256(selection.sums.name, digests.sha256, selection.sums.sha256)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise VerificationError(f"{selection.sums.name} is not text") from err
    return Resolved(selection, parse_sums(text))

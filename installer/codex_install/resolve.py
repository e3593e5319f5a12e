"""Resolve what to install: a source, a version and a target → a :class:`Selection` (SPEC §4)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from codex_install import assets
from codex_install.download import fetch_bytes
from codex_install.errors import NetworkError, UsageError, VerificationError
from codex_install.models import Release, Selection
from codex_install.sources import github, mirror
from codex_install.sources.github import GitHubConfig
from codex_install.versions import VersionSpec

if TYPE_CHECKING:
    import httpx
    import requests

SourceChoice = Literal["auto", "github", "mirror", "npm"]
SOURCES: tuple[str, ...] = ("auto", "github", "mirror", "npm")


@dataclass(frozen=True)
class SourceOptions:
    source: SourceChoice = "auto"
    github: GitHubConfig = field(default_factory=GitHubConfig)
    mirror: str | None = None
    npm_registry: str | None = None


@dataclass(frozen=True)
class Resolved:
    selection: Selection
    sums: dict[str, str] | None
    fell_back_from: str | None = None


def resolve(
    opts: SourceOptions,
    spec: VersionSpec,
    target: str,
    *,
    client: httpx.Client,
    session: requests.Session | None = None,
    notice: Callable[[str], None] = lambda _msg: None,
    sleep: Callable[[float], None] = time.sleep,
    npm_resolver: Callable[[VersionSpec, str], Selection] | None = None,
) -> Resolved:
    """Pick the source and return the selection, with the SUMS table for package layouts."""
    if opts.source == "npm":
        return Resolved(_npm(npm_resolver, spec, target), None)
    try:
        release = fetch_release(opts, spec, client=client, session=session, sleep=sleep)
    except NetworkError as err:
        from_github = opts.source == "auto" and not opts.mirror
        if from_github and err.connection_level and npm_resolver is not None:
            notice(f"GitHub is unreachable ({err}); falling back to the npm registry")
            return Resolved(_npm(npm_resolver, spec, target), None, fell_back_from="github")
        raise
    return with_sums(assets.select_asset(release, target), client, sleep)


def fetch_release(
    opts: SourceOptions,
    spec: VersionSpec,
    *,
    client: httpx.Client | None,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Release:
    """The release from the mirror (``--mirror``, or ``--source mirror``) or from GitHub."""
    if opts.source == "mirror" or (opts.source == "auto" and opts.mirror):
        if not opts.mirror:
            raise UsageError("--source mirror needs --mirror URL (or CODEX_INSTALL_MIRROR)")
        return mirror.fetch_release(client, opts.mirror, spec, sleep=sleep)
    return github.fetch_release(opts.github, spec, session=session, sleep=sleep)


def _npm(
    npm_resolver: Callable[[VersionSpec, str], Selection] | None, spec: VersionSpec, target: str
) -> Selection:
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
    body, digests = fetch_bytes(
        client,
        selection.sums.url,
        expected_size=selection.sums.size,
        label=selection.sums.name,
        sleep=sleep,
    )
    if selection.sums.sha256:
        assets.check_sha256(selection.sums.name, digests.sha256, selection.sums.sha256)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise VerificationError(f"{selection.sums.name} is not text") from err
    return Resolved(selection, assets.parse_sums(text))

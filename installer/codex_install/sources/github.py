"""The github source: the release JSON (latest, a tag, the list) from the GitHub API through the
metadata client, with GitHub's own words for its rate limits; the token goes to the API host
only (a route of the network plan, made by config.Settings)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from codex_install.errors import (
    CodexInstallError,
    NetworkError,
    NotFoundError,
    RateLimitError,
    shown_url,
)
from codex_install.http.client import WEB_SCHEMES, check_url, host_of
from codex_install.http.limits import RELEASE_JSON_CAP, RELEASE_LIST_CAP
from codex_install.http.metadata import Doc
from codex_install.http.network import Failed, failure_error
from codex_install.http.plan import Route, origin
from codex_install.models import Release
from codex_install.sources.release import parse_release
from codex_install.versions import VersionSpec

if TYPE_CHECKING:
    from codex_install.http.network import Network

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_REPO = "openai/codex"
HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
PER_PAGE = 100  # GitHub's largest page: the newest 100 releases


@dataclass(frozen=True)
class GitHubConfig:
    api_url: str = DEFAULT_API_URL
    repo: str = DEFAULT_REPO
    token: str | None = field(default=None, repr=False)

    def release_url(self, spec: VersionSpec) -> str:
        base = f"{self.api_url.rstrip('/')}/repos/{self.repo}/releases"
        return f"{base}/latest" if spec.tag is None else f"{base}/tags/{spec.tag}"

    def list_url(self) -> str:
        return f"{self.api_url.rstrip('/')}/repos/{self.repo}/releases?per_page={PER_PAGE}"

    def route(self) -> Route | None:
        """The token, for the API's origin only."""
        if not self.token:
            return None
        return Route(origin(self.api_url), authorization=f"Bearer {self.token}")


def fetch_release(net: Network, config: GitHubConfig, spec: VersionSpec) -> Release:
    """The release ``spec`` names (latest or a tag), checked to be the one asked for."""
    url = config.release_url(spec)
    body = _get(net, config, url, _what(spec), RELEASE_JSON_CAP)
    if body is None:
        raise NotFoundError(
            f"{_what(spec)} not found in {config.repo} ({host_of(url)} answered 404)"
        )
    host = host_of(url)
    release = parse_release(
        _json(body, url), base_url=url, source="github", origin=f"GitHub API ({host})"
    )
    if spec.tag is not None and release.tag != spec.tag:
        raise NetworkError(
            f"GitHub API ({host}) answered release {release.tag[:80]!r} when asked for "
            f"{spec.tag}; refusing it"
        )
    return release


def release_list(net: Network, config: GitHubConfig) -> list[Any]:
    """The newest releases of ``config.repo`` (GitHub's JSON list)."""
    url = config.list_url()
    body = _get(net, config, url, f"the release list of {config.repo}", RELEASE_LIST_CAP)
    if body is None:
        raise NotFoundError(f"no repository {config.repo} on {host_of(url)} (HTTP 404)")
    data = _json(body, url)
    if not isinstance(data, list):
        raise NetworkError(f"{host_of(url)} returned no release list for {config.repo}")
    return data


def _get(net: Network, config: GitHubConfig, url: str, what: str, cap: int) -> bytes | None:
    check_url(config.api_url, "the GitHub API URL", WEB_SCHEMES)
    try:
        answer = net.get(Doc(url, what, cap, headers=HEADERS, expect=frozenset({404})))
    except Failed as err:
        raise _error(err, config, url, what, net) from err
    return None if answer.status == 404 else answer.body


def _error(
    err: Failed, config: GitHubConfig, url: str, what: str, net: Network
) -> CodexInstallError:
    """GitHub's words for its limits and refusals; the shared ones for the rest."""
    f = err.failure
    if f.kind == "rate_limited":
        hint = (
            "your GITHUB_TOKEN's limit is exhausted; wait, or use --mirror / --source npm"
            if config.token
            else "set GITHUB_TOKEN (or GH_TOKEN) for a higher limit, or use --mirror / --source npm"
        )
        return RateLimitError(f"GitHub API rate limit exceeded{f.reset}", hint=hint)
    if f.kind == "secondary":
        return RateLimitError(
            f"GitHub API secondary rate limit exceeded: retry after {f.retry_after or 0:.0f} s",
            hint="wait, or use --mirror / --source npm",
        )
    if f.kind == "status" and f.status in (401, 403):
        return NetworkError(
            f"GitHub API answered HTTP {f.status} for {what}", hint="check GITHUB_TOKEN"
        )
    seconds, proxy = net.plan.metadata_s, net.proxy_for(url)
    return failure_error(err, what, url, seconds=seconds, proxy=proxy, source="GitHub")


def _what(spec: VersionSpec) -> str:
    return f"release {spec.tag}" if spec.tag else "the latest release"


def _json(body: bytes, url: str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:  # too deeply nested
        raise NetworkError(f"{host_of(url)} returned malformed JSON for {shown_url(url)}") from err

"""Settings: every environment variable the installer reads, and its precedence against the
command-line flags, in one place (flag, then environment, then default), read once per command.

The launcher's hot path reads its few variables through ``paths`` and ``terminal`` directly:
this module builds the source options, which it need not import.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, cast
from urllib.parse import urlsplit

from codex_install.errors import UsageError, hold_secret
from codex_install.http.limits import (
    DEFAULT_DEADLINE_S,
    DOWNLOAD_DEADLINE_S,
    TIMEOUT_ENV,
    timeout_from_env,
)
from codex_install.http.plan import Floor, NetworkPlan, trust_from
from codex_install.paths import Paths, github_token, resolve_paths
from codex_install.terminal import env_flag, non_interactive_forced

if TYPE_CHECKING:
    from codex_install.http.network import Network
    from codex_install.sources.dispatch import SourceOptions
    from codex_install.sources.npm import Resolver
    from codex_install.sources.oci.credentials import RegistryConfig

# Variables named here so that `grep` finds every one of them in this file.
RELEASE_ENV = "CODEX_RELEASE"
SOURCE_ENV = "CODEX_INSTALL_SOURCE"
MIRROR_ENV = "CODEX_INSTALL_MIRROR"
API_URL_ENV = "GITHUB_API_URL"
MANIFEST_DIR_ENV = "CODEX_INSTALL_MANIFEST_DIR"
DEBUG_ENV = "CODEX_INSTALL_DEBUG"
ALLOW_HTTP_TOKEN_ENV = "CODEX_INSTALL_ALLOW_HTTP_TOKEN"
GITHUB_PATH_ENV = "GITHUB_PATH"
NO_MODIFY_PATH_ENV = "CODEX_INSTALL_NO_MODIFY_PATH"
OFFLINE_ENV = "CODEX_INSTALL_OFFLINE"
COLOR_CHOICES = ("auto", "always", "never")
# curl's --speed-limit/--speed-time as "BYTES/SECONDS" (default 1024/30): a transfer slower than
# that over that window is cut, resumed once, then given up (exit 4).
LOW_SPEED_ENV = "CODEX_INSTALL_LOW_SPEED"
# Where docker, podman and skopeo keep registry logins (read for an oci:// mirror only).
DOCKER_CONFIG_ENV = "DOCKER_CONFIG"
REGISTRY_AUTH_FILE_ENV = "REGISTRY_AUTH_FILE"
XDG_RUNTIME_DIR_ENV = "XDG_RUNTIME_DIR"


@dataclass(frozen=True)
class Flags:
    """The command-line values that have an environment or default counterpart (None: not
    given on the command line)."""

    codex_home: Path | None = None
    bin_dir: Path | None = None
    version: str | None = None
    source: str | None = None
    github_api_url: str | None = None
    repo: str | None = None
    mirror: str | None = None
    npm_registry: str | None = None
    offline: bool = False
    color: str | None = None  # auto | always | never


@dataclass(frozen=True)
class Settings:
    """What one command runs with: flags over environment over defaults."""

    env: Mapping[str, str] = field(repr=False)  # as given: children and npm discovery see it
    paths: Paths
    version: str | None
    flags: Flags = field(default_factory=Flags)
    manifest_override: str | None = None
    non_interactive: bool = False
    debug: bool = False
    # The shell profile is left alone (uv's UV_NO_MODIFY_PATH); CI (any CI=true runner) too.
    no_modify_path: bool = False
    ci: bool = False
    # --offline / CODEX_INSTALL_OFFLINE=1: no request at all; what is installed is what there is.
    offline: bool = False
    # Colour on a terminal: --color, else NO_COLOR (never), FORCE_COLOR/CLICOLOR_FORCE (always).
    color: str = "auto"
    # How the retry loop waits between tries (passed in: a test of a retried failure through
    # the CLI need not sit out the backoff; the one that times the fallback keeps it).
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    @cached_property
    def sources(self) -> SourceOptions:
        """Where releases come from. Read on first use, so that a command that fetches nothing
        (list, use, auth) never fails over a source setting or a token it does not need."""
        return _sources(self.env, self.flags, self.paths.cache_dir)

    @classmethod
    def from_env(cls, environ: Mapping[str, str], flags: Flags | None = None) -> Settings:
        flags = flags or Flags()
        paths = resolve_paths(environ, codex_home_opt=flags.codex_home, bin_dir_opt=flags.bin_dir)
        return cls(
            env=environ,
            paths=paths,
            version=flags.version or environ.get(RELEASE_ENV) or None,
            flags=flags,
            manifest_override=environ.get(MANIFEST_DIR_ENV) or None,
            non_interactive=non_interactive_forced(environ),
            debug=bool(environ.get(DEBUG_ENV)),
            no_modify_path=env_flag(environ, NO_MODIFY_PATH_ENV),
            ci=env_flag(environ, "CI"),
            offline=flags.offline or env_flag(environ, OFFLINE_ENV),
            color=color_choice(flags.color, environ),
        )

    @cached_property
    def network(self) -> NetworkPlan:
        """The network plan every request of this command is made with (read on first use:
        a command that asks nothing never fails over a network setting)."""
        seconds = _timeout(self.env)
        plan = NetworkPlan(
            metadata_s=seconds or DEFAULT_DEADLINE_S,
            download_s=seconds or DOWNLOAD_DEADLINE_S,
            floor=_floor(self.env),
            trust=trust_from(self.env),
            cache_dir=self.paths.cache_dir,
            offline=self.offline,
        )
        route = self.sources.github.route()
        return plan if route is None else plan.with_route(route)

    def open_network(
        self, notice: Callable[[str], None], debug: Callable[[str], None] = lambda _m: None
    ) -> Network:
        """The network of this command (its clients made on first use)."""
        from codex_install.fs import ours_alone
        from codex_install.http.network import Network  # only commands that go online

        return Network(
            self.network, sleep=self.sleep, notice=notice, debug=debug, cache_trusted=ours_alone
        )

    def npm_factory(self, notice: Callable[[str], None]) -> Callable[[Network], Resolver] | None:
        """The npm source for this environment (None when no registry is configured)."""
        from codex_install.sources.npm import resolver_factory  # only an install resolves

        return resolver_factory(self.env, self.sources.npm_registry, notice=notice)

    def offered_versions(
        self, target: str, notice: Callable[[str], None], debug: Callable[[str], None]
    ) -> list[str]:
        """The versions the configured source offers for ``target``, newest first."""
        from codex_install.sources.dispatch import versions
        from codex_install.sources.npm import versions_factory

        npm_versions = versions_factory(self.env, self.sources.npm_registry, notice=notice)
        with self.open_network(notice, debug) as net:
            npm = (lambda t: npm_versions(net, t)) if npm_versions is not None else None
            return versions(net, self.sources, target, npm=npm)[1]

    def settled(
        self, target: str, notice: Callable[[str], None], debug: Callable[[str], None]
    ) -> Settings:
        """These settings with a version prefix (``--version 0.171``) replaced by the newest
        stable 0.171.x the source offers for ``target`` (offline: the newest installed), as
        mise resolves one; every command taking ``--version`` asks here, so all agree."""
        from codex_install import layout
        from codex_install.suggest import settle_prefix, version_prefix

        prefix = version_prefix(self.version)
        if prefix is None:
            return self
        installed = [r.version for r in layout.list_releases(self.paths) if r.target == target]
        offered = None if self.offline else (lambda: self.offered_versions(target, notice, debug))
        found = settle_prefix(prefix, installed, offered)
        notice(f"{(self.version or '').strip()} is codex {found} (the newest {prefix}.x)")
        return replace(self, version=found)

    def registry_config(self) -> RegistryConfig:
        """Registry logins and the manifest cache, for an oci:// destination."""
        return _registry(self.env, self.paths.cache_dir)

    @property
    def no_color(self) -> bool:
        """No colour on stderr: --color never, or NO_COLOR set and not empty
        (https://no-color.org, see :func:`color_choice`), or a dumb terminal unless colour
        was asked for (--color always, FORCE_COLOR, CLICOLOR_FORCE)."""
        return self.color == "never" or (self.color == "auto" and self.env.get("TERM") == "dumb")

    @property
    def github_path(self) -> str | None:
        """GitHub Actions' file of directories to add to PATH for later steps."""
        return self.env.get(GITHUB_PATH_ENV) or None


def color_choice(flag: str | None, env: Mapping[str, str]) -> str:
    """--color wins; then NO_COLOR (no-color.org: set and not empty), then FORCE_COLOR and
    CLICOLOR_FORCE (set and not "0"); else auto (colour on a terminal)."""
    if flag:
        if flag not in COLOR_CHOICES:
            raise UsageError(f"--color takes {', '.join(COLOR_CHOICES)}, not {flag[:20]!r}")
        return flag
    if env.get("NO_COLOR"):
        return "never"
    if any(env.get(name, "") not in ("", "0") for name in ("FORCE_COLOR", "CLICOLOR_FORCE")):
        return "always"
    return "auto"


def _sources(env: Mapping[str, str], flags: Flags, cache: Path) -> SourceOptions:
    # Here, not at the top: list, use, auth and the launcher never load the sources.
    from codex_install.sources.dispatch import SOURCES, SourceChoice, SourceOptions
    from codex_install.sources.github import DEFAULT_API_URL, DEFAULT_REPO, GitHubConfig
    from codex_install.sources.oci import is_oci

    source = _first(flags.source, env.get(SOURCE_ENV)) or "auto"
    if source not in SOURCES:
        raise UsageError(f"unknown source {source!r} ({', '.join(SOURCES)})")
    api_url = _first(flags.github_api_url, env.get(API_URL_ENV)) or DEFAULT_API_URL
    mirror = _first(flags.mirror, env.get(MIRROR_ENV))
    # Only a source that asks GitHub needs the token: no other fails over one.
    asks_github = source == "github" or (source == "auto" and not mirror)
    return SourceOptions(
        source=cast(SourceChoice, source),
        github=GitHubConfig(
            api_url=api_url,
            repo=flags.repo or DEFAULT_REPO,
            token=_token_for(env, api_url) if asks_github else None,
        ),
        mirror=mirror,
        npm_registry=flags.npm_registry or None,
        registry=_registry(env, cache) if is_oci(mirror) else None,
    )


def _registry(env: Mapping[str, str], cache: Path) -> RegistryConfig:
    """Registry logins, in skopeo's order: REGISTRY_AUTH_FILE (else podman's runtime
    auth.json), then docker's config.json ($DOCKER_CONFIG, else ~/.docker)."""
    from codex_install.sources.oci.credentials import AuthFiles, RegistryConfig

    files: list[Path] = []
    if env.get(REGISTRY_AUTH_FILE_ENV):
        files.append(Path(env[REGISTRY_AUTH_FILE_ENV]))
    elif env.get(XDG_RUNTIME_DIR_ENV):
        files.append(Path(env[XDG_RUNTIME_DIR_ENV]) / "containers" / "auth.json")
    home = env.get("HOME")
    docker = env.get(DOCKER_CONFIG_ENV) or (str(Path(home) / ".docker") if home else None)
    if docker:
        files.append(Path(docker) / "config.json")
    return RegistryConfig(
        auth_files=AuthFiles(tuple(files), search_path=env.get("PATH")),
        cache_dir=cache,
        allow_cleartext=env_flag(env, ALLOW_HTTP_TOKEN_ENV),
    )


def _timeout(env: Mapping[str, str]) -> float | None:
    """CODEX_INSTALL_TIMEOUT (seconds): the deadline of each request (None: the defaults)."""
    value = env.get(TIMEOUT_ENV)
    try:
        return timeout_from_env(value)
    except ValueError:
        shown = (value or "")[:40]
        raise UsageError(
            f"{TIMEOUT_ENV} must be a number of seconds above 0, not {shown!r}"
        ) from None


def _floor(env: Mapping[str, str]) -> Floor:
    value = env.get(LOW_SPEED_ENV, "").strip()
    if not value:
        return Floor()
    speed, _, window = value.partition("/")
    try:
        floor = Floor(int(speed), float(window or Floor.seconds))
    except ValueError:
        floor = Floor(-1)
    if floor.bytes_per_s < 0 or not 0 < floor.seconds < 1e6:
        raise UsageError(
            f"{LOW_SPEED_ENV} must be BYTES/SECONDS (e.g. 1024/30), not {value[:40]!r}"
        )
    return floor


def _token_for(env: Mapping[str, str], api_url: str) -> str | None:
    """The GitHub token, unless it would cross the network in clear text."""
    token = github_token(env)
    hold_secret(token)
    if token is None or env_flag(env, ALLOW_HTTP_TOKEN_ENV) or not _cleartext(api_url):
        return token
    raise UsageError(
        f"refusing to send GITHUB_TOKEN/GH_TOKEN to {urlsplit(api_url).hostname} over plain "
        "http://: anyone on the way could read it",
        hint=f"use an https:// API URL, unset the token, or set {ALLOW_HTTP_TOKEN_ENV}=1",
    )


def _cleartext(url: str) -> bool:
    """An http:// URL to a host other than this machine's loopback."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "http":
        return False
    host = (parts.hostname or "").lower()
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


def _first(*values: str | None) -> str | None:
    """The first value that is set and not empty: flag before environment."""
    return next((v for v in values if v), None)

"""The npm source (SPEC §4): the per-platform versions of ``@openai/codex`` on the registry npm
itself is configured with.

* :mod:`.npmrc` — registry discovery, credentials and network settings (pure, behind a thin
  I/O edge);
* :mod:`.network` — those network settings applied to the registry's requests (CA files,
  TLS context, proxy);
* :mod:`.packument` — the platform tarball picked from a packument (pure);
* :mod:`.registry` — the packument request and the resolver factory install uses.
"""

from __future__ import annotations

from codex_install.sources.npm.npmrc import (
    ESCAPED_NAME,
    PACKAGE,
    SCOPE,
    SCOPED_KEY,
    Layer,
    NpmNetwork,
    Registry,
    Setting,
    authorization_for,
    discover,
    env_layer,
    expand_env,
    network_for,
    normalize_registry,
    npm_no_proxy,
    npm_proxy,
    parse_npm_config_output,
    parse_npmrc,
    project_dir,
    read_npmrc_files,
    run_npm,
    user_npmrc_path,
)
from codex_install.sources.npm.packument import (
    VENDOR_TARGETS,
    NpmChoice,
    parse_integrity,
    select_from_packument,
    vendor_target,
)
from codex_install.sources.npm.registry import (
    ACCEPT,
    NPM_TIMEOUT,
    PACKUMENT_LIMIT,
    Resolver,
    fetch_packument,
    resolver_factory,
    versions_factory,
)

__all__ = [
    "ACCEPT",
    "ESCAPED_NAME",
    "NPM_TIMEOUT",
    "PACKAGE",
    "PACKUMENT_LIMIT",
    "SCOPE",
    "SCOPED_KEY",
    "VENDOR_TARGETS",
    "Layer",
    "NpmChoice",
    "NpmNetwork",
    "Registry",
    "Resolver",
    "Setting",
    "authorization_for",
    "discover",
    "env_layer",
    "expand_env",
    "fetch_packument",
    "network_for",
    "normalize_registry",
    "npm_no_proxy",
    "npm_proxy",
    "parse_integrity",
    "parse_npm_config_output",
    "parse_npmrc",
    "project_dir",
    "read_npmrc_files",
    "resolver_factory",
    "run_npm",
    "select_from_packument",
    "user_npmrc_path",
    "vendor_target",
    "versions_factory",
]

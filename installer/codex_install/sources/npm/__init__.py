"""The npm source (SPEC §4): the per-platform versions of ``@openai/codex`` on the registry npm
itself is configured with.

* :mod:`.npmrc` — registry discovery and credentials (pure, behind a thin I/O edge);
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
    Registry,
    authorization_for,
    discover,
    env_layer,
    expand_env,
    normalize_registry,
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
    "Registry",
    "Resolver",
    "authorization_for",
    "discover",
    "env_layer",
    "expand_env",
    "fetch_packument",
    "normalize_registry",
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

"""The environment a child process gets: ours without the credentials it has no use for.

A smoke test or ``codex login`` must not see a GitHub token, an npm token or an API key: the one
child that needs the key (``codex login --with-api-key``) reads it on stdin.
"""

from __future__ import annotations

from collections.abc import Mapping

SECRET_VARS = frozenset(
    {
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "GH_ENTERPRISE_TOKEN",
        "NPM_TOKEN",
        "NODE_AUTH_TOKEN",
        "OPENAI_API_KEY",
        "CODEX_API_KEY",
    }
)
# npm reads `npm_config_//host/:_authToken` and friends from the environment, in any case.
_NPM_SECRET_SUFFIXES = ("_authtoken", "_auth", "_password")


def is_secret(name: str) -> bool:
    lowered = name.lower()
    if name in SECRET_VARS:
        return True
    return lowered.startswith("npm_config_") and lowered.endswith(_NPM_SECRET_SUFFIXES)


def without_secrets(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` minus every variable :func:`is_secret` names."""
    return {name: value for name, value in env.items() if not is_secret(name)}

"""childenv: what a child process may see of our environment."""

from __future__ import annotations

import pytest

from codex_install.childenv import is_secret, without_secrets


@pytest.mark.parametrize(
    "name",
    [
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "NPM_TOKEN",
        "NODE_AUTH_TOKEN",
        "OPENAI_API_KEY",
        "CODEX_API_KEY",
        "npm_config_//registry.example/:_authToken",
        "NPM_CONFIG__AUTH",
        "npm_config_//r/:_password",
    ],
)
def test_credentials_are_secret(name: str) -> None:
    assert is_secret(name)


def test_everything_else_is_kept() -> None:
    env = {"PATH": "/bin", "HOME": "/h", "CODEX_HOME": "/c", "npm_config_registry": "r"}
    assert without_secrets({**env, "GITHUB_TOKEN": "t", "OPENAI_API_KEY": "k"}) == env

"""npm's TLS and proxy settings for the chosen registry: never dropped silently."""

from __future__ import annotations

import pytest

from codex_install.sources.npm.npmrc import Layer, parse_npmrc, unapplied_settings
from sources.npm_helpers import install


@pytest.mark.parametrize(
    ("npmrc", "want"),
    [
        ("", ()),
        ("strict-ssl=true", ()),
        ("strict-ssl=false", ("strict-ssl=false",)),
        ("cafile=/etc/corp.pem\nhttps-proxy=http://proxy:3128", ("cafile", "https-proxy")),
        ("proxy=http://p:8080\nnoproxy=.corp", ("proxy", "noproxy")),
        ("//r.example/npm/:cafile=/etc/r.pem", ("cafile",)),
        ("//other.example/:cafile=/etc/o.pem", ()),  # another registry's: not ours
        ("//r.example/:certfile=/c.pem\n//r.example/:keyfile=/k.pem", ("certfile", "keyfile")),
    ],
)
def test_network_settings_for_the_registry_are_found(npmrc, want):
    layers = [Layer("user", parse_npmrc(npmrc, {}))]
    assert unapplied_settings("https://r.example/npm/", layers) == want


def test_an_install_says_which_npm_settings_it_does_not_apply(env, home, registry):
    registry.publish("0.169.0")
    (home / ".npmrc").write_text(
        f"registry={registry.url}\ncafile=/etc/corp.pem\nstrict-ssl=false\n"
    )
    result = install(env, "--source", "npm")
    assert result.exit_code == 0, result.output
    assert (
        f"note: your npm config sets cafile, strict-ssl=false for {registry.url}; "
        "codex-install does not take these from npm: set SSL_CERT_FILE"
    ) in result.stderr

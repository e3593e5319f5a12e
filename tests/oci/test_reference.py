"""oci:// URLs: which registry, which repository, which scheme. Pure."""

from __future__ import annotations

import pytest

from codex_install.errors import UsageError
from codex_install.sources.oci.reference import check_tag, is_loopback, is_oci, parse_reference


@pytest.mark.parametrize(
    ("url", "origin", "repository"),
    [
        ("oci://ghcr.io/acme/codex", "https://ghcr.io", "acme/codex"),
        (
            "oci://harbor.corp.example:8443/tools/codex/",
            "https://harbor.corp.example:8443",
            "tools/codex",
        ),
        ("oci://127.0.0.1:5000/codex", "http://127.0.0.1:5000", "codex"),
        ("oci://localhost:5000/a/b", "http://localhost:5000", "a/b"),
        ("oci://[::1]:5000/codex", "http://[::1]:5000", "codex"),
        ("oci+https://127.0.0.1:5000/codex", "https://127.0.0.1:5000", "codex"),
        ("oci+http://registry.lan/codex", "http://registry.lan", "codex"),
        ("OCI://GHCR.IO/acme/codex", "https://ghcr.io", "acme/codex"),
        ("oci://docker.io/acme/codex", "https://registry-1.docker.io", "acme/codex"),
    ],
)
def test_a_reference_names_the_registry_and_repository(url, origin, repository):
    ref = parse_reference(url)
    assert (ref.origin, ref.repository) == (origin, repository)
    assert ref.blob_url("sha256:ab") == f"{origin}/v2/{repository}/blobs/sha256:ab"


@pytest.mark.parametrize(
    "url",
    [
        "https://ghcr.io/acme/codex",  # not oci://
        "oci://ghcr.io",  # no repository
        "oci://ghcr.io/",
        "oci://ghcr.io/Acme/Codex",  # upper case is no repository name
        "oci://ghcr.io/acme//codex",
        "oci://ghcr.io/acme/codex:latest",  # a tag is not part of the mirror URL
        "oci://user:pw@ghcr.io/acme/codex",  # credentials belong in the login files
        "oci://ghcr.io:99999/codex",
        "oci://ghcr.io:port/codex",
        "oci://gh cr.io/codex",
        "oci:///codex",
        "oci://ghcr.io/" + "a" * 256,
    ],
)
def test_an_unusable_reference_is_a_usage_error(url):
    with pytest.raises(UsageError) as caught:
        parse_reference(url)
    assert "pw" not in str(caught.value)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1:5000", True), ("127.9.9.9", True), ("localhost", True), ("[::1]:5000", True),
     ("10.0.0.1:5000", False), ("ghcr.io", False), ("localhost.evil.example", False)],
)  # fmt: skip
def test_only_this_machine_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_which_urls_are_registries():
    assert is_oci("oci://ghcr.io/a") and is_oci("oci+http://x/a")
    assert not is_oci("https://x/a") and not is_oci(None) and not is_oci("/srv/mirror")


@pytest.mark.parametrize("tag", ["0.169.0", "0.170.0-alpha.3", "latest"])
def test_versions_are_tags(tag):
    assert check_tag(tag) == tag


@pytest.mark.parametrize("tag", ["1.0.0+build", "", "-x", "a" * 129])
def test_what_no_tag_can_hold_is_refused(tag):
    with pytest.raises(UsageError):
        check_tag(tag)

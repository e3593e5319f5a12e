"""suggest: the nearest names for a typo (pure)."""

from __future__ import annotations

import pytest

from codex_install.errors import NetworkError, NotFoundError
from codex_install.suggest import (
    did_you_mean,
    nearest_versions,
    newest_with_prefix,
    settle_prefix,
    version_prefix,
)

VERSIONS = ["0.172.0-alpha.1", "0.171.1", "0.171.0", "0.170.0", "0.169.0", "0.168.0"]


@pytest.mark.parametrize(
    ("value", "want"),
    [("githb", "; did you mean github?"), ("NPM", "; did you mean npm?"), ("zzz", "")],
)
def test_did_you_mean(value, want):
    assert did_you_mean(value, ["auto", "github", "mirror", "npm"]) == want


@pytest.mark.parametrize(
    ("wanted", "nearest"),
    [
        ("0.17.0", ["0.171.1", "0.171.0", "0.170.0"]),  # a dropped digit
        ("0.196.0", ["0.171.0", "0.169.0", "0.168.0"]),  # swapped digits: same spelling first
        ("0.170.1", ["0.171.1", "0.171.0", "0.170.0"]),
    ],
)
def test_nearest_versions_newest_first(wanted, nearest):
    assert nearest_versions(wanted, VERSIONS) == nearest


@pytest.mark.parametrize(
    ("prefix", "want"), [("0.171", "0.171.1"), ("0.172", None), ("0.17", None), ("1.0", None)]
)
def test_a_prefix_is_the_newest_stable_release_under_it(prefix, want):
    assert newest_with_prefix(prefix, VERSIONS) == want


@pytest.mark.parametrize(
    ("text", "prefix"),
    [
        ("0.171", "0.171"),
        (" v0.171 ", "0.171"),
        ("rust-v0.171", "0.171"),
        ("0.171.0", None),  # a full version is not a prefix
        ("latest", None),
        (None, None),
        ("0.١٧١", None),  # ASCII digits only
        ("0", None),
    ],
)
def test_what_is_a_version_prefix(text, prefix):
    assert version_prefix(text) == prefix


def test_a_prefix_settles_on_the_newest_offered_or_offline_the_newest_installed():
    assert settle_prefix("0.171", ["0.171.0"], lambda: VERSIONS) == "0.171.1"
    assert settle_prefix("0.171", ["0.171.0", "0.170.0"], None) == "0.171.0"


def test_a_prefix_with_nothing_under_it_names_the_nearest_or_the_offline_reason():
    with pytest.raises(NotFoundError) as found:
        settle_prefix("0.173", [], lambda: VERSIONS)
    assert found.value.message == "no codex 0.173.x release exists"
    assert "the nearest: 0.171.1" in (found.value.hint or "")
    with pytest.raises(NetworkError) as offline:
        settle_prefix("0.171", ["0.170.0"], None)
    assert offline.value.message.startswith("no 0.171.x is installed, and --offline forbids")

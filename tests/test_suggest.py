"""suggest: the nearest names for a typo (pure)."""

from __future__ import annotations

import pytest

from codex_install.suggest import did_you_mean, nearest_versions, newest_with_prefix

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

from __future__ import annotations

import pytest

from codex_install.errors import UsageError
from codex_install.versions import is_prerelease, parse_version, version_from_tag, version_key


@pytest.mark.parametrize(
    ("text", "version"),
    [
        (None, None),
        ("", None),
        ("latest", None),
        ("LATEST", None),
        ("0.169.0", "0.169.0"),
        ("v0.169.0", "0.169.0"),
        ("rust-v0.169.0", "0.169.0"),
        (" 1.2.3 ", "1.2.3"),
        ("0.170.0-alpha.3", "0.170.0-alpha.3"),
        ("rust-v0.170.0-beta.1", "0.170.0-beta.1"),
    ],
)
def test_accepted_version_forms(text, version):
    spec = parse_version(text)
    assert spec.version == version
    assert spec.tag == (None if version is None else f"rust-v{version}")


@pytest.mark.parametrize(
    "text",
    [
        "1",
        "1.2",
        "1.2.3.4",
        "rust-1.2.3",
        "V1.2.3",
        "1.2.3-rc.1",
        "1.2.3-alpha",
        "x.y.z",
        "1.2.3 ; rm -rf /",
        "../1.2.3",
    ],
)
def test_rejected_version_forms_are_usage_errors(text):
    with pytest.raises(UsageError) as err:
        parse_version(text)
    assert err.value.exit_code == 2
    assert "invalid version" in str(err.value)


def test_prerelease_and_ordering():
    assert is_prerelease("0.170.0-alpha.1") and not is_prerelease("0.170.0")
    ordered = [
        "0.9.0",
        "0.169.0",
        "0.170.0-alpha.1",
        "0.170.0-alpha.2",
        "0.170.0-beta.1",
        "0.170.0",
        "1.0.0",
    ]
    assert sorted(reversed(ordered), key=version_key) == ordered


def test_version_from_tag():
    assert version_from_tag("rust-v0.1.0") == "0.1.0"
    with pytest.raises(UsageError):
        version_from_tag("latest")

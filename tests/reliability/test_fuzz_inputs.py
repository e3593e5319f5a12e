"""Hostile release JSON, SUMS files and version strings: accepted, or refused with our own error
and a message — never an unhandled exception (SPEC §3, §11)."""

from __future__ import annotations

import contextlib
import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from codex_install import verify
from codex_install.errors import NetworkError, UsageError, VerificationError
from codex_install.sources.release import parse_release
from codex_install.versions import parse_version, version_from_tag, version_key

from .fuzzing import FAST, accepts_or_refuses, hostile_text, json_values

HEX = st.text("0123456789abcdefABCDEF", min_size=60, max_size=68)
# ASCII only: "١.٢.٣" is not a Codex version, whatever str.isdigit thinks.
VERSION_SHAPE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+(-(alpha|beta)\.[0-9]+)?", re.ASCII)

# --- release JSON ----------------------------------------------------------------------------

VALID_URL = "https://example.com/a.tar.gz"
urls = st.one_of(
    st.just(VALID_URL),
    st.just("a.tar.gz"),
    hostile_text,
    st.sampled_from(
        [
            "../x",
            "http://[",
            "//h/x",
            "http://[::1",
            "file:///etc/passwd",
            "https://h:99999/x",
            "",
            " ",
            "javascript:alert(1)",
        ]
    ),
)
ASSET_NAMES = ["codex-package-x86_64-unknown-linux-musl.tar.gz", "codex-package_SHA256SUMS"]


def _sometimes(valid: st.SearchStrategy[object], hostile: st.SearchStrategy[object]):
    """Mostly a valid value, so that parsing gets deep before something is wrong."""
    return st.one_of(valid, valid, valid, valid, valid, hostile)


asset_entries = st.fixed_dictionaries(
    {
        "name": _sometimes(st.sampled_from(ASSET_NAMES), hostile_text | json_values),
        "browser_download_url": _sometimes(st.just(VALID_URL), urls | json_values),
    },
    optional={
        "size": _sometimes(st.integers(0, 2**40), st.integers(min_value=-5) | json_values),
        "digest": _sometimes(st.builds("sha256:{}".format, HEX), json_values),
    },
)
release_docs = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {
            "tag_name": _sometimes(
                st.sampled_from(["rust-v0.169.0", "rust-v0.1.0-alpha.1", "v1.2.3"]),
                hostile_text | st.sampled_from(["rust-v١.٢.٣", "rust-v0.1.0\n"]) | json_values,
            ),
            "assets": _sometimes(
                st.lists(_sometimes(asset_entries, json_values), max_size=4), json_values
            ),
        },
        optional={"prerelease": json_values},
    ),
)


@FAST
@given(
    release_docs,
    st.sampled_from(
        [
            "https://api.github.com/repos/o/r/releases/latest",
            "file:///mirror/channels/latest",
            "not a url",
        ]
    ),
)
@example(
    {"tag_name": "rust-v0.169.0", "assets": [{"name": "a", "browser_download_url": "http://["}]},
    "https://x/",
)
def test_release_json_is_parsed_or_refused(doc, base):
    release = accepts_or_refuses(parse_release, doc, base_url=base, source="github", origin="fuzz")
    if release is not None:
        assert VERSION_SHAPE.fullmatch(release.version)
        for asset in release.assets:
            assert asset.name and "/" not in asset.name
            assert asset.size is None or asset.size >= 0
            assert asset.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", asset.sha256)


# --- SUMS ------------------------------------------------------------------------------------

sums_lines = st.one_of(
    st.builds(
        lambda h, n: f"{h}  {n}",
        st.text("0123456789abcdef", min_size=64, max_size=64),
        st.sampled_from(ASSET_NAMES),
    ),
    st.builds(
        lambda h, sep, n: f"{h}{sep}{n}",
        HEX,
        st.sampled_from(["  ", " *", " ", "\t", ""]),
        hostile_text,
    ),
    hostile_text,
)


@FAST
@given(st.lists(sums_lines, max_size=6).map("\n".join))
def test_sums_file_is_parsed_or_refused(text):
    table = accepts_or_refuses(verify.parse_sums, text)
    if table is not None:
        for name, digest in table.items():
            assert name and name == name.strip()
            assert re.fullmatch(r"[0-9a-f]{64}", digest)


names = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp")), min_size=1, max_size=30
)


@FAST
@given(st.dictionaries(names, st.text("0123456789abcdef", min_size=64, max_size=64), max_size=5))
def test_sums_written_like_sha256sum_reads_back(table):
    text = "".join(f"{digest}  {name}\n" for name, digest in table.items())
    assert verify.parse_sums(text) == table


def test_sums_errors_are_verification_errors():
    try:
        verify.parse_sums("not a sums line")
    except VerificationError as err:
        assert "line 1" in str(err)
    else:
        raise AssertionError("accepted garbage")


# --- versions --------------------------------------------------------------------------------


@pytest.mark.slow  # a CLI run per example: ~2 s under the CI hypothesis profile
@FAST
@given(
    st.one_of(
        hostile_text,
        st.from_regex(
            r"\A(rust-v|v)?\d{1,4}\.\d{1,4}\.\d{1,4}"
            r"(-(alpha|beta)\.\d{1,3})?\Z"
        ),
    )
)
@example("١.٢.٣")
@example("0.169.0\n")
@example("rust-v0.1.0-beta.٣")
def test_version_strings_are_parsed_or_refused_with_exit_2(text):
    try:
        spec = parse_version(text)
    except UsageError as err:
        assert (err.exit_code == 2 and text.strip()[:10] in str(err)) or str(err)
        return
    if spec.version is not None:
        assert VERSION_SHAPE.fullmatch(spec.version), spec.version
        assert version_key(spec.version) != (0, 0, 0, 0, 0) or spec.version.startswith("0.0.0")
        assert spec.tag == f"rust-v{spec.version}"


@FAST
@given(
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.sampled_from(["", "-alpha.1", "-beta.12"]),
    st.sampled_from(["", "v", "rust-v"]),
)
def test_every_accepted_spelling_means_the_same_version(x, y, z, pre, prefix):
    version = f"{x}.{y}.{z}{pre}"
    assert parse_version(prefix + version).version == version
    assert version_from_tag(f"rust-v{version}") == version


@FAST
@given(hostile_text)
def test_release_tags_from_the_network_are_network_errors_not_usage_errors(tag):
    """A bad tag in release JSON is the server's fault (exit 4), not the user's (exit 2)."""
    doc = {"tag_name": tag, "assets": []}
    with contextlib.suppress(NetworkError):
        parse_release(doc, base_url="https://x/", source="github", origin="fuzz")

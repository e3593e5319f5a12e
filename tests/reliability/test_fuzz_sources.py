"""Hostile bytes from every source the installer reads: release JSON from GitHub and from a
mirror, npm packuments, manifest TOML. Accepted, or refused with our own error and a message."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from builders import TARGET
from codex_install import manifest
from codex_install.sources import github, mirror
from codex_install.sources.github import GitHubConfig
from codex_install.versions import VersionSpec
from mock_network import mock_network

from .fuzzing import FAST, SLOWER, accepts_or_refuses, deep_json, dumps, hostile_text, json_values
from .test_fuzz_inputs import release_docs

DEEP = "[" * 100_000 + "]" * 100_000


def hostile_bytes(documents: st.SearchStrategy[object]) -> st.SearchStrategy[bytes]:
    """A document as JSON bytes — intact, with a byte flipped, cut short, BOM-prefixed — or
    bytes that are not JSON at all, or nesting deeper than any recursion limit."""
    encoded = documents.map(lambda d: dumps(d).encode())

    @st.composite
    def damaged(draw: st.DrawFn) -> bytes:
        data = draw(encoded)
        how = draw(st.sampled_from(["flip", "cut", "bom", "latin1"]))
        if not data:
            return data
        at = draw(st.integers(0, len(data) - 1))
        if how == "flip":
            return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
        if how == "cut":
            return data[:at]
        if how == "bom":
            return b"\xef\xbb\xbf" + data
        return data.decode().encode("utf-16")

    return st.one_of(encoded, encoded, damaged(), st.binary(max_size=64), deep_json.map(str.encode))


# --- release JSON, as GitHub and as a mirror serve it ----------------------------------------


@FAST
@given(hostile_bytes(release_docs))
@example(DEEP.encode())
def test_github_release_bytes_are_parsed_or_refused(body):
    config = GitHubConfig(api_url="https://api.example.invalid")
    with mock_network(lambda _url: (200, {}, body)) as net:
        accepts_or_refuses(github.fetch_release, net, config, VersionSpec("0.169.0"))


@pytest.mark.slow  # a loopback mirror request per example: ~1.2 s under the CI profile
@FAST
@given(hostile_bytes(release_docs))
@example(DEEP.encode())
def test_mirror_release_bytes_are_parsed_or_refused(body):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "releases", "0.169.0", "release.json")
        path.parent.mkdir(parents=True)
        path.write_bytes(body)
        with mock_network(lambda _url: (404, {}, b"")) as net:
            spec = VersionSpec("0.169.0")
            accepts_or_refuses(mirror.fetch_release, net, Path(tmp).as_uri(), spec)


# --- npm packuments --------------------------------------------------------------------------

dist = st.fixed_dictionaries(
    {},
    optional={
        "tarball": st.one_of(
            st.sampled_from(
                [
                    "https://registry.example/@openai/codex/-/codex.tgz",
                    "/x.tgz",
                    "http://[",
                    "ftp://h/x.tgz",
                    "",
                    "codex-0.169.0-linux-x64.tgz",
                ]
            ),
            hostile_text,
            json_values,
        ),
        "integrity": st.one_of(
            st.sampled_from(
                [
                    "sha512-" + "A" * 86 + "==",
                    "sha1-" + "A" * 27 + "=",
                    "sha512-!",
                    "sha512-AAAA sha1-" + "A" * 27 + "=",
                    "md5-xx",
                    "sha512-" + "A" * 86 + "==?opt",
                ]
            ),
            hostile_text,
            json_values,
        ),
        "shasum": st.one_of(st.text("0123456789abcdef", min_size=40, max_size=40), json_values),
    },
)
packuments = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "dist-tags": st.one_of(
                st.fixed_dictionaries(
                    {"latest": st.one_of(st.just("0.169.0"), hostile_text, json_values)}
                ),
                json_values,
            ),
            "versions": st.one_of(
                st.dictionaries(
                    st.one_of(st.sampled_from(["0.169.0-linux-x64", "0.169.0"]), hostile_text),
                    st.one_of(
                        st.fixed_dictionaries({"dist": st.one_of(dist, json_values)}), json_values
                    ),
                    max_size=3,
                ),
                json_values,
            ),
        },
    ),
)


@FAST
@given(hostile_bytes(packuments), st.sampled_from([None, "0.169.0"]))
@example(DEEP.encode(), None)
def test_npm_packument_bytes_are_parsed_or_refused(body, version):
    from codex_install.sources import npm

    registry = npm.Registry(url="https://registry.example/", origin="fuzz")
    with mock_network(lambda _url: (200, {}, body)) as net:
        data = accepts_or_refuses(npm.fetch_packument, net, registry)
    choice = accepts_or_refuses(
        npm.select_from_packument, data, VersionSpec(version), TARGET, registry
    )
    if choice is not None:
        sel = choice.selection
        assert sel.archive.url.startswith(("http://", "https://"))
        assert sel.integrity is not None  # never an unverified tarball
        assert "/" not in sel.archive.name


@FAST
@given(
    st.lists(
        st.one_of(
            hostile_text,
            st.sampled_from(
                [
                    "registry=https://r.example/",
                    "//r.example/:_authToken=${TOKEN}",
                    "[section]",
                    "a[]=1",
                    'key = "quoted ; not comment"',
                    "k=${UNSET?}",
                    "k=\\${ESCAPED}",
                    "k='x",
                    "=v",
                ]
            ),
        ),
        max_size=6,
    ).map("\n".join)
)
def test_npmrc_text_never_raises(text):
    from codex_install.sources import npm

    values = npm.parse_npmrc(text, {"TOKEN": "t0k3n"})
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in values.items())


# --- manifest TOML ---------------------------------------------------------------------------

toml_scalars = st.one_of(
    st.integers(-(2**63), 2**63 - 1), st.booleans(), hostile_text, st.floats(allow_nan=False)
)
manifest_assets = st.fixed_dictionaries(
    {
        "target": st.one_of(st.just(TARGET), hostile_text),
        "layout": st.sampled_from(["package", "legacy", "npm", ""]),
        "name": st.one_of(st.just(f"codex-package-{TARGET}.tar.gz"), hostile_text),
        "size": st.one_of(st.integers(-1, 2**40), toml_scalars),
        "sha256": st.one_of(
            st.text("0123456789abcdefABCDEF", min_size=64, max_size=64), hostile_text
        ),
    },
    optional={
        "url": st.one_of(st.just("https://example.com/a.tar.gz"), hostile_text),
        "integrity": st.one_of(st.just("sha512-" + "A" * 86 + "=="), hostile_text),
        "npm_spec": st.one_of(st.just("@openai/codex@0.169.0-linux-x64"), hostile_text),
        "extra": toml_scalars,
    },
)
manifest_docs = st.fixed_dictionaries(
    {
        "schema": st.one_of(st.just(1), toml_scalars),
        "version": st.one_of(st.just("0.169.0"), hostile_text),
        "tag": st.one_of(st.just("rust-v0.169.0"), hostile_text),
    },
    optional={"assets": st.one_of(st.lists(manifest_assets, max_size=3), toml_scalars)},
)


@st.composite
def manifest_texts(draw: st.DrawFn) -> str:
    import tomli_w

    try:
        text = tomli_w.dumps(draw(manifest_docs))
    except (TypeError, ValueError):
        text = ""
    how = draw(st.sampled_from(["as is", "as is", "insert", "cut", "raw"]))
    if how == "insert":
        at = draw(st.integers(0, len(text)))
        text = (
            text[:at]
            + draw(
                st.sampled_from(
                    ["[", "]", '"', "=", "\n", "[[assets]]\n", "\\u0000", "'''", "\x00"]
                )
            )
            + text[at:]
        )
    elif how == "cut":
        text = text[: draw(st.integers(0, len(text)))]
    elif how == "raw":
        text = draw(hostile_text)
    return text


@SLOWER
@given(manifest_texts())
@example("schema = 1\nversion = " + "[" * 20_000 + "]" * 20_000)
@example("schema = 1\nversion = " + "{a=" * 5_000 + "1" + "}" * 5_000)
def test_manifest_toml_is_parsed_or_refused(text):
    parsed = accepts_or_refuses(manifest.parse_manifest, text, "fuzz.toml")
    if parsed is not None:
        assert manifest.validate_manifest(parsed) == []
        # What we accept, we can write back and read again unchanged.
        assert manifest.parse_manifest(manifest.render_manifest(parsed), "again") == parsed


# --- hostile HTTP headers on downloads and API answers -------------------------------------

# What a server can put in a header: any text but CR/LF (httpx decodes UTF-8, else latin-1).
header_text = st.text(st.characters(max_codepoint=255, blacklist_characters="\r\n"), max_size=24)
header_values = st.one_of(
    header_text,
    st.sampled_from(
        [
            "0",
            "120",
            "¹",
            "²³",
            "١٢",
            "-1",
            "bytes 0-9/10",
            "bytes 5-9/¹",
            "bytes ¹-9/10",
            "bytes */10",
            "bytes 0-9/*",
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "99999999999999999999",
        ]
    ),
)


@FAST
@given(header_values)
def test_retry_after_from_any_server_parses_or_is_none(value):
    from codex_install.http.retry import parse_retry_after

    delay = parse_retry_after(value, now=1_790_000_000.0)
    assert delay is None or delay >= 0


@FAST
@given(
    st.lists(
        st.tuples(
            st.sampled_from([200, 206, 206, 416, 429, 403, 503, 500, 302]),
            st.fixed_dictionaries(
                {},
                optional={
                    "content-range": header_values,
                    "retry-after": header_values,
                    "x-ratelimit-remaining": st.sampled_from(["0", "1", "¹"]),
                },
            ),
            st.binary(max_size=32),
        ),
        min_size=1,
        max_size=4,
    ),
    st.one_of(st.none(), st.integers(0, 64)),
)
@example([(206, {"content-range": "bytes 0-9/¹"}, b"0123456789")], 10)
@example([(503, {"retry-after": "¹"}, b"")], None)
def test_download_with_hostile_headers_returns_or_refuses(answers, expected_size):
    from codex_install.http.download import download

    replies = iter(answers)

    received: list[bytes] = []
    with mock_network(lambda _url: next(replies, answers[-1])) as net:
        digests = accepts_or_refuses(
            download,
            net,
            "https://cdn.example/a.tar.gz",
            received.append,
            expected_size=expected_size,
        )
    if digests is not None:
        assert digests.size == len(b"".join(received))
        assert expected_size is None or digests.size == expected_size


@FAST
@given(
    st.sampled_from([403, 429]),
    st.fixed_dictionaries(
        {},
        optional={
            "x-ratelimit-remaining": st.sampled_from(["0", "5"]),
            "x-ratelimit-reset": header_values,
            "retry-after": header_values,
        },
    ),
)
@example(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "¹"})
def test_github_rate_limit_answers_with_hostile_headers_are_reported(status, headers):
    body = b'{"message": "API rate limit exceeded"}'
    config = GitHubConfig(api_url="https://api.example.invalid")
    with mock_network(lambda _url: (status, headers, body)) as net:
        accepts_or_refuses(github.fetch_release, net, config, VersionSpec("0.169.0"))

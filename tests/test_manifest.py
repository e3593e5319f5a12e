"""Release manifests (SPEC §7): model, TOML form, validation, drift, shipped manifests."""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from codex_install.errors import UsageError
from codex_install.manifest import (
    Manifest,
    ManifestAsset,
    build_manifest,
    diff_manifests,
    load_manifest,
    manifest_filename,
    parse_manifest,
    preferred_asset,
    remote_drift,
    render_manifest,
    shipped_manifest,
    shipped_manifest_dirs,
    validate_manifest,
    write_manifest,
)
from codex_install.models import Asset, Selection
from codex_install.platforms import SUPPORTED_TARGETS
from codex_install.sources.dispatch import SourceOptions
from codex_install.sources.pinned import resolve_pinned
from codex_install.verify import asset_drift

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_MANIFEST = GOLDEN / "codex-1.2.3.toml"
REPO_MANIFESTS = Path(__file__).resolve().parent.parent / "manifests"
VERSION = "1.2.3"
BASE = f"https://github.com/openai/codex/releases/download/rust-v{VERSION}"
# Obviously fake but well-formed digests: one pair of hex digits per target and layout.
_PACKAGE_HEX = {t: d * 32 for t, d in zip(SUPPORTED_TARGETS, ("a1", "b2", "c3", "d4"), strict=True)}
_LEGACY_HEX = {t: d * 32 for t, d in zip(SUPPORTED_TARGETS, ("e5", "f6", "07", "18"), strict=True)}
NPM_HEX = "29" * 32
NPM_INTEGRITY = "sha512-" + "A" * 86 + "=="


def sample_assets() -> list[ManifestAsset]:
    assets: list[ManifestAsset] = []
    for i, target in enumerate(SUPPORTED_TARGETS):
        package = f"codex-package-{target}.tar.gz"
        legacy = f"codex-{target}.tar.gz"
        assets.append(
            ManifestAsset(
                target, "package", package, f"{BASE}/{package}", 1000 + i, _PACKAGE_HEX[target]
            )
        )
        assets.append(
            ManifestAsset(
                target, "legacy", legacy, f"{BASE}/{legacy}", 500 + i, _LEGACY_HEX[target]
            )
        )
    assets.append(
        ManifestAsset(
            target="x86_64-unknown-linux-musl",
            layout="package",
            name=f"codex-{VERSION}-linux-x64.tgz",
            url=None,
            size=1234,
            sha256=NPM_HEX,
            integrity=NPM_INTEGRITY,
            npm_spec=f"@openai/codex@{VERSION}-linux-x64",
        )
    )
    return assets


def sample_manifest() -> Manifest:
    return build_manifest(VERSION, sample_assets())


def golden_text() -> str:
    return GOLDEN_MANIFEST.read_text(encoding="utf-8")


def test_rendered_manifest_matches_the_golden_file() -> None:
    text = render_manifest(sample_manifest())
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN_MANIFEST.write_text(text, encoding="utf-8")
    assert text == golden_text()


def test_manifest_round_trips_through_toml() -> None:
    manifest = sample_manifest()
    assert parse_manifest(render_manifest(manifest), "round-trip.toml") == manifest


def test_golden_manifest_parses_to_the_sample() -> None:
    assert parse_manifest(golden_text(), str(GOLDEN_MANIFEST)) == sample_manifest()


def test_render_is_independent_of_asset_order() -> None:
    assets = sample_assets()
    random.Random(7).shuffle(assets)
    assert render_manifest(build_manifest(VERSION, assets)) == golden_text()


def test_render_writes_keys_in_stable_order_and_assets_as_tables() -> None:
    lines = golden_text().splitlines()
    assert lines[:3] == ["schema = 1", f'version = "{VERSION}"', f'tag = "rust-v{VERSION}"']
    assert golden_text().count("[[assets]]") == 9
    first = lines[lines.index("[[assets]]") + 1 : lines.index("[[assets]]") + 7]
    assert [line.split(" = ")[0] for line in first] == [
        "target", "layout", "name", "url", "size", "sha256",
    ]  # fmt: skip


def test_assets_are_sorted_by_target_then_package_before_legacy() -> None:
    keys = [(a.target, a.layout) for a in sample_manifest().assets]
    assert keys[:2] == [("aarch64-apple-darwin", "package"), ("aarch64-apple-darwin", "legacy")]
    assert [t for t, _ in keys] == sorted(t for t, _ in keys)


def test_npm_entry_keeps_integrity_and_spec_without_url() -> None:
    asset = sample_manifest().asset_named(f"codex-{VERSION}-linux-x64.tgz")
    assert asset is not None and asset.is_npm
    assert asset.url is None and asset.integrity == NPM_INTEGRITY
    assert "url" not in asset.to_table()


def test_upper_case_sha256_is_read_as_the_same_digest() -> None:
    text = golden_text().replace(_PACKAGE_HEX[SUPPORTED_TARGETS[0]], "A1" * 32)
    assert parse_manifest(text, "upper.toml") == sample_manifest()


# --- bad input: every case is one UsageError line naming the file ---

_FIRST_SHA = _PACKAGE_HEX["aarch64-apple-darwin"]
_FIRST_NAME = 'name = "codex-package-aarch64-apple-darwin.tar.gz"'


def _drop_line(text: str, prefix: str) -> str:
    lines = text.splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith(prefix))
    return "".join(lines[:index] + lines[index + 1 :])


def _no_assets(text: str) -> str:
    return text[: text.index("[[assets]]")]


BAD_MANIFESTS = [
    ("not toml", lambda t: t + "\nthis is = = not toml\n", "not valid TOML"),
    ("missing schema", lambda t: _drop_line(t, "schema"), "missing key 'schema'"),
    ("schema 2", lambda t: t.replace("schema = 1", "schema = 2"), "unsupported manifest schema 2"),
    ("schema string", lambda t: t.replace("schema = 1", 'schema = "1"'), "schema '1'"),
    ("missing version", lambda t: _drop_line(t, "version"), "missing key 'version'"),
    (
        "version not a string",
        lambda t: t.replace(f'version = "{VERSION}"', "version = 1"),
        "'version' must be a string, not an integer",
    ),
    (
        "bad version",
        lambda t: t.replace(f'version = "{VERSION}"', 'version = "1.2"'),
        "version '1.2' is not a Codex version",
    ),
    (
        "latest is not a version",
        lambda t: t.replace(f'version = "{VERSION}"', 'version = "latest"'),
        "version 'latest' is not a Codex version",
    ),
    (
        "tag mismatch",
        lambda t: t.replace(f'tag = "rust-v{VERSION}"', 'tag = "rust-v9.9.9"'),
        "tag 'rust-v9.9.9' does not match version '1.2.3'",
    ),
    ("no assets key", _no_assets, "missing [[assets]] tables"),
    ("empty assets", lambda t: _no_assets(t) + "assets = []\n", "no assets"),
    ("assets not tables", lambda t: _no_assets(t) + 'assets = "x"\n', "array of tables"),
    (
        "asset not a table",
        lambda t: _no_assets(t) + "assets = [1]\n",
        "[[assets]] #1 must be a table",
    ),
    (
        "missing sha256",
        lambda t: t.replace(f'sha256 = "{_FIRST_SHA}"\n', "", 1),
        "[[assets]] #1 is missing key 'sha256'",
    ),
    ("missing target", lambda t: _drop_line(t, "target"), "[[assets]] #1 is missing key 'target'"),
    (
        "size is a string",
        lambda t: t.replace("size = 1000", 'size = "1000"'),
        "'size' must be an integer, not a string",
    ),
    ("negative size", lambda t: t.replace("size = 1000", "size = -1"), "non-negative integer"),
    (
        "short sha256",
        lambda t: t.replace(_FIRST_SHA, "a1" * 31),
        "sha256 must be 64 lower-case hex digits",
    ),
    (
        "non-hex sha256",
        lambda t: t.replace(_FIRST_SHA, "zz" * 32),
        "sha256 must be 64 lower-case hex digits",
    ),
    (
        "sha256 not a string",
        lambda t: t.replace(f'"{_FIRST_SHA}"', "12"),
        "'sha256' must be a string, not an integer",
    ),
    (
        "unknown target",
        lambda t: t.replace('"aarch64-apple-darwin"', '"riscv64gc-unknown-linux-gnu"', 1),
        "unknown target 'riscv64gc-unknown-linux-gnu'",
    ),
    (
        "unknown layout",
        lambda t: t.replace('layout = "package"', 'layout = "flat"', 1),
        "unknown layout 'flat'",
    ),
    (
        "unknown asset key",
        lambda t: t.replace(f'sha256 = "{_FIRST_SHA}"', f'sha265 = "{_FIRST_SHA}"'),
        "unknown key 'sha265' in [[assets]] #1",
    ),
    (
        "unknown top-level key",
        lambda t: "channel = 'x'\n" + t,
        "unknown key 'channel' in the top level",
    ),
    (
        "duplicate asset",
        lambda t: t + t[t.index("[[assets]]") : t.index("[[assets]]", t.index("[[assets]]") + 1)],
        "listed twice",
    ),
    (
        "ftp url",
        lambda t: t.replace('url = "https://', 'url = "ftp://', 1),
        "must start with https://",
    ),
    (
        "no url and no npm spec",
        lambda t: _drop_line(t, "url"),
        "needs a url (or an npm_spec for npm entries)",
    ),
    (
        "bad integrity",
        lambda t: t.replace(NPM_INTEGRITY, "md5-abc"),
        "integrity 'md5-abc' is not an SRI hash",
    ),
    (
        "bad npm spec",
        lambda t: t.replace(f"@openai/codex@{VERSION}-linux-x64", "codex"),
        "npm_spec 'codex' is not a package spec",
    ),
    (
        "name with a slash",
        lambda t: t.replace(_FIRST_NAME, 'name = "../codex.tar.gz"'),
        "name '../codex.tar.gz' must be a plain file name",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [pytest.param(m, msg, id=case) for case, m, msg in BAD_MANIFESTS],
)
def test_bad_manifest_is_a_usage_error_with_one_clear_line(
    mutate: Callable[[str], str], message: str
) -> None:
    with pytest.raises(UsageError) as info:
        parse_manifest(mutate(golden_text()), "manifests/codex-1.2.3.toml")
    text = str(info.value)
    assert info.value.exit_code == 2
    assert text.startswith("manifest manifests/codex-1.2.3.toml: ")
    assert message in text
    assert "\n" not in text


def test_several_problems_are_counted_in_the_one_line() -> None:
    text = golden_text().replace("size = 1000", "size = -1").replace(_FIRST_SHA, "x" * 64)
    with pytest.raises(UsageError, match=r"\(and 1 more\)$"):
        parse_manifest(text, "two.toml")


# --- validate_manifest: a list of problems, never raises ---


def test_valid_manifest_has_no_problems() -> None:
    assert validate_manifest(sample_manifest()) == []


def test_validate_lists_every_problem() -> None:
    manifest = Manifest(
        schema=3,
        version="1.2.3",
        tag="v1.2.3",
        assets=(ManifestAsset("i686-pc-windows", "flat", "a/b", None, -1, "nothex"),),  # type: ignore[arg-type]
    )
    problems = validate_manifest(manifest)
    assert len(problems) == 8
    assert problems[0] == "unsupported schema 3 (expected 1)"
    assert "tag 'v1.2.3' does not match" in problems[1]


def test_validate_reports_an_empty_manifest() -> None:
    assert validate_manifest(build_manifest(VERSION, [])) == [
        "no assets: a manifest pins at least one archive"
    ]


# --- picking assets ---


def test_asset_for_prefers_package_then_zstd() -> None:
    target = "x86_64-unknown-linux-musl"
    zst = ManifestAsset(
        target, "package", f"codex-package-{target}.tar.zst", f"{BASE}/z", 9, "3c" * 32
    )
    manifest = build_manifest(VERSION, [*sample_assets(), zst])
    assert preferred_asset(manifest, target) == zst
    assert [a.name for a in manifest.assets_for(target)] == [
        f"codex-package-{target}.tar.zst",
        f"codex-package-{target}.tar.gz",
        f"codex-{VERSION}-linux-x64.tgz",
        f"codex-{target}.tar.gz",
    ]
    assert preferred_asset(manifest, target, "legacy").name == f"codex-{target}.tar.gz"


def test_asset_for_a_missing_target_names_what_the_manifest_covers() -> None:
    manifest = build_manifest(VERSION, sample_assets()[:2])
    with pytest.raises(UsageError) as info:
        preferred_asset(manifest, "x86_64-unknown-linux-musl")
    assert info.value.exit_code == 2
    assert str(info.value) == (
        "the manifest for Codex 1.2.3 has no archive for x86_64-unknown-linux-musl"
        "; it covers aarch64-apple-darwin (legacy, package)"
    )


def test_asset_for_a_missing_layout_says_which_layout() -> None:
    manifest = build_manifest(VERSION, sample_assets()[:1])
    with pytest.raises(UsageError, match="no legacy archive for aarch64-apple-darwin"):
        preferred_asset(manifest, "aarch64-apple-darwin", "legacy")


def _direct(manifest: Manifest, target: str) -> Selection:
    """The pinned plan of the default source: no metadata request, so no client is needed."""
    plan = resolve_pinned(manifest, SourceOptions(), target, client=None)  # type: ignore[arg-type]
    return plan.selection


def test_a_pinned_plan_has_url_size_and_digest_without_metadata() -> None:
    sel = _direct(sample_manifest(), "aarch64-apple-darwin")
    name = "codex-package-aarch64-apple-darwin.tar.gz"
    assert sel.archive == Asset(name, f"{BASE}/{name}", 1000, _FIRST_SHA)
    assert (sel.version, sel.layout, sel.source, sel.sums) == (VERSION, "package", "manifest", None)


def test_a_pinned_npm_entry_without_url_points_to_the_npm_source() -> None:
    npm_only = build_manifest(VERSION, [sample_assets()[-1]])
    with pytest.raises(UsageError, match="by npm_spec only") as caught:
        _direct(npm_only, "x86_64-unknown-linux-musl")
    assert "--source npm" in str(caught.value)


# --- drift: verify and pinned installs ---


def test_matching_observation_has_no_drift() -> None:
    asset = sample_manifest().assets[0]
    assert asset_drift(asset, size=asset.size, sha256=asset.sha256.upper()) == []
    assert asset_drift(asset) == []  # nothing observed, nothing to report


def test_a_changed_byte_is_reported_as_drift() -> None:
    asset = sample_manifest().assets[0]
    problems = asset_drift(asset, size=asset.size + 1, sha256="00" * 32)
    assert problems == [
        f"{asset.label}: downloaded size 1001 differs from the manifest's 1000",
        f"{asset.label}: downloaded sha256 {'00' * 32} differs from the manifest's {_FIRST_SHA}",
    ]


def test_integrity_drift_is_reported_for_npm_entries() -> None:
    asset = sample_manifest().asset_named(f"codex-{VERSION}-linux-x64.tgz")
    assert asset is not None
    assert asset_drift(asset, integrity=NPM_INTEGRITY) == []
    (problem,) = asset_drift(asset, integrity="sha512-" + "B" * 86 + "==")
    assert "integrity" in problem


def test_remote_digest_that_disagrees_with_the_pin_is_drift() -> None:
    asset = sample_manifest().assets[0]
    remote = Asset(asset.name, asset.url or "", size=asset.size, sha256="ff" * 32)
    (problem,) = remote_drift(asset, remote)
    assert problem.startswith(f"{asset.label}: remote sha256 {'ff' * 32} differs")
    assert remote_drift(asset, Asset(asset.name, "u")) == []  # no digest published


def test_diff_manifests_finds_changed_missing_extra_and_moved_assets() -> None:
    pinned = sample_manifest()
    first, second, *rest = pinned.assets
    extra = ManifestAsset(
        first.target, "package", "codex-package-x.tar.zst", f"{BASE}/x", 1, "0" * 64
    )
    observed = build_manifest(
        VERSION, [replace(first, sha256="1" * 64, url=f"{BASE}/moved"), *rest, extra]
    )
    problems = diff_manifests(pinned, observed)
    assert len(problems) == 4
    assert "downloaded sha256" in problems[0] and "url is now" in problems[1]
    assert problems[2] == f"{second.label}: no longer available"
    assert problems[3] == f"{extra.label}: not in the pinned manifest"
    assert diff_manifests(pinned, sample_manifest()) == []


def test_diff_manifests_reports_a_different_release() -> None:
    other = build_manifest("1.2.4", [])
    assert diff_manifests(sample_manifest(), other)[0].startswith("release rust-v1.2.4 (1.2.4)")


# --- files ---


def test_write_then_load_round_trips(tmp_path: Path) -> None:
    path = tmp_path / manifest_filename(VERSION)
    write_manifest(sample_manifest(), path)
    assert path.read_text(encoding="utf-8") == golden_text()
    assert load_manifest(path) == sample_manifest()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["codex-1.2.3.toml"]


def test_write_refuses_an_invalid_manifest(tmp_path: Path) -> None:
    bad = build_manifest(VERSION, [replace(sample_assets()[0], sha256="nothex")])
    with pytest.raises(UsageError, match="refusing to write an invalid manifest"):
        write_manifest(bad, tmp_path / "bad.toml")
    assert not (tmp_path / "bad.toml").exists()


def test_loading_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"cannot read manifest .*nope\.toml: No such file"):
        load_manifest(tmp_path / "nope.toml")


def test_loading_a_non_utf8_file_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "binary.toml"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(UsageError, match="not UTF-8 text"):
        load_manifest(path)


# --- shipped manifests ---


def test_shipped_manifest_is_found_by_version(tmp_path: Path) -> None:
    (tmp_path / "codex-1.2.3.toml").write_text(golden_text(), encoding="utf-8")
    assert shipped_manifest("rust-v1.2.3", dirs=[tmp_path / "empty", tmp_path]) == sample_manifest()


def test_no_shipped_manifest_for_other_versions_or_latest(tmp_path: Path) -> None:
    (tmp_path / "codex-1.2.3.toml").write_text(golden_text(), encoding="utf-8")
    assert shipped_manifest("1.2.4", dirs=[tmp_path]) is None
    assert shipped_manifest("latest", dirs=[tmp_path]) is None


def test_shipped_manifest_named_for_another_version_is_refused(tmp_path: Path) -> None:
    (tmp_path / "codex-1.2.4.toml").write_text(golden_text(), encoding="utf-8")
    with pytest.raises(UsageError, match=r"codex-1\.2\.4\.toml pins version 1\.2\.3, not 1\.2\.4"):
        shipped_manifest("1.2.4", dirs=[tmp_path])


def test_dev_checkout_falls_back_to_the_repo_manifests_dir() -> None:
    dirs = [str(d) for d in shipped_manifest_dirs()]
    assert dirs[0].endswith(os.path.join("codex_install", "manifests"))
    assert str(REPO_MANIFESTS) in dirs


@pytest.mark.parametrize("path", sorted(REPO_MANIFESTS.glob("*.toml")), ids=lambda p: p.name)
def test_every_committed_manifest_is_valid_and_named_after_its_version(path: Path) -> None:
    manifest = load_manifest(path)
    assert path.name == manifest_filename(manifest.version)
    assert render_manifest(manifest) == path.read_text(encoding="utf-8")
    assert shipped_manifest(manifest.version) == manifest


def test_the_shipped_origin_names_the_directory_the_manifest_came_from(tmp_path: Path) -> None:
    from codex_install.manifest import shipped_origin

    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (second / "codex-1.2.3.toml").write_text("")
    override = os.pathsep.join([str(first), str(second)])
    assert shipped_origin("1.2.3", override) == str(second / "codex-1.2.3.toml")
    assert shipped_origin("1.2.3", None) == "manifests/codex-1.2.3.toml"

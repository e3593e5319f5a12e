"""GitHub-shaped releases: release JSON parsing and the archive chosen for a target."""

from __future__ import annotations

import pytest

from codex_install.errors import NetworkError, NotFoundError
from codex_install.models import Asset, Release
from codex_install.sources.release import parse_release, select_asset
from codex_install.verify import (
    SUMS_NAME,
)

T = "x86_64-unknown-linux-musl"
H1, H2 = "1" * 64, "2" * 64


def release(*names: str, digest: str | None = H1) -> Release:
    return Release(
        version="0.169.0",
        tag="rust-v0.169.0",
        assets=tuple(Asset(n, f"https://example.invalid/{n}", 10, digest) for n in names),
    )


@pytest.mark.parametrize(
    ("names", "want", "layout"),
    [
        (
            [
                f"codex-package-{T}.tar.zst",
                f"codex-package-{T}.tar.gz",
                f"codex-{T}.tar.gz",
                SUMS_NAME,
            ],
            f"codex-package-{T}.tar.zst",
            "package",
        ),
        (
            [f"codex-package-{T}.tar.gz", f"codex-{T}.tar.gz", SUMS_NAME],
            f"codex-package-{T}.tar.gz",
            "package",
        ),
        ([f"codex-{T}.tar.gz"], f"codex-{T}.tar.gz", "legacy"),
        # package archives without a SUMS file can't be verified as §3 asks: use legacy
        ([f"codex-package-{T}.tar.zst", f"codex-{T}.tar.gz"], f"codex-{T}.tar.gz", "legacy"),
    ],
)
def test_asset_preference(names, want, layout):
    sel = select_asset(release(*names), T)
    assert (sel.archive.name, sel.layout) == (want, layout)
    assert (sel.sums is not None) == (layout == "package")


def test_no_asset_for_target_names_the_target():
    with pytest.raises(NotFoundError) as err:
        select_asset(release("codex-aarch64-apple-darwin.tar.gz"), T)
    assert T in str(err.value)


def test_release_json_resolves_relative_urls():
    data = {
        "tag_name": "rust-v1.2.3",
        "assets": [{"name": "a.tar.gz", "browser_download_url": "a.tar.gz", "size": 3}],
    }
    rel = parse_release(
        data, base_url="http://m/releases/1.2.3/release.json", source="mirror", origin="test"
    )
    assert rel.assets[0].url == "http://m/releases/1.2.3/a.tar.gz"
    assert rel.version == "1.2.3"


@pytest.mark.parametrize(
    "data",
    [
        [],
        {},
        {"tag_name": "v1"},
        {"tag_name": "rust-v1.2.3"},
        {"tag_name": "rust-v1.2.3", "assets": [1]},
        {"tag_name": "rust-v1.2.3", "assets": [{"name": "../x", "browser_download_url": "x"}]},
        {
            "tag_name": "rust-v1.2.3",
            "assets": [{"name": "x", "browser_download_url": "x", "size": -1}],
        },
    ],
)
def test_malformed_release_json_is_a_network_error(data):
    with pytest.raises(NetworkError):
        parse_release(data, base_url="http://x/", source="github", origin="test")


def test_a_file_mirror_may_name_local_files_a_web_document_may_not() -> None:
    from codex_install.errors import NetworkError
    from codex_install.sources.release import parse_release

    data = {
        "tag_name": "rust-v1.0.0",
        "assets": [{"name": "a.tar.gz", "browser_download_url": "a.tar.gz", "size": 1}],
    }
    local = parse_release(data, base_url="file:///m/release.json", source="mirror", origin="m")
    assert local.assets[0].url == "file:///m/a.tar.gz"
    web = parse_release(data, base_url="https://m/r/release.json", source="mirror", origin="m")
    assert web.assets[0].url == "https://m/r/a.tar.gz"
    data["assets"][0]["browser_download_url"] = "file:///etc/passwd"  # type: ignore[index]
    with pytest.raises(NetworkError, match="file: download URL"):
        parse_release(data, base_url="https://m/r/release.json", source="mirror", origin="m")

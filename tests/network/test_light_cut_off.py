"""The light GitHub request (``fetch_release_light``) never takes a cut-off answer for one: a
body that ends before its Content-Length is left to the requests path (which retries it, and
refuses it), and nothing of it is cached."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from builders import package_release
from cli_helpers import REPO
from codex_install.sources.github import LIGHT_CACHE, GitHubConfig, fetch_release_light
from codex_install.versions import parse_version
from network.hostile import hostile_server


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("https_proxy", "http_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.mark.parametrize("spec", ["latest", "0.169.0"])
def test_a_body_short_of_its_content_length_is_no_answer(tmp_path: Path, spec: str) -> None:
    rel = package_release("0.169.0")
    body = json.dumps(rel.release_json({n: f"http://127.0.0.1:9/{n}" for n in rel.files}))
    with hostile_server("cut-off", body=body.encode(), claimed=len(body) + 100) as url:
        config = GitHubConfig(api_url=url, repo=REPO, cache_dir=tmp_path)
        assert fetch_release_light(config, parse_version(spec)) is None
    assert not (tmp_path / LIGHT_CACHE).exists()


def test_a_body_of_its_content_length_is_the_answer(tmp_path: Path) -> None:
    rel = package_release("0.169.0")
    body = json.dumps(rel.release_json({n: f"http://127.0.0.1:9/{n}" for n in rel.files}))
    with hostile_server("cut-off", body=body.encode(), claimed=len(body)) as url:
        config = GitHubConfig(api_url=url, repo=REPO, cache_dir=tmp_path)
        release = fetch_release_light(config, parse_version("latest"))
    assert release is not None and release.version == "0.169.0"
    assert (tmp_path / LIGHT_CACHE).exists()

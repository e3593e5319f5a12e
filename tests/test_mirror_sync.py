"""mirror sync → install from the synced tree over HTTP and over file://."""

from __future__ import annotations

import json
import subprocess

from click.testing import CliRunner

from builders import ALL_TARGETS, TARGET, full_release, sha256
from codex_install.cli import cli
from servers.fake_http import FakeHTTPServer


def run(env, *args):
    return CliRunner().invoke(cli, list(args), obj={"env": env}, catch_exceptions=False)


def test_sync_writes_a_complete_tree(env, server, tmp_path):
    rel = full_release("0.169.0")
    rel.publish_github(server)
    out = tmp_path / "mirror"
    result = run(env, "mirror", "sync", "--output", str(out), "--json")
    assert result.exit_code == 0, result.output
    rdir = out / "releases" / "0.169.0"
    names = sorted(p.name for p in rdir.iterdir())
    want = sorted(
        [f"codex-package-{t}.tar.zst" for t in ALL_TARGETS]
        + ["codex-package_SHA256SUMS", "release.json"]
    )
    assert names == want
    doc = json.loads((rdir / "release.json").read_text())
    for asset in doc["assets"]:
        assert "/" not in asset["browser_download_url"]  # relative
        assert asset["digest"] == f"sha256:{sha256(rel.files[asset['name']])}"
    latest = json.loads((out / "channels" / "latest").read_text())
    assert latest["tag_name"] == "rust-v0.169.0"
    assert latest["assets"][0]["browser_download_url"].startswith("../releases/0.169.0/")
    assert not [p for p in (out / "releases").iterdir() if p.name.startswith(".")]


def test_sync_selected_targets_then_install_over_http_and_file(env, server, tmp_path):
    full_release("0.169.0").publish_github(server)
    out = tmp_path / "mirror"
    result = run(
        env, "mirror", "sync", "--version", "0.169.0", "--output", str(out), "--target", TARGET
    )
    assert result.exit_code == 0, result.output
    assert len(list((out / "releases/0.169.0").glob("*.tar.zst"))) == 1

    static = FakeHTTPServer().start()
    try:
        for f in out.rglob("*"):
            if f.is_file():
                static.add("/m/" + f.relative_to(out).as_posix(), f.read_bytes())
        home_env = {
            **env,
            "CODEX_HOME": str(tmp_path / "h1"),
            "GITHUB_API_URL": "http://127.0.0.1:9",
        }
        r = run(
            home_env,
            "install",
            "--no-login",
            "--target",
            TARGET,
            "--mirror",
            static.url + "/m",
            "--json",
        )
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["source"] == "mirror"
    finally:
        static.stop()

    file_env = {
        **env,
        "CODEX_HOME": str(tmp_path / "h2"),
        "CODEX_INSTALL_DIR": str(tmp_path / "b2"),
    }
    r = run(file_env, "install", "--no-login", "--target", TARGET, "--mirror", out.as_uri())
    assert r.exit_code == 0, r.output
    out_text = subprocess.run(
        [str(tmp_path / "b2" / "codex"), "--version"], capture_output=True, text=True
    ).stdout
    assert out_text.strip() == "codex-cli 0.169.0"


def test_sync_refuses_a_corrupt_asset_and_publishes_nothing(env, server, tmp_path):
    rel = full_release("0.169.0")
    rel.publish_github(server)
    server.fault(
        f"/openai/codex/releases/download/rust-v0.169.0/codex-package-{TARGET}.tar.zst", "flip:10"
    )
    out = tmp_path / "mirror"
    result = run(env, "mirror", "sync", "--output", str(out), "--target", TARGET)
    assert result.exit_code == 5
    assert not (out / "releases" / "0.169.0").exists()
    assert not (out / "channels" / "latest").exists()
    assert [p.name for p in (out / "releases").iterdir()] == []


def test_older_pinned_sync_does_not_move_latest(env, server, tmp_path):
    full_release("0.169.0").publish_github(server)
    full_release("0.168.0").publish_github(server, latest=False)
    out = tmp_path / "mirror"
    assert run(env, "mirror", "sync", "--output", str(out), "--target", TARGET).exit_code == 0
    assert (
        run(
            env, "mirror", "sync", "--version", "0.168.0", "--output", str(out), "--target", TARGET
        ).exit_code
        == 0
    )
    latest = json.loads((out / "channels" / "latest").read_text())
    assert latest["tag_name"] == "rust-v0.169.0"
    assert (out / "releases" / "0.168.0" / "release.json").exists()


def test_syncing_targets_one_at_a_time_keeps_the_earlier_ones(env, server, tmp_path):
    # A fleet with two architectures syncs each in its own job: the second must not take the
    # first one's archive out of the mirror.
    rel = full_release("0.169.0")
    rel.publish_github(server)
    out = tmp_path / "mirror"
    first, second = ALL_TARGETS[0], ALL_TARGETS[1]
    for target in (first, second):
        result = run(env, "mirror", "sync", "--output", str(out), "--target", target)
        assert result.exit_code == 0, result.output
    rdir = out / "releases" / "0.169.0"
    assert (rdir / f"codex-package-{first}.tar.zst").read_bytes() == rel.files[
        f"codex-package-{first}.tar.zst"
    ]
    listed = {a["name"] for a in json.loads((rdir / "release.json").read_text())["assets"]}
    assert {f"codex-package-{first}.tar.zst", f"codex-package-{second}.tar.zst"} <= listed
    latest = json.loads((out / "channels" / "latest").read_text())
    assert f"codex-package-{first}.tar.zst" in {a["name"] for a in latest["assets"]}


def test_a_kept_archive_that_changed_on_disk_is_dropped(env, server, tmp_path):
    rel = full_release("0.169.0")
    rel.publish_github(server)
    out = tmp_path / "mirror"
    first, second = ALL_TARGETS[0], ALL_TARGETS[1]
    assert run(env, "mirror", "sync", "--output", str(out), "--target", first).exit_code == 0
    (out / "releases/0.169.0" / f"codex-package-{first}.tar.zst").write_bytes(b"tampered")
    result = run(env, "mirror", "sync", "--output", str(out), "--target", second)
    assert result.exit_code == 0, result.output
    assert not (out / "releases/0.169.0" / f"codex-package-{first}.tar.zst").exists()
    assert "dropping" in result.stderr

"""Temp copies of the credentials live next to the real auth.json (which may be a symlink into
a shared place) and are swept there too, never while another writer may still be using one."""

from __future__ import annotations

import os
from pathlib import Path

from codex_install.auth.store import sweep_temp_files, write_auth


def _linked_home(tmp_path: Path) -> tuple[Path, Path]:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "codex-auth.json").write_text("{}\n")
    home = tmp_path / "home"
    home.mkdir()
    (home / "auth.json").symlink_to(shared / "codex-auth.json")
    return home, shared


def test_a_symlinked_auth_json_is_written_where_it_points_with_no_temp_left(tmp_path):
    home, shared = _linked_home(tmp_path)
    write_auth(home, {"OPENAI_API_KEY": "sk-x"})
    assert (home / "auth.json").is_symlink()
    assert "sk-x" in (shared / "codex-auth.json").read_text()
    assert sorted(p.name for p in shared.iterdir()) == ["codex-auth.json"]
    assert sorted(p.name for p in home.iterdir()) == ["auth.json"]


def test_stale_copies_beside_the_real_file_are_swept_but_a_live_one_is_kept(tmp_path):
    home, shared = _linked_home(tmp_path)
    dead = shared / ".codex-auth.json.abc123.tmp"
    live = shared / ".codex-auth.json.def456.tmp"
    local = home / ".auth.json.xyz.tmp"
    for copy in (dead, live, local):
        copy.write_text('{"tokens": {"refresh_token": "rt"}}')
    os.utime(dead, (1_000, 1_000))
    now = live.stat().st_mtime + 1
    unrelated = shared / ".other.json.abc.tmp"
    unrelated.write_text("x")
    os.utime(unrelated, (1_000, 1_000))
    sweep_temp_files(home, ("auth.json",), now=now)
    assert not dead.exists() and not local.exists()
    assert live.exists(), "a writer from another CODEX_HOME may be about to rename it"
    assert unrelated.exists()


def test_a_plain_auth_json_is_swept_in_codex_home_only(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "auth.json").write_text("{}")
    (home / ".auth.json.a.tmp").write_text("{}")
    sweep_temp_files(home, ("auth.json", "missing.json"))
    assert sorted(p.name for p in home.iterdir()) == ["auth.json"]

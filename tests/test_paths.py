"""paths: where things live (SPEC §5), each in one documented precedence order."""

from __future__ import annotations

from pathlib import Path

from codex_install.paths import Paths, bin_dir, cache_dir, codex_home, github_token

HOME = {"HOME": "/home/u"}


def test_codex_home_flag_then_env_then_home() -> None:
    assert codex_home(None, HOME) == Path("/home/u/.codex")
    assert codex_home(None, {**HOME, "CODEX_HOME": "/c"}) == Path("/c")
    assert codex_home("/flag", {**HOME, "CODEX_HOME": "/c"}) == Path("/flag")


def test_bin_dir_flag_then_install_dir_then_xdg_then_local_bin() -> None:
    assert bin_dir(None, HOME) == Path("/home/u/.local/bin")
    assert bin_dir(None, {**HOME, "XDG_BIN_HOME": "/x"}) == Path("/x")
    assert bin_dir(None, {**HOME, "XDG_BIN_HOME": "/x", "CODEX_INSTALL_DIR": "/i"}) == Path("/i")
    assert bin_dir("/flag", {**HOME, "CODEX_INSTALL_DIR": "/i"}) == Path("/flag")


def test_a_relative_flag_becomes_absolute() -> None:
    assert codex_home("ch", HOME).is_absolute()


def test_cache_dir_honours_its_variable_and_xdg() -> None:
    assert cache_dir({**HOME, "CODEX_INSTALL_CACHE_DIR": "/k"}) == Path("/k")
    assert cache_dir({**HOME, "XDG_CACHE_HOME": "/xc"}) == Path("/xc/codex-install")


def test_github_token_prefers_github_token_and_ignores_blank() -> None:
    assert github_token({"GH_TOKEN": "b"}) == "b"
    assert github_token({"GITHUB_TOKEN": "a", "GH_TOKEN": "b"}) == "a"
    assert github_token({"GITHUB_TOKEN": "  "}) is None


def test_the_layout_paths_derive_from_codex_home_and_bin_dir() -> None:
    paths = Paths(Path("/h"), Path("/b"), Path("/k"))
    assert paths.current == Path("/h/packages/standalone/current")
    assert paths.lock_file == Path("/h/packages/standalone/install.lock")
    assert paths.release_dir("1.0.0", "x") == Path("/h/packages/standalone/releases/1.0.0-x")
    assert (paths.bin_link, paths.auth_file) == (Path("/b/codex"), Path("/h/auth.json"))

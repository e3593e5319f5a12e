"""layout: the releases tree, the ``current`` swap and the bin-dir link (SPEC §5)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codex_install import layout
from codex_install.errors import FilesystemError, NotFoundError, UsageError
from codex_install.paths import Paths

TARGET = "x86_64-unknown-linux-musl"


def _paths(tmp_path: Path) -> Paths:
    return Paths(tmp_path / "home", tmp_path / "bin", tmp_path / "cache")


def _release(paths: Paths, version: str, target: str = TARGET, *, legacy: bool = False) -> Path:
    release = paths.release_dir(version, target)
    (release / "bin").mkdir(parents=True)
    entry = release / "bin" / "codex"
    entry.write_text(f"#!/bin/sh\necho codex-cli {version}\n")
    entry.chmod(0o755)
    layout.write_package_json(release, version, target, legacy=legacy)
    return release


def test_releases_are_listed_in_version_order_with_current_marked(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    _release(paths, "0.10.0")
    old = _release(paths, "0.9.0")
    layout.activate(paths, old)
    listed = [(r.version, r.current) for r in layout.list_releases(paths)]
    assert listed == [("0.9.0", True), ("0.10.0", False)]


def test_promote_over_the_current_release_never_leaves_current_dangling(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    release = _release(paths, "1.0.0")
    layout.activate(paths, release)
    staging = layout.new_staging_dir(paths)
    (staging / "bin").mkdir()
    (staging / "bin" / "codex").write_text("new")
    layout.promote(staging, release, paths=paths)
    assert (paths.current / "bin" / "codex").read_text() == "new"
    assert sorted(p.name for p in paths.releases.iterdir()) == ["1.0.0-" + TARGET]


def test_find_release_prefers_the_target_and_names_the_choices(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    _release(paths, "1.0.0", TARGET)
    _release(paths, "1.0.0", "aarch64-unknown-linux-musl")
    assert layout.find_release(paths, "1.0.0", TARGET).target == TARGET
    with pytest.raises(UsageError, match="several targets"):
        layout.find_release(paths, "1.0.0", None)
    with pytest.raises(NotFoundError, match="not installed for x86_64-apple-darwin"):
        layout.find_release(paths, "1.0.0", "x86_64-apple-darwin", exact=True)


def test_installed_layout_remembers_a_legacy_archive(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    assert layout.installed_layout(_release(paths, "1.0.0", legacy=True)) == "legacy"
    assert layout.installed_layout(_release(paths, "2.0.0")) == "package"
    assert layout.installed_layout(tmp_path / "nowhere") == "package"


def test_a_link_to_another_tools_codex_is_refused_with_its_removal_command(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    paths.bin_dir.mkdir(parents=True)
    paths.standalone.mkdir(parents=True)
    npm_codex = tmp_path / "lib" / "node_modules" / "codex"
    npm_codex.parent.mkdir(parents=True)
    npm_codex.write_text("#!/usr/bin/env node\n")
    os.symlink(npm_codex, paths.bin_link)
    with pytest.raises(FilesystemError) as caught:
        layout.check_writable(paths, remove_with=lambda p: f"npm uninstall -g ({p.name})")
    assert "npm uninstall -g (codex)" in str(caught.value)
    layout.check_writable(paths, force=True)  # --force replaces it


def test_clean_leftovers_removes_staging_and_trash_but_not_current(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    release = _release(paths, "1.0.0")
    layout.activate(paths, release)
    (paths.releases / ".staging-abc").mkdir()
    (paths.releases / ".trash-1.0.0-def").mkdir()
    paths.bin_dir.mkdir(parents=True)
    assert layout.clean_leftovers(paths) == 2
    assert [p.name for p in paths.releases.iterdir()] == [release.name]


def test_a_tree_of_another_uid_or_writable_by_others_is_refused_unless_forced(
    tmp_path: Path,
) -> None:
    paths = _paths(tmp_path)
    release = _release(paths, "0.1.0")
    for where in (paths.standalone, paths.releases, release):
        where.chmod(0o755)
    me = os.geteuid()
    layout.check_trusted(paths, uid=me)
    with pytest.raises(FilesystemError, match=r"owned by another user \(uid \d+, you are 4242\)"):
        layout.check_trusted(paths, uid=4242)
    layout.check_trusted(paths, uid=4242, force=True)
    release.chmod(0o775)
    shared = lambda _gid, _uid: False  # noqa: E731 - a group with other members in it
    with pytest.raises(FilesystemError, match=f"{release} is writable by group .mode 775."):
        layout.check_trusted(paths, uid=me, private_group=shared)
    layout.check_trusted(paths, uid=me, force=True, private_group=shared)


def test_writable_by_the_users_own_private_group_is_trusted(tmp_path: Path) -> None:
    # Debian and Fedora give each user a group of their own and umask 002: codex and
    # install.sh then make 775 dirs that nobody else can write.
    paths = _paths(tmp_path)
    release = _release(paths, "0.1.0")
    for where in (paths.codex_home, paths.standalone.parent, paths.standalone, paths.releases):
        where.chmod(0o775)
    release.chmod(0o775)
    asked: list[tuple[int, int]] = []

    def private(gid: int, uid: int) -> bool:
        asked.append((gid, uid))
        return True

    layout.check_trusted(paths, private_group=private)
    assert asked and all(uid == os.geteuid() for _gid, uid in asked)
    release.chmod(0o777)  # others too: no group makes that safe
    with pytest.raises(FilesystemError, match=f"{release} is writable by others .mode 777."):
        layout.check_trusted(paths, private_group=private)


def test_a_group_nobody_can_name_is_no_private_group() -> None:
    assert not layout.user_private_group(4_242_424, os.geteuid())


@pytest.mark.parametrize("above", ["codex_home", "packages"])
def test_a_writable_dir_above_the_tree_is_refused_unless_sticky(tmp_path: Path, above: str) -> None:
    paths = _paths(tmp_path)
    _release(paths, "0.1.0")
    where = paths.codex_home if above == "codex_home" else paths.standalone.parent
    for d in (paths.codex_home, paths.standalone.parent, paths.standalone, paths.releases):
        d.chmod(0o755)
    where.chmod(0o777)
    with pytest.raises(FilesystemError, match=f"{where} is writable by group and others"):
        layout.check_trusted(paths, private_group=lambda _gid, _uid: False)
    with pytest.raises(FilesystemError, match=f"{where} is writable by others"):
        layout.check_trusted(paths, private_group=lambda _gid, _uid: True)
    where.chmod(0o1777)
    layout.check_trusted(paths)
    with pytest.raises(FilesystemError, match="owned by another user"):
        layout.check_trusted(paths, uid=4242)


def test_a_tree_not_made_yet_is_trusted(tmp_path: Path) -> None:
    layout.check_trusted(_paths(tmp_path))

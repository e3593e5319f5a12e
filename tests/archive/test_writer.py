"""The no-follow writer: modes, and symlinks or files already in the staging directory
(archive/writer.py)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from codex_install.errors import (
    FilesystemError,
    UnsafeArchiveError,
)

from .helpers import (
    OK,
    build,
    extract,
    file,
    spec,
)


def test_setuid_and_sticky_bits_are_dropped(dest: Path) -> None:
    data = build([file("bin/codex", b"x", mode=0o6755), file("codex-path/rg", b"y", mode=0o1777)])
    extract(data, dest, spec())
    assert stat.S_IMODE((dest / "bin" / "codex").stat().st_mode) == 0o755
    assert stat.S_IMODE((dest / "codex-path" / "rg").stat().st_mode) == 0o755


def test_writer_never_follows_a_symlink_already_in_the_staging_dir(
    dest: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (dest / "bin").symlink_to(outside)
    with pytest.raises(UnsafeArchiveError, match="'bin': path goes through a symlink"):
        extract(build([OK]), dest, spec())
    assert not any(outside.iterdir())


def test_writer_never_overwrites_an_existing_file(dest: Path) -> None:
    (dest / "bin").mkdir()
    (dest / "bin" / "codex").write_bytes(b"old")
    with pytest.raises(FilesystemError, match="cannot write 'bin/codex'"):
        extract(build([OK]), dest, spec())
    assert (dest / "bin" / "codex").read_bytes() == b"old"


def test_missing_staging_dir_is_a_filesystem_error(tmp_path: Path) -> None:
    with pytest.raises(FilesystemError, match="cannot open staging directory"):
        extract(build([OK]), tmp_path / "missing", spec())

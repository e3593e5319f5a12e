"""Which entries an archive may hold and where they land (archive/admission.py), checked through
whole extractions as well as on the pure helpers."""

from __future__ import annotations

import stat
import tarfile
from pathlib import Path

import pytest

from codex_install.archive import ArchiveFormat, ExtractResult
from codex_install.archive.admission import link_escapes, split_member_name
from codex_install.errors import UnsafeArchiveError

from .helpers import (
    CODEX,
    NPM_PREFIX,
    OK,
    TARGET,
    E,
    assert_package_installed,
    build,
    compress,
    directory,
    extract,
    file,
    hardlink,
    make_tar,
    package_entries,
    spec,
    symlink,
)


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("bin/codex", ("bin", "codex")),
        ("./bin/codex", ("bin", "codex")),
        ("bin//codex", ("bin", "codex")),
        ("bin/", ("bin",)),
        ("./", ()),
    ],
)
def test_split_member_name_normalises(name: str, parts: tuple[str, ...]) -> None:
    assert split_member_name(name) == parts


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("/etc/passwd", "absolute path"),
        ("bin/../../x", "'..'"),
        ("..", "'..'"),
        ("", "empty name"),
    ],
)
def test_split_member_name_refuses(name: str, problem: str) -> None:
    with pytest.raises(UnsafeArchiveError, match=problem):
        split_member_name(name)


@pytest.mark.parametrize(
    ("path", "target", "escapes"),
    [
        (("codex-resources", "a"), "b", False),
        (("codex-resources", "a"), "../bin/codex", False),
        (("codex-resources", "x", "a"), "../../codex-path/rg", False),
        (("codex-resources", "a"), "../..", True),
        (("codex-resources", "a"), "../../etc/passwd", True),
        (("codex-resources", "a"), "/etc/passwd", True),
        (("codex-resources", "a"), "", True),
        (("codex-resources", "a"), "./x/../../../y", True),
    ],
)
def test_link_escapes(path: tuple[str, ...], target: str, escapes: bool) -> None:
    assert link_escapes(path, target) is escapes


def test_leading_dot_slash_entries(dest: Path) -> None:
    data = build([directory("./"), directory("./bin/"), file("./bin/codex", b"x", 0o755)])
    extract(data, dest, spec())
    assert (dest / "bin" / "codex").read_bytes() == b"x"


def test_legacy_layout_becomes_bin_codex(dest: Path) -> None:
    data = build([file(f"codex-{TARGET}", CODEX, mode=0o700)])
    result = extract(data, dest, spec(layout="legacy"))
    assert result == ExtractResult(1, len(CODEX), dest / "bin" / "codex")
    assert (dest / "bin" / "codex").read_bytes() == CODEX
    assert stat.S_IMODE((dest / "bin" / "codex").stat().st_mode) == 0o700 & 0o755
    assert sorted(p.name for p in dest.iterdir()) == ["bin"]


def test_npm_tarball_is_rerooted_at_the_vendor_dir(dest: Path) -> None:
    entries = [
        file("package/package.json", b'{"name":"@openai/codex"}'),
        file("package/bin/codex.js", b"#!/usr/bin/env node\n", mode=0o755),
        file("package/vendor/aarch64-apple-darwin/codex/codex", b"other"),
        directory(NPM_PREFIX),
        *package_entries(NPM_PREFIX),
    ]
    data = build(entries)
    result = extract(data, dest, spec(strip_prefix=NPM_PREFIX))
    assert_package_installed(dest, result)
    assert sorted(p.name for p in dest.iterdir()) == [
        "bin",
        "codex-package.json",
        "codex-path",
        "codex-resources",
    ]


DEVICE = E("bin/null", type=tarfile.CHRTYPE)


FIFO = E("codex-resources/pipe", type=tarfile.FIFOTYPE)


HOSTILE: list[tuple[str, list[E], str]] = [
    ("absolute", [OK, file("/etc/cron.d/evil")], r"'/etc/cron.d/evil': absolute path"),
    ("dotdot", [OK, file("bin/../../evil")], r"'bin/../../evil': '\.\.' path component"),
    ("dotdot-top", [OK, file("../evil")], r"'\.\./evil': '\.\.'"),
    (
        "symlink-escape",
        [OK, symlink("codex-resources/x", "../../../etc/passwd")],
        r"'codex-resources/x': symlink to '\.\./\.\./\.\./etc/passwd' points outside",
    ),
    (
        "symlink-absolute",
        [OK, symlink("codex-resources/x", "/etc/passwd")],
        r"'codex-resources/x': symlink to '/etc/passwd' points outside",
    ),
    (
        "symlink-chain-escape",
        [
            OK,
            symlink("codex-resources/up", ".."),
            symlink("codex-resources/sub", "up/.."),
        ],
        r"'codex-resources/sub': symlink chain resolves outside",
    ),
    (
        "hardlink-escape",
        [OK, hardlink("codex-resources/x", "../../etc/passwd")],
        r"'codex-resources/x': hardlink to '\.\./\.\./etc/passwd' points outside",
    ),
    (
        "hardlink-absolute",
        [OK, hardlink("codex-resources/x", "/etc/passwd")],
        r"'codex-resources/x': hardlink to '/etc/passwd' points outside",
    ),
    (
        "hardlink-to-nothing",
        [OK, hardlink("codex-resources/x", "codex-resources/missing")],
        r"'codex-resources/x': hardlink to 'codex-resources/missing' is not an earlier file",
    ),
    (
        "through-symlink",
        [
            OK,
            symlink("codex-resources/dir", "."),
            file("codex-resources/dir/evil", b"x"),
        ],
        r"'codex-resources/dir/evil': path goes through the symlink 'codex-resources/dir'",
    ),
    (
        "through-symlink-to-outside-dir",
        [symlink("bin", "/tmp"), OK],
        r"'bin': outside the package layout",
    ),
    (
        "through-file",
        [OK, file("bin/codex/evil", b"x")],
        r"'bin/codex/evil': path goes through the file 'bin/codex'",
    ),
    ("device", [OK, DEVICE], r"'bin/null': device or fifo"),
    ("fifo", [OK, FIFO], r"'codex-resources/pipe': device or fifo"),
    ("duplicate", [OK, file("bin/codex", b"evil")], r"'bin/codex': duplicate entry"),
    ("duplicate-dotslash", [OK, file("./bin/codex", b"evil")], r"'./bin/codex': duplicate"),
    (
        "file-over-dir",
        [file("codex-resources/a/b"), file("codex-resources/a"), OK],
        r"'codex-resources/a': duplicate entry \(already a directory\)",
    ),
    ("unexpected-top-level", [OK, file("README.md")], r"'README.md': outside the package layout"),
    ("unexpected-top-dir", [OK, file("lib/libc.so")], r"'lib/libc.so': outside the package"),
    ("manifest-as-dir", [OK, file("codex-package.json/x")], r"outside the package layout"),
    ("missing-entrypoint", [file("codex-path/rg")], r"archive has no bin/codex regular file"),
    ("entrypoint-is-symlink", [symlink("bin/codex", "../codex-path/rg")], r"no bin/codex"),
]


@pytest.mark.parametrize("fmt", ["tar.gz", "tar.zst", "tar"])
@pytest.mark.parametrize(
    ("entries", "message"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE]
)
def test_hostile_package_archives_are_refused(
    dest: Path, fmt: ArchiveFormat, entries: list[E], message: str
) -> None:
    data = build(entries, fmt)
    with pytest.raises(UnsafeArchiveError, match=message) as info:
        extract(data, dest, spec(fmt))
    assert info.value.exit_code == 5
    assert "\n" not in str(info.value)
    assert not Path("/etc/cron.d/evil").exists()
    assert not (dest.parent / "evil").exists()


LEGACY_HOSTILE: list[tuple[str, list[E], str]] = [
    (
        "extra-entry",
        [file(f"codex-{TARGET}", b"x"), file("README.md")],
        r"'README.md': a legacy archive holds exactly one regular file named codex-",
    ),
    ("wrong-name", [file("codex-aarch64-apple-darwin", b"x")], r"'codex-aarch64-apple-darwin'"),
    ("in-a-dir", [file(f"dist/codex-{TARGET}", b"x")], r"exactly one regular file"),
    ("symlink", [symlink(f"codex-{TARGET}", "/bin/sh")], r"exactly one regular file"),
    ("duplicate", [file(f"codex-{TARGET}"), file(f"codex-{TARGET}")], r"duplicate entry"),
    ("empty", [], r"archive has no codex-x86_64-unknown-linux-musl regular file"),
]


@pytest.mark.parametrize(
    ("entries", "message"), [h[1:] for h in LEGACY_HOSTILE], ids=[h[0] for h in LEGACY_HOSTILE]
)
def test_hostile_legacy_archives_are_refused(dest: Path, entries: list[E], message: str) -> None:
    with pytest.raises(UnsafeArchiveError, match=message):
        extract(build(entries), dest, spec(layout="legacy"))


def test_npm_tarball_with_unsafe_entry_outside_the_prefix_is_refused(dest: Path) -> None:
    entries = [file("package/../../evil"), *package_entries(NPM_PREFIX)]
    with pytest.raises(
        UnsafeArchiveError, match=r"'package/\.\./\.\./evil': '\.\.' path component"
    ):
        extract(build(entries), dest, spec(strip_prefix=NPM_PREFIX))


def test_npm_hardlink_out_of_the_prefix_is_refused(dest: Path) -> None:
    entries = [
        file("package/package.json"),
        file(NPM_PREFIX + "bin/codex"),
        hardlink(NPM_PREFIX + "bin/x", "package/package.json"),
    ]
    with pytest.raises(UnsafeArchiveError, match="not an earlier file in the archive"):
        extract(build(entries), dest, spec(strip_prefix=NPM_PREFIX))


@pytest.mark.parametrize("fmt", ["tar.gz", "tar.zst", "tar"])
def test_too_big_is_refused_before_writing(dest: Path, fmt: ArchiveFormat) -> None:
    data = build([OK, file("codex-path/rg", bytes(10_000))], fmt)
    with pytest.raises(
        UnsafeArchiveError, match=r"more than 5000 bytes \(at entry 'codex-path/rg'\)"
    ):
        extract(data, dest, spec(fmt, max_unpacked=5000))
    assert not (dest / "codex-path" / "rg").exists()


def test_zip_bomb_stays_bounded(dest: Path) -> None:
    raw = make_tar([OK]) + bytes(64 << 20)  # megabytes of zeros after the end marker
    with pytest.raises(UnsafeArchiveError, match="more than"):
        extract(compress(raw, "tar.gz"), dest, spec(max_unpacked=1 << 20))

"""Streaming extraction: layouts, formats, chunking, and every hostile archive SPEC §5 names."""

from __future__ import annotations

import gzip
import io
import os
import random
import stat
import tarfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import zstandard

from codex_install import archive
from codex_install.archive import (
    ArchiveFormat,
    ExtractResult,
    ExtractSpec,
    StreamExtractor,
    ZstdFrameWalker,
    archive_format,
    extract_file,
    link_escapes,
    parse_pax,
    split_member_name,
)
from codex_install.errors import (
    FilesystemError,
    UnsafeArchiveError,
    UsageError,
    VerificationError,
)

TARGET = "x86_64-unknown-linux-musl"
NPM_PREFIX = f"package/vendor/{TARGET}/"
MANIFEST = b'{"layoutVersion":1,"version":"0.169.0","target":"x86_64-unknown-linux-musl"}'


# --------------------------------------------------------------------------------------------
# Building archives


@dataclass(frozen=True)
class E:
    """One tar entry to write."""

    name: str
    data: bytes = b""
    type: bytes = tarfile.REGTYPE
    mode: int = 0o644
    linkname: str = ""


def file(name: str, data: bytes = b"x", mode: int = 0o644) -> E:
    return E(name, data, mode=mode)


def directory(name: str) -> E:
    return E(name, type=tarfile.DIRTYPE, mode=0o755)


def symlink(name: str, target: str) -> E:
    return E(name, type=tarfile.SYMTYPE, linkname=target, mode=0o777)


def hardlink(name: str, target: str) -> E:
    return E(name, type=tarfile.LNKTYPE, linkname=target)


def binary(size: int = 4096, seed: int = 0) -> bytes:
    """Random-ish bytes that still compress a bit, like a real executable."""
    rng = random.Random(seed)
    blocks = [rng.randbytes(512) if rng.random() < 0.6 else bytes(512) for _ in range(size // 512)]
    return b"".join(blocks) + rng.randbytes(size % 512)


CODEX = binary(200_000)


def package_entries(prefix: str = "") -> list[E]:
    return [
        directory(prefix + "bin/"),
        file(prefix + "codex-package.json", MANIFEST),
        file(prefix + "bin/codex", CODEX, mode=0o755),
        file(prefix + "bin/codex-code-mode-host", b"host", mode=0o755),
        file(prefix + "codex-path/rg", b"rg-binary", mode=0o755),
        file(prefix + "codex-resources/prompts/default.md", b"# prompt\n"),
        symlink(prefix + "codex-resources/latest.md", "prompts/default.md"),
        symlink(prefix + "codex-resources/prompts/up.md", "../prompts/default.md"),
        hardlink(prefix + "codex-resources/copy.md", prefix + "codex-resources/prompts/default.md"),
    ]


def make_tar(entries: list[E], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for e in entries:
            info = tarfile.TarInfo(e.name)
            info.type, info.mode, info.linkname = e.type, e.mode, e.linkname
            info.mtime = 1_700_000_000
            info.size = len(e.data) if e.type == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(e.data) if e.type == tarfile.REGTYPE else None)
    return buf.getvalue()


def compress(raw: bytes, fmt: ArchiveFormat) -> bytes:
    if fmt == "tar.gz":
        return gzip.compress(raw, compresslevel=6, mtime=0)
    if fmt == "tar.zst":
        return zstandard.ZstdCompressor(level=3, write_checksum=True).compress(raw)
    return raw


def build(entries: list[E], fmt: ArchiveFormat = "tar.gz") -> bytes:
    return compress(make_tar(entries), fmt)


# --------------------------------------------------------------------------------------------
# Feeding


def random_chunks(data: bytes, seed: int) -> Iterator[bytes]:
    """Chunk sizes log-uniform between 1 byte and 2 MiB, so tiny and huge both occur."""
    rng = random.Random(seed)
    pos = 0
    while pos < len(data):
        size = int(2 ** rng.uniform(0, 21))
        yield data[pos : pos + size]
        pos += size


def spec(fmt: ArchiveFormat = "tar.gz", layout: str = "package", **kw: object) -> ExtractSpec:
    return ExtractSpec(format=fmt, layout=layout, target=TARGET, **kw)  # type: ignore[arg-type]


def extract(
    data: bytes, dest: Path, extract_spec: ExtractSpec, chunks: Iterator[bytes] | None = None
) -> ExtractResult:
    with StreamExtractor(dest, extract_spec) as ex:
        for chunk in chunks if chunks is not None else random_chunks(data, 1):
            ex.feed(chunk)
        return ex.finish()


def no_worker_threads() -> bool:
    return not any(t.name.startswith("codex-") for t in threading.enumerate())


@pytest.fixture
def dest(tmp_path: Path) -> Iterator[Path]:
    staging = tmp_path / ".staging-test"
    staging.mkdir()
    yield staging
    assert no_worker_threads()


# --------------------------------------------------------------------------------------------
# Pure helpers


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("codex-package-x86_64-unknown-linux-musl.tar.zst", "tar.zst"),
        ("codex-package-aarch64-apple-darwin.tar.gz", "tar.gz"),
        ("codex-x86_64-unknown-linux-musl.tar.gz", "tar.gz"),
        ("codex-0.169.0-linux-x64.tgz", "tar.gz"),
        ("CODEX.TAR.GZ", "tar.gz"),
        ("release.tar", "tar"),
    ],
)
def test_archive_format_from_name(name: str, fmt: str) -> None:
    assert archive_format(name) == fmt


@pytest.mark.parametrize("name", ["codex.zip", "codex", "codex.gz", "codex.tar.xz", "sums.txt"])
def test_archive_format_refuses_unknown_suffixes(name: str) -> None:
    with pytest.raises(UsageError, match="unsupported archive type") as info:
        archive_format(name)
    assert info.value.exit_code == 2


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


def test_parse_pax_records() -> None:
    data = b"30 path=codex-resources/" + b"x" * 5 + b"\n" + b"13 size=4096\n"
    assert parse_pax(data) == {"path": "codex-resources/xxxxx", "size": "4096"}


@pytest.mark.parametrize("data", [b"abc path=x\n", b"99 path=x\n", b"9 pathx\n"])
def test_parse_pax_refuses_malformed(data: bytes) -> None:
    with pytest.raises(VerificationError, match="truncated or corrupt"):
        parse_pax(data)


def zstd_frames() -> bytes:
    checked = zstandard.ZstdCompressor(write_checksum=True)
    plain = zstandard.ZstdCompressor(write_content_size=False)
    skippable = (0x184D2A53).to_bytes(4, "little") + (3).to_bytes(4, "little") + b"abc"
    return checked.compress(binary(3000)) + skippable + plain.compress(b"tail" * 100)


@pytest.mark.slow
def test_zstd_frame_walker_accepts_only_whole_streams() -> None:
    data = zstd_frames()
    for cut in range(len(data) + 1):
        walker = ZstdFrameWalker()
        for chunk in random_chunks(data[:cut], cut):
            walker.update(chunk)
        # a cut right after a complete frame is a valid (shorter) stream; the tar layer and
        # the digest catch those
        assert walker.complete == (cut in frame_ends(data)), cut


def frame_ends(data: bytes) -> set[int]:
    ends = set()
    walker = ZstdFrameWalker()
    for i in range(len(data)):
        walker.update(data[i : i + 1])
        if walker.complete:
            ends.add(i + 1)
    return ends


def test_zstd_frame_walker_refuses_html() -> None:
    with pytest.raises(VerificationError, match="HTML"):
        ZstdFrameWalker().update(b"<!DOCTYPE html><html>")


# --------------------------------------------------------------------------------------------
# Good archives


def assert_package_installed(staging: Path, result: ExtractResult) -> None:
    assert result.entrypoint == staging / "bin" / "codex"
    assert (staging / "bin" / "codex").read_bytes() == CODEX
    assert stat.S_IMODE((staging / "bin" / "codex").stat().st_mode) == 0o755
    assert stat.S_IMODE((staging / "codex-package.json").stat().st_mode) == 0o644
    assert (staging / "codex-path" / "rg").read_bytes() == b"rg-binary"
    assert os.readlink(staging / "codex-resources" / "latest.md") == "prompts/default.md"
    assert (staging / "codex-resources" / "latest.md").read_bytes() == b"# prompt\n"
    assert (staging / "codex-resources" / "copy.md").stat().st_nlink == 2
    assert result.files == 6
    assert result.unpacked_bytes == len(CODEX) + len(MANIFEST) + 4 + 9 + 9


@pytest.mark.parametrize("fmt", ["tar.gz", "tar.zst", "tar"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_package_layout_in_random_chunks(dest: Path, fmt: ArchiveFormat, seed: int) -> None:
    data = build(package_entries(), fmt)
    result = extract(data, dest, spec(fmt), random_chunks(data, seed))
    assert_package_installed(dest, result)


@pytest.mark.parametrize("fmt", ["tar.gz", "tar.zst", "tar"])
def test_package_layout_one_byte_at_a_time(dest: Path, fmt: ArchiveFormat) -> None:
    data = build([file("bin/codex", b"#!/bin/sh\necho codex-cli 0.1\n", mode=0o755)], fmt)
    data_chunks = (data[i : i + 1] for i in range(len(data)))
    result = extract(data, dest, spec(fmt), data_chunks)
    assert result.files == 1
    assert (dest / "bin" / "codex").read_bytes().startswith(b"#!/bin/sh")


@pytest.mark.parametrize("fmt", ["tar.gz", "tar.zst"])
def test_multi_megabyte_binary_in_two_mib_chunks(dest: Path, fmt: ArchiveFormat) -> None:
    big = binary(5 << 20, seed=7)
    data = build([file("./bin/codex", big, mode=0o755)], fmt)
    chunks = (data[i : i + (2 << 20)] for i in range(0, len(data), 2 << 20))
    assert extract(data, dest, spec(fmt), chunks).unpacked_bytes == len(big)
    assert (dest / "bin" / "codex").read_bytes() == big


@pytest.mark.parametrize("tar_format", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT])
def test_long_names(dest: Path, tar_format: int) -> None:
    deep = "codex-resources/" + "/".join(["d" * 60] * 4) + "/file.md"
    data = compress(make_tar([file("bin/codex", b"x"), file(deep, b"deep")], tar_format), "tar.gz")
    extract(data, dest, spec())
    assert (dest / deep).read_bytes() == b"deep"


def test_leading_dot_slash_entries(dest: Path) -> None:
    data = build([directory("./"), directory("./bin/"), file("./bin/codex", b"x", 0o755)])
    extract(data, dest, spec())
    assert (dest / "bin" / "codex").read_bytes() == b"x"


def test_concatenated_gzip_members_and_zstd_frames(dest: Path, tmp_path: Path) -> None:
    raw = make_tar(package_entries())
    half = len(raw) // 2
    gz = gzip.compress(raw[:half]) + gzip.compress(raw[half:])
    assert_package_installed(dest, extract(gz, dest, spec("tar.gz")))
    other = tmp_path / "zst"
    other.mkdir()
    cctx = zstandard.ZstdCompressor(write_checksum=True)
    zst = cctx.compress(raw[:half]) + cctx.compress(raw[half:])
    assert_package_installed(other, extract(zst, other, spec("tar.zst")))


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


def test_setuid_and_sticky_bits_are_dropped(dest: Path) -> None:
    data = build([file("bin/codex", b"x", mode=0o6755), file("codex-path/rg", b"y", mode=0o1777)])
    extract(data, dest, spec())
    assert stat.S_IMODE((dest / "bin" / "codex").stat().st_mode) == 0o755
    assert stat.S_IMODE((dest / "codex-path" / "rg").stat().st_mode) == 0o755


def test_extract_file_reads_a_local_archive(dest: Path, tmp_path: Path) -> None:
    archive = tmp_path / "codex-package.tar.zst"
    archive.write_bytes(build(package_entries(), "tar.zst"))
    result = extract_file(archive, dest, spec("tar.zst"), chunk_size=4096)
    assert_package_installed(dest, result)


def test_extract_file_missing_archive_is_a_usage_error(dest: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read archive"):
        extract_file(tmp_path / "nope.tar.gz", dest, spec())


# --------------------------------------------------------------------------------------------
# Hostile archives


DEVICE = E("bin/null", type=tarfile.CHRTYPE)
FIFO = E("codex-resources/pipe", type=tarfile.FIFOTYPE)
OK = file("bin/codex", b"x", mode=0o755)

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


def test_feed_raises_promptly_once_the_archive_is_refused(dest: Path) -> None:
    data = build([file("/etc/evil"), file("codex-resources/big", binary(8 << 20))], "tar")
    fed = 0
    with (
        pytest.raises(UnsafeArchiveError, match="absolute path"),
        StreamExtractor(dest, spec("tar")) as ex,
    ):
        for i in range(0, len(data), 64 << 10):
            ex.feed(data[i : i + (64 << 10)])
            fed += 1 << 16
    assert fed < len(data) // 2


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


# --------------------------------------------------------------------------------------------
# Truncated, corrupt, not an archive


def good(fmt: ArchiveFormat) -> bytes:
    return build(package_entries(), fmt)


@pytest.mark.parametrize("fmt", ["tar.gz", "tar.zst", "tar"])
@pytest.mark.parametrize("keep", [0.0, 0.1, 0.5, 0.9, 0.999, -4, -1])
def test_truncated_stream_is_refused(dest: Path, fmt: ArchiveFormat, keep: float) -> None:
    data = good(fmt)
    cut = int(len(data) * keep) if keep >= 0 else len(data) + int(keep)
    with pytest.raises(VerificationError, match="archive is truncated or corrupt") as info:
        extract(data[:cut], dest, spec(fmt))
    assert type(info.value) is VerificationError


@pytest.mark.parametrize("fmt", ["tar.gz", "tar.zst"])
@pytest.mark.parametrize("where", [0.3, 0.6, 0.95])
def test_corrupted_bytes_are_refused(dest: Path, fmt: ArchiveFormat, where: float) -> None:
    data = bytearray(good(fmt))
    pos = int(len(data) * where)
    data[pos : pos + 8] = bytes(b ^ 0x5A for b in data[pos : pos + 8])
    with pytest.raises(VerificationError, match="archive is truncated or corrupt"):
        extract(bytes(data), dest, spec(fmt))


def pax_record(key: str, value: bytes) -> bytes:
    body = f" {key}=".encode() + value + b"\n"
    length = len(body) + len(str(len(body)))
    length = len(body) + len(str(length))
    return str(length).encode() + body


def raw_pax_tar(record: bytes, name: str = "bin/codex") -> bytes:
    """A hand-made pax header ``record`` (which tarfile would never write) before ``name``."""
    pax = tarfile.TarInfo("././@PaxHeader")
    pax.type, pax.size = tarfile.XHDTYPE, len(record)
    entry = tarfile.TarInfo(name)
    header = pax.tobuf(tarfile.USTAR_FORMAT) + record.ljust(512, b"\0")
    return header + entry.tobuf(tarfile.USTAR_FORMAT) + bytes(1024)


@pytest.mark.parametrize(
    ("record", "error", "message"),
    [
        (pax_record("size", b"-4096"), VerificationError, "malformed pax size"),
        (pax_record("path", b"codex-resources/a\0b"), UnsafeArchiveError, "NUL byte in name"),
        (pax_record("path", b"/etc/profile"), UnsafeArchiveError, "'/etc/profile': absolute"),
        (pax_record("GNU.sparse.map", b"0,10"), UnsafeArchiveError, "unsupported entry type"),
    ],
)
def test_hand_made_pax_headers(
    dest: Path, record: bytes, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        extract(raw_pax_tar(record), dest, spec("tar"))


def test_corrupted_tar_header_is_refused(dest: Path) -> None:
    data = bytearray(good("tar"))
    data[100:108] = b"garbage!"
    with pytest.raises(VerificationError, match="bad tar header"):
        extract(bytes(data), dest, spec("tar"))


HTML = b"<!DOCTYPE html>\n<html><head><title>Rate limited</title></head><body>...</body></html>\n"


@pytest.mark.parametrize("fmt", ["tar.gz", "tar.zst", "tar"])
def test_html_page_instead_of_an_archive(dest: Path, fmt: ArchiveFormat) -> None:
    with pytest.raises(VerificationError, match="got an HTML/XML page, not an archive"):
        extract(HTML * 20, dest, spec(fmt))


@pytest.mark.parametrize("fmt", ["tar.gz", "tar.zst", "tar"])
def test_empty_download(dest: Path, fmt: ArchiveFormat) -> None:
    with pytest.raises(VerificationError, match="archive is truncated or corrupt"):
        extract(b"", dest, spec(fmt))


# --------------------------------------------------------------------------------------------
# Lifecycle


@pytest.mark.parametrize("fmt", ["tar.gz", "tar.zst", "tar"])
def test_abort_mid_stream_never_raises_and_ends_the_threads(dest: Path, fmt: ArchiveFormat) -> None:
    data = good(fmt)
    ex = StreamExtractor(dest, spec(fmt))
    ex.feed(data[: len(data) // 2])
    ex.abort()
    ex.abort()
    assert no_worker_threads()


def test_abort_after_a_failure_never_raises(dest: Path) -> None:
    ex = StreamExtractor(dest, spec("tar"))
    with pytest.raises(UnsafeArchiveError):
        ex.feed(make_tar([file("/abs")]))
        ex.finish()
    ex.abort()


def test_abort_unblocks_a_producer_waiting_on_a_full_pipe(
    dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stalled disk must not hang the download: abort() from another thread wakes feed()."""
    stall = threading.Event()

    def stalled_extract(chunks: Iterator[bytes], *_: object) -> ExtractResult:
        stall.wait()
        for _chunk in chunks:
            pass
        raise AssertionError("unreachable: abort stops the pipe")

    monkeypatch.setattr(archive, "_extract", stalled_extract)
    ex = StreamExtractor(dest, spec("tar"))
    fed = threading.Semaphore(0)
    errors: list[BaseException] = []

    def produce() -> None:
        try:
            while True:
                ex.feed(bytes(1 << 20))
                fed.release()
        except BaseException as e:
            errors.append(e)

    producer = threading.Thread(target=produce)
    producer.start()
    for _ in range(archive._PIPE_LIMIT >> 20):  # the pipe fills, then feed() blocks
        assert fed.acquire(timeout=10)
    assert not fed.acquire(timeout=0.2)
    threading.Timer(0.2, stall.set).start()
    ex.abort()
    producer.join(timeout=10)
    assert not producer.is_alive()
    assert [type(e) for e in errors] == [RuntimeError]


def test_context_manager_aborts_on_exception(dest: Path) -> None:
    data = good("tar.gz")
    with pytest.raises(KeyError), StreamExtractor(dest, spec()) as ex:
        ex.feed(data[:1000])
        raise KeyError("download dropped")
    assert no_worker_threads()


def test_finish_twice_returns_the_same_result(dest: Path) -> None:
    data = good("tar.zst")
    with StreamExtractor(dest, spec("tar.zst")) as ex:
        ex.feed(data)
        first = ex.finish()
        assert ex.finish() == first
    with pytest.raises(RuntimeError):
        ex.feed(b"more")

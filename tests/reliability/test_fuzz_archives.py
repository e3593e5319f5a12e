"""Generated hostile archives (odd tar headers, links, devices, long names, truncation, flipped
bytes, every compression): extracted inside the staging dir or refused with our own error —
never an unhandled exception, never a byte written outside (SPEC §5)."""

from __future__ import annotations

import io
import os
import tarfile
import tempfile
from pathlib import Path

import pytest
import zstandard
from hypothesis import example, given
from hypothesis import strategies as st

from builders import TARGET, gz, package_tar, sha256, zst
from cli_helpers import install
from codex_install.archive import ExtractSpec, extract_file

from .fuzzing import SLOWER, accepts_or_refuses

LAYOUT_NAMES = [
    "codex-package.json",
    "bin",
    "bin/",
    "bin/codex",
    "bin/codex-code-mode-host",
    "codex-path/rg",
    "codex-resources/x/y.md",
    f"codex-{TARGET}",
    "./bin/codex",
    f"package/vendor/{TARGET}/bin/codex",
    f"package/vendor/{TARGET}/codex-package.json",
]
HOSTILE_NAMES = [
    "../evil",
    "/etc/evil",
    "bin/../../evil",
    "bin/codex/inner",
    "",
    ".",
    "./",
    "bin//codex",
    "codex-resources/" + "d/" * 60 + "deep",
    "codex-resources/" + "n" * 200,
    "bin/\u00e9\u0301",
    "codex-resources/..",
    "bin/./../bin/codex",
]
names = st.one_of(
    st.sampled_from(LAYOUT_NAMES + HOSTILE_NAMES),
    st.text(st.sampled_from("ab./\\-\u00e9"), max_size=12),
)
link_targets = st.one_of(
    st.sampled_from(
        [
            "codex",
            "../codex",
            "../../..",
            "/bin/sh",
            "",
            "bin/codex",
            "../codex-path/rg",
            "x/../../../y",
        ]
    ),
    names,
)
TYPES = [
    tarfile.REGTYPE,
    tarfile.AREGTYPE,
    tarfile.DIRTYPE,
    tarfile.SYMTYPE,
    tarfile.LNKTYPE,
    tarfile.FIFOTYPE,
    tarfile.CHRTYPE,
    tarfile.BLKTYPE,
    tarfile.CONTTYPE,
    tarfile.GNUTYPE_SPARSE,
    b"V",
    b"Z",
    b"7",
]
members = st.tuples(
    names, st.sampled_from(TYPES), st.binary(max_size=64), link_targets, st.integers(0, 0o7777)
)


def build(entries: list[tuple[str, bytes, bytes, str, int]], fmt: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for name, kind, data, link, mode in entries:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.linkname = kind, mode, link
            if kind in (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE):
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
            else:
                tf.addfile(info)
    return buf.getvalue()


@st.composite
def archives(draw: st.DrawFn) -> tuple[bytes, str, str]:
    """(archive bytes, compression, layout): a release-like start, then hostile entries."""
    layout = draw(st.sampled_from(["package", "legacy", "npm"]))
    prefix = f"package/vendor/{TARGET}/" if layout == "npm" else draw(st.sampled_from(["", "./"]))
    entries: list[tuple[str, bytes, bytes, str, int]] = []
    if draw(st.integers(0, 4)):
        if layout == "legacy":
            entries = [(prefix + f"codex-{TARGET}", tarfile.REGTYPE, b"#!/bin/sh\n", "", 0o755)]
        else:
            entries = [
                (prefix + "codex-package.json", tarfile.REGTYPE, b"{}", "", 0o644),
                (prefix + "bin", tarfile.DIRTYPE, b"", "", 0o755),
                (prefix + "bin/codex", tarfile.REGTYPE, b"#!/bin/sh\n", "", 0o755),
            ]
    extra = draw(st.lists(members, max_size=3))
    entries += [(prefix + n if draw(st.booleans()) else n, *rest) for n, *rest in extra]
    fmt = draw(st.sampled_from([tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT]))
    try:
        tar = build(entries, fmt)
    except (ValueError, UnicodeError):
        tar = build([], fmt)  # a name ustar cannot hold; the writer refuses, not our reader
    compression = draw(st.sampled_from(["tar", "tar.gz", "tar.zst"]))
    data = {"tar": tar, "tar.gz": gz(tar), "tar.zst": zst(tar)}[compression]
    damage = draw(st.sampled_from(["none", "none", "none", "flip", "truncate", "append"]))
    if damage != "none" and data:
        at = draw(st.integers(0, len(data) - 1))
        if damage == "flip":
            data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
        elif damage == "truncate":
            data = data[:at]
        else:
            data = data + draw(st.binary(min_size=1, max_size=2048))
    return data, compression, layout


def _outside(root: Path, dest: Path) -> list[str]:
    """Anything under ``root`` but outside ``dest`` other than the archive itself."""
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p != dest and dest not in p.parents and p.name != "archive"
    )


@SLOWER
@given(archives())
@example(
    (
        gz(
            build(
                [
                    ("bin/codex", tarfile.REGTYPE, b"x", "", 0o755),
                    ("bin/codex", tarfile.SYMTYPE, b"", "../../x", 0o777),
                ],
                tarfile.GNU_FORMAT,
            )
        ),
        "tar.gz",
        "package",
    )
)
def test_generated_archives_extract_inside_or_are_refused(archive):
    data, compression, layout = archive
    spec = ExtractSpec(
        format=compression,  # type: ignore[arg-type]
        layout="legacy" if layout == "legacy" else "package",
        target=TARGET,
        strip_prefix=f"package/vendor/{TARGET}/" if layout == "npm" else None,
        max_unpacked=1 << 20,
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        dest = root / "staging"
        dest.mkdir()
        (root / "archive").write_bytes(data)
        result = accepts_or_refuses(extract_file, root / "archive", dest, spec)
        assert _outside(root, dest) == [], "an entry was written outside the staging dir"
        real = os.path.realpath(dest)
        for dirpath, dirnames, filenames in os.walk(dest):
            for name in dirnames + filenames:
                path = os.path.join(dirpath, name)
                assert os.path.commonpath([real, os.path.realpath(path)]) == real, path
                assert not Path(path).is_block_device() and not Path(path).is_char_device()
                assert not Path(path).is_fifo()
        if result is not None:
            assert result.entrypoint.is_file() and not result.entrypoint.is_symlink()
            assert dest in result.entrypoint.parents


@pytest.mark.slow  # decompresses 4 GiB before the refusal: ~1.4 s
def test_a_zstd_bomb_through_the_cli_is_refused_at_the_real_cap(env, tmp_path):
    """Frames of zeros after a valid release: 40 GiB from 2 MB, refused once 4 GiB came out
    (about 0.5 s here), exit 5, one line, nothing installed."""
    frame = zstandard.ZstdCompressor(level=1).compress(bytes(64 << 20))
    data = zst(package_tar("0.169.0")) + frame * 640
    archive = tmp_path / f"codex-package-{TARGET}.tar.zst"
    archive.write_bytes(data)
    result = install(env, "--archive", str(archive), "--sha256", sha256(data))
    assert result.exit_code == 5, result.output
    assert result.stderr.strip().splitlines() == [
        "codex-install: error: archive unpacks to more than 4294967296 bytes (after its end)"
    ]
    home = Path(env["CODEX_HOME"]) / "packages/standalone"
    assert not (home / "current").exists()
    assert not (home / "releases").exists() or list((home / "releases").iterdir()) == []
    assert not (Path(env["CODEX_INSTALL_DIR"]) / "codex").exists()

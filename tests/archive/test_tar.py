"""The streaming tar reader: pax and GNU headers, corrupt headers (archive/tar.py)."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from codex_install.archive.tar import parse_pax
from codex_install.errors import (
    UnsafeArchiveError,
    VerificationError,
)

from .helpers import (
    compress,
    extract,
    file,
    good,
    make_tar,
    spec,
)


def test_parse_pax_records() -> None:
    data = b"30 path=codex-resources/" + b"x" * 5 + b"\n" + b"13 size=4096\n"
    assert parse_pax(data) == {"path": "codex-resources/xxxxx", "size": "4096"}


@pytest.mark.parametrize(
    "data",
    [
        b"abc path=x\n",
        b"99 path=x\n",
        b"9 pathx\n",
        b"6 a=b\nxyz",  # a second record with no length: once parsed over and over for ever
        b"6 a=b\n0 ",  # a zero length would not move on
        b"6 a=b\n-6 x=y\n",
        b"1" * 64 + b" x=y\n",  # more digits than any length
        b" 5 x=\n",
    ],
)
def test_parse_pax_refuses_malformed(data: bytes) -> None:
    with pytest.raises(VerificationError, match="truncated or corrupt"):
        parse_pax(data)


@pytest.mark.parametrize("tar_format", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT])
def test_long_names(dest: Path, tar_format: int) -> None:
    deep = "codex-resources/" + "/".join(["d" * 60] * 4) + "/file.md"
    data = compress(make_tar([file("bin/codex", b"x"), file(deep, b"deep")], tar_format), "tar.gz")
    extract(data, dest, spec())
    assert (dest / deep).read_bytes() == b"deep"


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

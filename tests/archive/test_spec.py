"""Archive formats from file names (archive/spec.py)."""

from __future__ import annotations

import pytest

from codex_install.archive.spec import archive_format
from codex_install.errors import UsageError


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

from __future__ import annotations

import pytest

from codex_install.errors import UnsupportedPlatformError
from codex_install.platforms import detect_target, host_target, validate_target


@pytest.mark.parametrize(
    ("system", "machine", "translated", "target"),
    [
        ("Darwin", "arm64", False, "aarch64-apple-darwin"),
        ("Darwin", "aarch64", False, "aarch64-apple-darwin"),
        ("Darwin", "x86_64", False, "x86_64-apple-darwin"),
        ("Darwin", "x86_64", True, "aarch64-apple-darwin"),  # Rosetta 2 promotion
        ("Linux", "x86_64", False, "x86_64-unknown-linux-musl"),
        ("Linux", "amd64", False, "x86_64-unknown-linux-musl"),
        ("Linux", "aarch64", False, "aarch64-unknown-linux-musl"),
        ("Linux", "arm64", False, "aarch64-unknown-linux-musl"),
    ],
)
def test_supported_platforms_map_to_their_target(system, machine, translated, target):
    assert detect_target(system, machine, translated) == target


@pytest.mark.parametrize(
    ("system", "machine"),
    [
        ("Linux", "armv7l"),
        ("Linux", "i686"),
        ("Linux", "riscv64"),
        ("FreeBSD", "amd64"),
        ("SunOS", "i86pc"),
        ("", ""),
    ],
)
def test_unsupported_platforms_are_refused_with_exit_6(system, machine):
    with pytest.raises(UnsupportedPlatformError) as err:
        detect_target(system, machine)
    assert err.value.exit_code == 6
    assert "macOS" in str(err.value) and "Linux" in str(err.value)


def test_windows_points_to_the_official_installer():
    with pytest.raises(UnsupportedPlatformError) as err:
        detect_target("Windows", "AMD64")
    assert "winget" in str(err.value)


def test_rosetta_is_detected_through_sysctl():
    calls: list[list[str]] = []

    def run(argv: list[str]) -> str:
        calls.append(argv)
        return "1\n"

    assert host_target("Darwin", "x86_64", run) == "aarch64-apple-darwin"
    assert calls == [["sysctl", "-n", "sysctl.proc_translated"]]
    assert host_target("Darwin", "x86_64", lambda _argv: "0\n") == "x86_64-apple-darwin"


def test_sysctl_failure_means_not_translated():
    def boom(_argv: list[str]) -> str:
        raise OSError("no sysctl")

    assert host_target("Darwin", "x86_64", boom) == "x86_64-apple-darwin"


def test_target_override_accepts_gnu_and_rejects_garbage():
    assert validate_target("x86_64-unknown-linux-gnu") == "x86_64-unknown-linux-gnu"
    with pytest.raises(UnsupportedPlatformError):
        validate_target("x86_64-pc-windows-msvc")

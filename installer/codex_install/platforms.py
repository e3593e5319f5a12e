"""Platform detection (SPEC §2): a pure function of (system, machine, translated)."""

from __future__ import annotations

import platform
import subprocess
from collections.abc import Callable

from codex_install.errors import UnsupportedPlatformError

SUPPORTED_TARGETS: tuple[str, ...] = (
    "aarch64-apple-darwin",
    "x86_64-apple-darwin",
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
)

# Accepted by --target on top of the detected ones: deliberate glibc builds.
KNOWN_TARGETS: tuple[str, ...] = (
    *SUPPORTED_TARGETS,
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
)

NPM_PLATFORMS: dict[str, str] = {
    "aarch64-apple-darwin": "darwin-arm64",
    "x86_64-apple-darwin": "darwin-x64",
    "x86_64-unknown-linux-musl": "linux-x64",
    "aarch64-unknown-linux-musl": "linux-arm64",
    "x86_64-unknown-linux-gnu": "linux-x64",
    "aarch64-unknown-linux-gnu": "linux-arm64",
}

_ARCH = {"arm64": "aarch64", "aarch64": "aarch64", "x86_64": "x86_64", "amd64": "x86_64"}
_SUPPORTED_TEXT = "macOS (arm64, x86_64) and Linux (x86_64, arm64)"


def detect_target(system: str, machine: str, translated: bool = False) -> str:
    """Map ``uname -s``/``uname -m`` (and the Rosetta flag) to a Codex target triple."""
    system_l = system.lower()
    arch = _ARCH.get(machine.lower())
    if system_l == "darwin" and arch is not None:
        # Under Rosetta 2 an x86_64 Python runs on Apple silicon: the native build is faster.
        native = "aarch64" if translated else arch
        return f"{native}-apple-darwin"
    if system_l == "linux" and arch is not None:
        # musl builds are static and run on every distribution, Alpine included.
        return f"{arch}-unknown-linux-musl"
    if system_l.startswith(("windows", "cygwin", "msys", "mingw")):
        raise UnsupportedPlatformError(
            f"Windows is not supported by codex-install; it supports {_SUPPORTED_TEXT}",
            hint="use the official PowerShell installer or `winget install OpenAI.Codex`",
        )
    raise UnsupportedPlatformError(
        f"unsupported platform {system or '?'}/{machine or '?'}: Codex builds exist for "
        f"{_SUPPORTED_TEXT}"
    )


def validate_target(target: str) -> str:
    """Check a ``--target`` override."""
    if target not in KNOWN_TARGETS:
        raise UnsupportedPlatformError(
            f"unknown target {target!r}; known targets: {', '.join(KNOWN_TARGETS)}"
        )
    return target


def rosetta_translated(run: Callable[[list[str]], str] | None = None) -> bool:
    """True when this (x86_64) process runs under Rosetta 2."""

    def _run(argv: list[str]) -> str:
        return subprocess.run(argv, capture_output=True, text=True, timeout=5, check=False).stdout

    try:
        out = (run or _run)(["sysctl", "-n", "sysctl.proc_translated"])
    except (OSError, subprocess.SubprocessError):
        return False
    return out.strip() == "1"


def host_target(
    system: str | None = None,
    machine: str | None = None,
    run: Callable[[list[str]], str] | None = None,
) -> str:
    """The target of this machine (I/O edge around :func:`detect_target`)."""
    system = platform.system() if system is None else system
    machine = platform.machine() if machine is None else machine
    translated = (
        system == "Darwin" and machine.lower() in ("x86_64", "amd64") and rosetta_translated(run)
    )
    return detect_target(system, machine, translated)


def resolve_target(override: str | None) -> str:
    return validate_target(override) if override else host_target()


def host_target_or_none() -> str | None:
    """This machine's target, or None where Codex has no build (to match any installed one)."""
    try:
        return resolve_target(None)
    except UnsupportedPlatformError:
        return None

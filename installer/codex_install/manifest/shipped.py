"""The release manifests that ship inside the wheel (SPEC §7), and the directories that
``CODEX_INSTALL_MANIFEST_DIR`` puts in their place (tests, air-gapped fleets)."""

from __future__ import annotations

import importlib.resources
import os
from collections.abc import Sequence
from importlib.abc import Traversable
from pathlib import Path

from codex_install.errors import UsageError
from codex_install.manifest.document import manifest_filename, parse_manifest, read_manifest_text
from codex_install.models import Manifest
from codex_install.versions import parse_version

SHIPPED_PACKAGE_DIR = "manifests"  # inside the codex_install package (wheel force-include)
MANIFEST_DIR_ENV = "CODEX_INSTALL_MANIFEST_DIR"


def shipped_manifest_dirs() -> tuple[Traversable, ...]:
    """Where shipped manifests live: the wheel's package data, else the source checkout's
    top-level ``manifests/`` (editable installs do not apply the wheel's force-include)."""
    dirs: list[Traversable] = [importlib.resources.files("codex_install") / SHIPPED_PACKAGE_DIR]
    package_dir = Path(__file__).resolve().parent.parent
    repo = package_dir.parent.parent
    if package_dir.parent.name == "installer" and (repo / "pyproject.toml").is_file():
        dirs.append(repo / "manifests")
    return tuple(dirs)


def manifest_dirs(value: str | None) -> tuple[Path, ...] | None:
    """``CODEX_INSTALL_MANIFEST_DIR`` (``os.pathsep``-separated) as directories, or None for
    the shipped ones."""
    if not value:
        return None
    return tuple(Path(part) for part in value.split(os.pathsep) if part)


def shipped_origin(version: str, override: str | None) -> str:
    """How messages and ``--json`` name the shipped manifest for ``version``: the file it was
    read from among the ``CODEX_INSTALL_MANIFEST_DIR`` directories, else the package's own."""
    name = manifest_filename(version)
    for directory in manifest_dirs(override) or ():
        if (directory / name).is_file():
            return str(directory / name)
    return f"{SHIPPED_PACKAGE_DIR}/{name}"


def shipped_manifest(version: str, dirs: Sequence[Traversable] | None = None) -> Manifest | None:
    """The manifest shipped for ``version``, or None when there is none (or it is "latest")."""
    spec = parse_version(version)
    if spec.version is None:
        return None
    name = manifest_filename(spec.version)
    for directory in shipped_manifest_dirs() if dirs is None else dirs:
        candidate = directory / name
        if candidate.is_file():
            # A CODEX_INSTALL_MANIFEST_DIR file is read as any manifest file is; the package's
            # own data is ours.
            text = (
                read_manifest_text(candidate)
                if isinstance(candidate, Path)
                else candidate.read_text(encoding="utf-8")
            )
            manifest = parse_manifest(text, f"{SHIPPED_PACKAGE_DIR}/{name}")
            if manifest.version != spec.version:
                raise UsageError(
                    f"shipped manifest {name} pins version {manifest.version}, not {spec.version}"
                )
            return manifest
    return None

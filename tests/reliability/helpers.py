"""Releases, layouts and invariant checks shared by the reliability tests."""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import stat
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

from builders import TARGET, FakeRelease, codex_script, gz, legacy_tar, zst
from codex_install.errors import CodexInstallError
from codex_install.http.plan import NetworkPlan
from codex_install.install import Hooks, InstallRequest, install
from codex_install.layout import KEEP_PREFIX, current_dir, is_complete
from codex_install.paths import Paths
from codex_install.sources.dispatch import SourceOptions
from codex_install.sources.github import GitHubConfig
from codex_install.versions import parse_version

REPO = "openai/codex"
CHILD = Path(__file__).with_name("install_child.py")
INSTALLER = Path(__file__).parents[2] / "installer"


def package_tar(
    version: str, *, blob_size: int = 0, seed: int = 0, script: bytes | None = None
) -> bytes:
    """A package-layout tar; ``blob_size`` random bytes make it big and incompressible."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:

        def add(name: str, data: bytes | None, mode: int = 0o644) -> None:
            info = tarfile.TarInfo(name)
            info.mtime = 1_700_000_000
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(info)
                return
            info.size, info.mode = len(data), mode
            tf.addfile(info, io.BytesIO(data))

        pkg = {
            "layoutVersion": 1,
            "version": version,
            "target": TARGET,
            "variant": "codex",
            "entrypoint": "bin/codex",
            "resourcesDir": "codex-resources",
            "pathDir": "codex-path",
        }
        add("codex-package.json", json.dumps(pkg).encode())
        add("bin", None)
        add("bin/codex", script or codex_script(version), 0o755)
        add("bin/codex-code-mode-host", b"#!/bin/sh\nexit 0\n", 0o755)
        add("codex-path", None)
        add("codex-path/rg", b"#!/bin/sh\necho rg\n", 0o755)
        add("codex-resources", None)
        add("codex-resources/prompt.md", f"You are Codex {version}.\n".encode())
        if blob_size:
            add("codex-resources/blob.bin", random.Random(seed).randbytes(blob_size))
    return buf.getvalue()


def tar_files(tar: bytes) -> dict[str, bytes]:
    """Regular files of a tar and their bytes (the truth an installed release must equal)."""
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tar)) as tf:
        for m in tf.getmembers():
            if m.isfile():
                f = tf.extractfile(m)
                assert f is not None
                out[m.name] = f.read()
    return out


def release(
    version: str, *, blob_size: int = 0, seed: int = 0, script: bytes | None = None
) -> tuple[FakeRelease, bytes]:
    """A release with .tar.zst, .tar.gz, SUMS and a legacy archive; also returns the tar."""
    tar = package_tar(version, blob_size=blob_size, seed=seed, script=script)
    rel = FakeRelease(version)
    rel.files[f"codex-package-{TARGET}.tar.zst"] = zst(tar)
    rel.files[f"codex-package-{TARGET}.tar.gz"] = gz(tar)
    rel.with_sums()
    rel.files[f"codex-{TARGET}.tar.gz"] = gz(legacy_tar(version, script=script))
    return rel, tar


def publish_github(add: object, base_url: str, rel: FakeRelease, *, latest: bool = True) -> None:
    """Serve ``rel`` as the GitHub API + download host (``add(path, bytes)`` registers a route)."""
    assert callable(add)
    urls = {}
    for name, data in rel.files.items():
        path = f"/{REPO}/releases/download/{rel.tag}/{name}"
        add(path, data)
        urls[name] = base_url + path
    body = json.dumps(rel.release_json(urls)).encode()
    add(f"/repos/{REPO}/releases/tags/{rel.tag}", body)
    if latest:
        add(f"/repos/{REPO}/releases/latest", body)


def publish_mirror(add: object, rel: FakeRelease, base: str = "/mirror") -> None:
    assert callable(add)
    for name, data in rel.files.items():
        add(f"{base}/releases/{rel.version}/{name}", data)
    body = json.dumps(rel.release_json({n: n for n in rel.files})).encode()
    add(f"{base}/releases/{rel.version}/release.json", body)


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """Every entry under ``root``: (kind + content digest or link target, permission bits)."""
    out: dict[str, tuple[str, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            st = p.lstat()
            rel = str(p.relative_to(root))
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link:" + os.readlink(p), 0)
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode))
            else:
                out[rel] = (
                    "sha256:" + hashlib.sha256(p.read_bytes()).hexdigest(),
                    stat.S_IMODE(st.st_mode),
                )
    return out


def run_codex(paths: Paths) -> str:
    """What ``codex --version`` prints through the bin-dir link, as a user would run it."""
    proc = subprocess.run(
        [str(paths.bin_link), "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    return proc.stdout.strip() if proc.returncode == 0 else f"<exit {proc.returncode}>"


def current_version(paths: Paths) -> str | None:
    try:
        name = os.readlink(paths.current)
    except OSError:
        return None
    return name.removeprefix("releases/").removesuffix(f"-{TARGET}")


def leftovers(paths: Paths) -> list[str]:
    """Staging, trash and temp-link debris an install may leave behind when killed."""
    found: list[str] = []
    if paths.releases.is_dir():
        found += [p.name for p in paths.releases.iterdir() if p.name.startswith(".")]
    if paths.standalone.is_dir():
        found += [p.name for p in paths.standalone.iterdir() if ".tmp-" in p.name]
    if paths.bin_dir.is_dir():
        found += [p.name for p in paths.bin_dir.iterdir() if ".tmp-" in p.name]
    return found


def assert_dir_matches(release_dir: Path, tar: bytes) -> None:
    """A release dir holds exactly the archive's bytes (never a corrupted install)."""
    assert is_complete(release_dir), f"{release_dir} is not complete"
    for name, data in tar_files(tar).items():
        got = (release_dir / name).read_bytes()
        assert got == data, f"{name} differs from the archive ({len(got)} vs {len(data)} bytes)"
    assert os.access(release_dir / "bin" / "codex", os.X_OK)


def assert_release_matches(paths: Paths, version: str, tar: bytes) -> None:
    assert_dir_matches(paths.release_dir(version, TARGET), tar)


def assert_consistent(paths: Paths, allowed: dict[str, bytes]) -> str:
    """`current` names a complete release whose bytes equal its archive, and the bin link runs
    that same version. ``allowed`` maps each acceptable version to its tar. Returns it.
    (``current`` may name the hard-linked stand-in a forced reinstall uses: still complete.)"""
    target = current_dir(paths)
    assert target is not None, f"current -> {_readlink(paths.current)!r} does not exist"
    version = json.loads((target / "codex-package.json").read_text())["version"]
    assert version in allowed, f"current -> {target.name}, expected one of {sorted(allowed)}"
    if not target.name.startswith(KEEP_PREFIX):
        assert target.name == f"{version}-{TARGET}", target.name
    assert_dir_matches(target, allowed[version])
    assert run_codex(paths) == f"codex-cli {version}"
    return version


def _readlink(path: Path) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


def try_install(
    server_url: str,
    paths: Paths,
    version: str,
    *,
    source: str = "github",
    force: bool = False,
    timeout: float = 5.0,
) -> tuple[int, str]:
    """Install in-process with retries that do not sleep: (exit code, error message)."""
    sources = SourceOptions(
        source="mirror" if source == "mirror" else "github",
        github=GitHubConfig(api_url=server_url),
        mirror=f"{server_url}/mirror" if source == "mirror" else None,
    )
    plan = NetworkPlan(metadata_s=timeout, download_s=timeout, cache_dir=paths.cache_dir)
    hooks = Hooks(plan=plan, sleep=lambda _s: None)
    req = InstallRequest(parse_version(version), TARGET, sources=sources, force=force)
    try:
        result = install(req, paths, hooks)
    except CodexInstallError as err:
        assert str(err), "an error without a message"
        return err.exit_code, str(err)
    assert result.version == version
    return 0, ""


def install_inprocess(
    server_url: str,
    paths: Paths,
    version: str,
    *,
    source: str = "github",
    force: bool = False,
    timeout: float = 5.0,
) -> int:
    return try_install(server_url, paths, version, source=source, force=force, timeout=timeout)[0]


def spawn_cli(
    server_url: str, paths: Paths, marks: Path, *args: str, **extra_env: str
) -> subprocess.Popen[bytes]:
    """``codex-install ARGS`` in a child process (instrumented by install_child.py), with every
    path in ``paths`` and GitHub pointed at ``server_url``."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(paths.codex_home.parent),
        "CODEX_HOME": str(paths.codex_home),
        "CODEX_INSTALL_DIR": str(paths.bin_dir),
        "CODEX_INSTALL_CACHE_DIR": str(paths.cache_dir),
        "GITHUB_API_URL": server_url,
        "CODEX_NON_INTERACTIVE": "1",
        "NO_PROXY": "127.0.0.1,localhost",
        "PYTHONPATH": str(INSTALLER),
        "RELIABILITY_MARKS": str(marks),
        **extra_env,
    }
    return subprocess.Popen(
        [sys.executable, str(CHILD), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


@dataclass(frozen=True)
class Mark:
    phase: str
    since_start: float
    at: float  # time.monotonic() in the child: comparable across processes


def read_marks(path: Path) -> list[Mark]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        phase, since, at = line.split("|")
        out.append(Mark(phase, float(since), float(at)))
    return out

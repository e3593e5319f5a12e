"""The built wheel, installed into a venv of its own (not this checkout, not editable): it
installs Codex from a loopback mirror, ships the launcher and the release manifests as package
data, and answers from site-packages.

`.ci/run` builds the wheel, installs it into a fresh venv and runs these tests with
``CODEX_INSTALL_WHEEL_VENV`` pointing at that venv (``pytest -m wheel``); the default run
deselects them, and without the variable they fail rather than pass on the editable tree.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from builders import package_release, sha256
from codex_install.platforms import host_target
from servers.fake_http import FakeHTTPServer

pytestmark = pytest.mark.wheel

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted(p.name for p in (ROOT / "manifests").glob("codex-*.toml"))


@pytest.fixture(scope="module")
def venv() -> Path:
    value = os.environ.get("CODEX_INSTALL_WHEEL_VENV")
    assert value, "CODEX_INSTALL_WHEEL_VENV must name the venv the built wheel was installed in"
    return Path(value)


def _run(
    venv: Path, *argv: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / argv[0]), *argv[1:]],
        capture_output=True,
        text=True,
        env=env,
        cwd=env["HOME"] if env else None,  # never the checkout: nothing may come from it
        timeout=120,
        check=False,
    )


def test_the_package_is_imported_from_the_wheel_not_the_checkout(venv: Path) -> None:
    probe = (
        "import json, codex_install\n"
        "from codex_install.manifest.shipped import shipped_manifest, shipped_manifest_dirs\n"
        "dirs = [str(d) for d in shipped_manifest_dirs()]\n"
        "names = sorted(p.name for p in shipped_manifest_dirs()[0].iterdir()"
        " if p.name.endswith('.toml'))\n"
        "pins = {n: shipped_manifest(n[6:-5]).version for n in names}\n"
        "print(json.dumps({'file': codex_install.__file__, 'version': codex_install.__version__,"
        " 'dirs': dirs, 'pins': pins}))\n"
    )
    proc = subprocess.run(
        [str(venv / "bin" / "python"), "-I", "-c", probe],
        capture_output=True,
        text=True,
        cwd="/",
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert Path(seen["file"]).resolve().is_relative_to(venv.resolve())
    assert not Path(seen["file"]).resolve().is_relative_to(ROOT)
    # The shipped manifests are package data, and the checkout's manifests/ is not consulted.
    # (resolved: macOS's temp dirs are under /var, a link to /private/var)
    assert len(seen["dirs"]) == 1 and Path(seen["dirs"][0]).resolve().is_relative_to(venv.resolve())
    assert sorted(seen["pins"]) == SHIPPED and SHIPPED
    assert all(f"codex-{v}.toml" == name for name, v in seen["pins"].items())
    version = _run(venv, "codex-install", "--version")
    assert version.stdout == f"codex-install {seen['version']}\n", version.stderr


def test_the_wheel_installs_codex_from_a_loopback_mirror_and_launches_it(
    venv: Path, env: dict[str, str], server: FakeHTTPServer
) -> None:
    target = host_target()
    rel = package_release("0.169.0", target)
    mirror = rel.publish_mirror(server)
    proc = _run(
        venv,
        "codex-install",
        "install",
        "--mirror",
        mirror,
        "--version",
        "0.169.0",
        "--no-login",
        "--json",
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    archive = f"codex-package-{target}.tar.zst"  # the zstd decoder of the wheel's dependencies
    assert (result["version"], result["target"], result["source"]) == ("0.169.0", target, "mirror")
    assert result["sha256"] == sha256(rel.files[archive])
    assert server.requests_to(f"/mirror/releases/0.169.0/{archive}")
    link = Path(env["CODEX_INSTALL_DIR"]) / "codex"
    assert result["paths"]["bin"] == str(link)
    launched = _run(venv, "codex-launch", "--version", env=env)
    assert (launched.returncode, launched.stdout) == (0, "codex-cli 0.169.0\n"), launched.stderr

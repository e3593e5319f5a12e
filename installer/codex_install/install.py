"""The install orchestration: lock → resolve → stream (download + hash + extract) → verify →
smoke test → promote → swap ``current`` → link. Every step that can fail leaves the previous
install as it was (SPEC §3, §5)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codex_install import standalone, verify
from codex_install.archive import ExtractSpec, StreamExtractor, archive_format
from codex_install.errors import (
    CodexInstallError,
    NetworkError,
    SmokeTestError,
    UsageError,
    VerificationError,
)
from codex_install.http.download import Progress, download
from codex_install.lock import file_lock
from codex_install.models import Asset, Layout, Selection
from codex_install.paths import Paths
from codex_install.sources.dispatch import Resolved, SourceOptions, resolve
from codex_install.versions import VersionSpec

if TYPE_CHECKING:
    import httpx

    from codex_install.manifest import Manifest

Runner = Callable[[list[str], float], tuple[int, str]]


def run_command(argv: list[str], timeout: float) -> tuple[int, str]:
    proc = subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
    )
    return proc.returncode, proc.stdout + proc.stderr


@dataclass(frozen=True)
class InstallRequest:
    version: VersionSpec
    target: str
    sources: SourceOptions = field(default_factory=SourceOptions)
    archive: Path | None = None
    sha256: str | None = None
    force: bool = False
    # Pinned by a release manifest: its digests are the source of truth (manifest_pin.py).
    manifest: Manifest | None = None
    # A shipped manifest pins an exact download host; when that host is unreachable the
    # install resolves through the usual sources instead of failing (an explicit --manifest
    # never does this).
    manifest_optional: bool = False


@dataclass(frozen=True)
class InstallResult:
    version: str
    target: str
    layout: Layout
    source: str
    sha256: str | None
    release_dir: Path
    bin_link: Path
    reused: bool
    downloaded_bytes: int
    timings: dict[str, float]
    fell_back_from: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "target": self.target,
            "layout": self.layout,
            "source": self.source,
            "sha256": self.sha256,
            "reused": self.reused,
            "downloaded_bytes": self.downloaded_bytes,
            "fell_back_from": self.fell_back_from,
            "paths": {"release": str(self.release_dir), "bin": str(self.bin_link)},
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }


@dataclass
class Hooks:
    """The I/O an install needs, with production defaults; tests pass their own."""

    client_factory: Callable[[], httpx.Client] | None = None
    runner: Runner = run_command
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    notice: Callable[[str], None] = lambda _msg: None
    progress: Callable[[str, int | None], Progress | None] = lambda _name, _total: None
    npm_resolver_factory: Callable[[httpx.Client], Any] | None = None
    env: Mapping[str, str] = field(default_factory=dict)


def install(req: InstallRequest, paths: Paths, hooks: Hooks | None = None) -> InstallResult:
    hooks = hooks or Hooks()
    t0 = hooks.clock()
    timings: dict[str, float] = {}
    with file_lock(
        paths.lock_file,
        on_wait=lambda: hooks.notice(f"waiting for another codex-install ({paths.lock_file})"),
    ):
        timings["lock"] = hooks.clock() - t0
        standalone.clean_leftovers(paths)
        standalone.check_writable(paths, force=req.force)
        pinned = req.version.version
        if pinned and not req.force:
            done = _reuse(paths, pinned, req.target, hooks, t0, timings, "installed")
            if done is not None:
                return done
        if req.archive is not None:
            return _install_archive(req, paths, hooks, t0, timings)
        client = _client(hooks)
        try:
            try:
                return _resolve_and_fetch(req, paths, hooks, client, t0, timings)
            except NetworkError as err:
                if req.manifest is None or not req.manifest_optional or not err.connection_level:
                    raise
                hooks.notice(
                    f"the shipped manifest's download host is unreachable ({err}); "
                    "resolving through the usual sources instead"
                )
                unpinned = replace(req, manifest=None, manifest_optional=False)
                result = _resolve_and_fetch(unpinned, paths, hooks, client, t0, timings)
                return replace(result, fell_back_from=result.fell_back_from or "manifest")
        finally:
            client.close()


def _resolve_and_fetch(
    req: InstallRequest,
    paths: Paths,
    hooks: Hooks,
    client: httpx.Client,
    t0: float,
    timings: dict[str, float],
) -> InstallResult:
    resolved = _resolve(req, client, hooks)
    timings["resolve"] = hooks.clock() - t0
    sel = resolved.selection
    if not req.force:
        done = _reuse(paths, sel.version, req.target, hooks, t0, timings, sel.source)
        if done is not None:
            return done
    expected = _expected(sel, resolved, req.sha256)
    return _fetch_and_install(
        sel, expected, paths, hooks, client, t0, timings, resolved.fell_back_from, req
    )


def _client(hooks: Hooks) -> httpx.Client:
    if hooks.client_factory is not None:
        return hooks.client_factory()
    from codex_install.http.client import make_client

    return make_client()


def _resolve(req: InstallRequest, client: httpx.Client, hooks: Hooks) -> Resolved:
    if req.manifest is not None:
        from codex_install.manifest_pin import resolve_pinned

        return resolve_pinned(
            req.manifest,
            req.sources,
            req.target,
            client=client,
            sleep=hooks.sleep,
            npm_resolver=_npm_resolver(hooks, client),
        )
    return resolve(
        req.sources,
        req.version,
        req.target,
        client=client,
        notice=hooks.notice,
        sleep=hooks.sleep,
        npm_resolver=_npm_resolver(hooks, client),
    )


def _npm_resolver(hooks: Hooks, client: httpx.Client) -> Any:
    return hooks.npm_resolver_factory(client) if hooks.npm_resolver_factory else None


def _expected(sel: Selection, resolved: Resolved, pinned: str | None) -> str | None:
    if sel.integrity and not (sel.archive.sha256 or pinned):
        return None  # npm: dist.integrity is the source of truth
    sha, _ = verify.expected_sha256(sel, resolved.sums, pinned)
    return sha


def _reuse(
    paths: Paths,
    version: str,
    target: str,
    hooks: Hooks,
    t0: float,
    timings: dict[str, float],
    source: str,
) -> InstallResult | None:
    release_dir = paths.release_dir(version, target)
    if not standalone.is_complete(release_dir):
        return None
    standalone.activate(paths, release_dir)
    link = standalone.link_bin(paths)
    timings["total"] = hooks.clock() - t0
    hooks.notice(f"codex {version} ({target}) is already installed; nothing to download")
    return InstallResult(
        version=version,
        target=target,
        layout=_installed_layout(release_dir),
        source=source,
        sha256=None,
        release_dir=release_dir,
        bin_link=link,
        reused=True,
        downloaded_bytes=0,
        timings=timings,
    )


def _installed_layout(release_dir: Path) -> Layout:
    try:
        data = json.loads((release_dir / "codex-package.json").read_text())
        return "legacy" if data.get("installedFrom") == "legacy" else "package"
    except (OSError, ValueError, AttributeError):
        return "package"


def _fetch_and_install(
    sel: Selection,
    expected_sha256: str | None,
    paths: Paths,
    hooks: Hooks,
    client: httpx.Client,
    t0: float,
    timings: dict[str, float],
    fell_back_from: str | None,
    req: InstallRequest,
) -> InstallResult:
    staging = standalone.new_staging_dir(paths)
    try:
        spec = ExtractSpec(
            format=archive_format(sel.archive.name),
            layout=sel.layout,
            target=sel.target,
            strip_prefix=sel.npm_subdir,
        )
        extra = verify.hashes_for(sel.integrity)
        with StreamExtractor(staging, spec) as extractor:
            digests = download(
                client,
                sel.archive.url,
                extractor.feed,
                expected_size=sel.archive.size,
                label=sel.archive.name,
                sleep=hooks.sleep,
                progress=hooks.progress(sel.archive.name, sel.archive.size),
                extra_hashes=extra,
            )
            # Verify before the extractor's result is trusted: a bad digest aborts the stream.
            verify.check_stream(
                sel.archive.name, digests, sha256=expected_sha256, integrity=sel.integrity
            )
            extractor.finish()
        timings["download_extract"] = hooks.clock() - t0
        return _finish(
            sel,
            staging,
            digests.sha256,
            digests.size,
            paths,
            hooks,
            t0,
            timings,
            fell_back_from,
            req.force,
        )
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _finish(
    sel: Selection,
    staging: Path,
    sha256: str,
    size: int,
    paths: Paths,
    hooks: Hooks,
    t0: float,
    timings: dict[str, float],
    fell_back_from: str | None,
    force: bool,
) -> InstallResult:
    _check_package_json(staging, sel)
    smoke_test(staging / "bin" / "codex", sel.version, hooks.runner)
    timings["smoke_test"] = hooks.clock() - t0
    release_dir = paths.release_dir(sel.version, sel.target)
    standalone.promote(staging, release_dir, paths=paths)
    standalone.activate(paths, release_dir)
    link = standalone.link_bin(paths, force=force)
    timings["total"] = hooks.clock() - t0
    return InstallResult(
        version=sel.version,
        target=sel.target,
        layout=sel.layout,
        source=sel.source,
        sha256=sha256,
        release_dir=release_dir,
        bin_link=link,
        reused=False,
        downloaded_bytes=size,
        timings=timings,
        fell_back_from=fell_back_from,
    )


def _check_package_json(staging: Path, sel: Selection) -> None:
    pkg = staging / "codex-package.json"
    if sel.layout == "legacy" or not pkg.exists():
        standalone.write_package_json(staging, sel.version, sel.target)
        if sel.layout == "legacy":
            data = json.loads(pkg.read_text())
            data["installedFrom"] = "legacy"
            pkg.write_text(json.dumps(data, indent=2) + "\n")
        return
    try:
        data = json.loads(pkg.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as err:
        raise VerificationError("codex-package.json in the archive is not valid JSON") from err
    if not isinstance(data, dict):
        raise VerificationError("codex-package.json in the archive is not an object")
    if data.get("version") not in (None, sel.version):
        raise VerificationError(
            f"archive says it is codex {data.get('version')!r}, expected {sel.version}"
        )
    if data.get("target") not in (None, sel.target):
        raise VerificationError(f"archive is for {data.get('target')!r}, expected {sel.target}")


def smoke_test(entry: Path, version: str, runner: Runner) -> None:
    """``bin/codex --version`` must print ``codex-cli <version>`` before anything is promoted."""
    try:
        code, output = runner([str(entry), "--version"], 30.0)
    except subprocess.TimeoutExpired as err:
        raise SmokeTestError(f"smoke test: `{entry.name} --version` timed out") from err
    except OSError as err:
        raise SmokeTestError(
            f"smoke test: cannot run the installed codex ({err.strerror}); is the target right "
            "for this machine?"
        ) from err
    want = f"codex-cli {version}"
    if code != 0 or want not in output:
        first = (output.strip().splitlines() or ["no output"])[0][:120]
        raise SmokeTestError(
            f"smoke test failed: `codex --version` exited {code} and printed {first!r}, "
            f"expected {want!r}"
        )


def _install_archive(
    req: InstallRequest,
    paths: Paths,
    hooks: Hooks,
    t0: float,
    timings: dict[str, float],
) -> InstallResult:
    """``--archive FILE``: no network; the pin (``--sha256``) is the only source of truth."""
    archive = req.archive
    assert archive is not None
    if not req.sha256:
        raise UsageError("--archive needs --sha256 HEX (or --manifest FILE) to verify the file")
    if not archive.is_file():
        raise UsageError(f"--archive {archive}: no such file")
    layout, target, prefix = _archive_shape(archive.name, req.target)
    staging = standalone.new_staging_dir(paths)
    try:
        spec = ExtractSpec(
            format=archive_format(archive.name), layout=layout, target=target, strip_prefix=prefix
        )
        with StreamExtractor(staging, spec) as extractor:
            digests = download(None, archive.resolve().as_uri(), extractor.feed, label=archive.name)
            verify.check_sha256(archive.name, digests.sha256, req.sha256)
            extractor.finish()
        version = _archive_version(staging, req.version)
        sel = Selection(
            version=version,
            target=target,
            layout=layout,
            archive=Asset(name=archive.name, url=archive.resolve().as_uri(), size=digests.size),
            source="archive",
        )
        if not req.force:
            done = _reuse(paths, version, target, hooks, t0, timings, "archive")
            if done is not None:
                shutil.rmtree(staging, ignore_errors=True)
                return done
        timings["download_extract"] = hooks.clock() - t0
        return _finish(
            sel, staging, digests.sha256, digests.size, paths, hooks, t0, timings, None, req.force
        )
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _archive_shape(name: str, target: str) -> tuple[Layout, str, str | None]:
    if name.startswith("codex-package-"):
        return "package", target, None
    if name.endswith(".tgz"):
        return "package", target, f"package/vendor/{target}/"
    if name == f"codex-{target}.tar.gz":
        return "legacy", target, None
    if name.startswith("codex-") and name.endswith(".tar.gz"):
        raise UsageError(f"--archive {name} is for another target than {target} (see --target)")
    raise UsageError(
        f"--archive {name}: expected codex-package-<target>.tar.zst|.tar.gz, "
        "codex-<target>.tar.gz or an npm platform .tgz"
    )


def _archive_version(staging: Path, spec: VersionSpec) -> str:
    pkg = staging / "codex-package.json"
    if pkg.exists():
        try:
            version = json.loads(pkg.read_text()).get("version")
        except (OSError, ValueError, AttributeError) as err:
            raise VerificationError("codex-package.json in the archive is not valid") from err
        if isinstance(version, str):
            if spec.version and spec.version != version:
                raise VerificationError(
                    f"archive holds codex {version}, but --version says {spec.version}"
                )
            return version
    if spec.version:
        return spec.version
    raise UsageError("this archive does not say its version; pass --version")


__all__ = [
    "CodexInstallError",
    "Hooks",
    "InstallRequest",
    "InstallResult",
    "install",
    "smoke_test",
]

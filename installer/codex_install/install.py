"""The install orchestration: lock → resolve → stream (download + hash + extract) → verify →
smoke test → promote → swap ``current`` → link. Every step that can fail leaves the previous
install as it was (SPEC §3, §5).

One :class:`_Run` carries what every step needs (request, paths, hooks, clock, timings), so the
steps are short methods instead of helpers with ten parameters. The archive and download
modules are imported by the steps that stream: a reinstall of an installed release never loads
them (its whole cost is the process start).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from codex_install import layout, verify
from codex_install.childenv import without_secrets
from codex_install.errors import (
    FilesystemError,
    NetworkError,
    SmokeTestError,
    UsageError,
    VerificationError,
)
from codex_install.fs import UnreadableFileError, file_lock, ours_alone, sha256_file
from codex_install.http.plan import NetworkPlan
from codex_install.models import Asset, Layout, Manifest, Selection
from codex_install.pathenv import removal_command
from codex_install.paths import Paths
from codex_install.sources.dispatch import Resolved, SourceOptions, choose, with_sums
from codex_install.ui import outcome_line
from codex_install.versions import VersionSpec, parse_version, version_key

if TYPE_CHECKING:
    from codex_install.http.download import Digests, Progress
    from codex_install.http.network import Network

Runner = Callable[[list[str], float], tuple[int, str]]
# Every install reports these steps in ``timings`` (seconds each step took; 0 for a step that
# did not run), so a CI job can read the same keys whatever path the install took.
TIMING_STEPS = ("lock", "resolve", "download_extract", "smoke_test", "activate", "total")
# What an install records about the archive a release came from, so that a later no-op
# reinstall can still report its sha256 (the unpacked tree cannot say it).
RECEIPT = ".codex-install.json"
ENTRYPOINT = "bin/codex"
PACKAGE_JSON = "codex-package.json"
# Paths codex-package.json gives inside the release; none may lead out of it.
_PACKAGE_PATHS = ("entrypoint", "pathDir", "resourcesDir")
NpmResolverFactory = Callable[["Network"], Callable[[VersionSpec, str], Selection]]


def run_command(argv: list[str], timeout: float) -> tuple[int, str]:
    """Run a child (the smoke test) with no credentials in its environment."""
    proc = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
        env=without_secrets(os.environ),
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
    # Pinned by a release manifest: its digests are the source of truth (sources/pinned.py).
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
    previous: str | None = None  # the version `current` ran before this install

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
            "previous": self.previous,
            "paths": {"release": str(self.release_dir), "bin": str(self.bin_link)},
            "timings": {k: round(self.timings.get(k, 0.0), 4) for k in TIMING_STEPS},
        }

    def outcome(self) -> str:
        """What this install did, in the user's words (see ui.outcome_line)."""
        previous = self.previous
        return outcome_line(
            self.version,
            previous,
            reused=self.reused,
            newer=previous is not None and version_key(self.version) > version_key(previous),
            target=self.target,
            detail=f"{self.layout} layout, from {self.source}",
            seconds=self.timings.get("total", 0.0),
        )


@dataclass(frozen=True)
class Hooks:
    """The I/O an install needs, with production defaults; tests pass their own."""

    plan: NetworkPlan = field(default_factory=NetworkPlan)
    runner: Runner = run_command
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    notice: Callable[[str], None] = lambda _msg: None
    debug: Callable[[str], None] = lambda _msg: None
    progress: Callable[[str, int | None], Progress | None] = lambda _name, _total: None
    npm_resolver_factory: NpmResolverFactory | None = None


def install(req: InstallRequest, paths: Paths, hooks: Hooks | None = None) -> InstallResult:
    """Install what ``req`` asks for into ``paths``, holding the install lock throughout."""
    run = _Run(req, paths, hooks or Hooks())
    with file_lock(
        paths.lock_file,
        on_wait=lambda: run.hooks.notice(f"waiting for another codex-install ({paths.lock_file})"),
    ):
        run.mark("lock")
        previous = layout.current_dir(paths)
        result = run.install()
    release = layout.split_release_name(previous.name) if previous is not None else None
    return replace(result, previous=release[0] if release else None)


class _Run:
    """One install inside the lock."""

    def __init__(self, req: InstallRequest, paths: Paths, hooks: Hooks) -> None:
        self.req = req
        self.paths = paths
        self.hooks = hooks
        self.t0 = self.last = hooks.clock()
        self.timings: dict[str, float] = {}
        self.changed: set[Path] = set()  # releases whose entrypoint no longer matches

    def mark(self, step: str) -> None:
        """Record how long ``step`` took (since the previous mark); ``total`` is since the start."""
        now = self.hooks.clock()
        if step == "total":
            self.timings[step] = now - self.t0
        else:
            self.timings[step] = self.timings.get(step, 0.0) + now - self.last
        self.last = now

    def install(self) -> InstallResult:
        # Trust first: nothing in a tree owned by someone else is touched, leftovers included.
        layout.check_writable(self.paths, force=self.req.force, remove_with=removal_command)
        layout.clean_leftovers(self.paths)
        pinned = self.req.version.version
        if pinned and not self.req.force:
            done = self.reuse(pinned, self.req.target, "installed")
            if done is not None:
                return done
        if self.req.archive is not None:
            return self.from_archive(self.req.archive)
        from codex_install.http.network import Network  # only an install from a source

        hooks = self.hooks
        with Network(
            hooks.plan,
            sleep=hooks.sleep,
            notice=hooks.notice,
            debug=hooks.debug,
            cache_trusted=ours_alone,
        ) as net:
            return self.from_sources(net)

    def from_sources(self, net: Network) -> InstallResult:
        try:
            return self.resolve_and_fetch(self.req, net)
        except NetworkError as err:
            req = self.req
            if req.manifest is None or not req.manifest_optional or not err.connection_level:
                raise
            self.hooks.notice(
                f"the shipped manifest's download host is unreachable: {err.message}; "
                "resolving through the usual sources instead"
            )
            unpinned = replace(req, manifest=None, manifest_optional=False)
            result = self.resolve_and_fetch(unpinned, net)
            return replace(result, fell_back_from=result.fell_back_from or "manifest")

    def resolve_and_fetch(self, req: InstallRequest, net: Network) -> InstallResult:
        resolved = self.resolve(req, net)
        self.mark("resolve")
        sel = resolved.selection
        if not req.force:
            # Before SUMS: an installed release costs the one (conditional) metadata request.
            done = self.reuse(sel.version, req.target, sel.source)
            if done is not None:
                return done
        if resolved.sums is None and sel.sums is not None:
            resolved = with_sums(sel, net, resolved.fell_back_from)
        expected = _expected_sha256(sel, resolved, req.sha256)
        staging = layout.new_staging_dir(self.paths)
        try:
            digests = self.stream(net, sel, staging, expected)
            return self.finish(sel, staging, digests, resolved.fell_back_from)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def resolve(self, req: InstallRequest, net: Network) -> Resolved:
        factory = self.hooks.npm_resolver_factory
        npm_resolver = factory(net) if factory is not None else None
        if req.manifest is not None:
            from codex_install.sources.pinned import resolve_pinned

            return resolve_pinned(
                req.manifest, req.sources, req.target, client=net, npm_resolver=npm_resolver
            )
        return choose(net, req.sources, req.version, req.target, npm=npm_resolver)

    def stream(self, net: Network, sel: Selection, staging: Path, expected: str | None) -> Digests:
        """Download into the extractor, verifying the digests before the extraction counts."""
        from codex_install.archive import ExtractSpec, StreamExtractor, archive_format
        from codex_install.http.download import download

        spec = ExtractSpec(
            format=archive_format(sel.archive.name),
            layout=sel.layout,
            target=sel.target,
            strip_prefix=sel.npm_subdir,
        )
        with StreamExtractor(staging, spec) as extractor:
            digests = download(
                net,
                sel.archive.url,
                extractor.feed,
                expected_size=sel.archive.size,
                label=sel.archive.name,
                progress=self.hooks.progress(sel.archive.name, sel.archive.size),
                extra_hashes=verify.hashes_for(sel.integrity),
            )
            # Verified before the extraction counts: a bad digest aborts the stream.
            verify.check_stream(sel.archive.name, digests, sha256=expected, integrity=sel.integrity)
            extractor.finish()
        self.mark("download_extract")
        return digests

    def from_archive(self, archive: Path) -> InstallResult:
        """``--archive FILE``: no network; the pin (``--sha256``) is the only source of truth."""
        from codex_install.archive import ExtractSpec, StreamExtractor, archive_format
        from codex_install.http.download import download

        if not self.req.sha256:
            raise UsageError("--archive needs --sha256 HEX (or --manifest FILE) to verify the file")
        if not archive.is_file():
            raise UsageError(f"--archive {archive}: no such file")
        kind, prefix = _archive_shape(archive.name, self.req.target)
        url = archive.resolve().as_uri()
        staging = layout.new_staging_dir(self.paths)
        try:
            spec = ExtractSpec(
                format=archive_format(archive.name),
                layout=kind,
                target=self.req.target,
                strip_prefix=prefix,
            )
            with StreamExtractor(staging, spec) as extractor:
                digests = download(None, url, extractor.feed, label=archive.name)
                verify.check_sha256(archive.name, digests.sha256, self.req.sha256)
                extractor.finish()
            version = _archive_version(staging, self.req.version)
            self.mark("download_extract")
            done = None if self.req.force else self.reuse(version, self.req.target, "archive")
            if done is not None:
                shutil.rmtree(staging, ignore_errors=True)
                return done
            sel = Selection(
                version=version,
                target=self.req.target,
                layout=kind,
                archive=Asset(name=archive.name, url=url, size=digests.size),
                source="archive",
            )
            return self.finish(sel, staging, digests, None)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def reuse(self, version: str, target: str, source: str) -> InstallResult | None:
        release_dir = self.paths.release_dir(version, target)
        if not layout.is_complete(release_dir) or self.changed_entrypoint(release_dir):
            return None
        layout.activate(self.paths, release_dir)
        link = layout.link_bin(self.paths, remove_with=removal_command)
        self.mark("activate")
        self.mark("total")
        receipt = read_receipt(release_dir)
        return InstallResult(
            version=version,
            target=target,
            layout=layout.installed_layout(release_dir),
            source=receipt.get("source") or source,
            sha256=receipt.get("sha256"),
            fell_back_from=receipt.get("fell_back_from"),
            release_dir=release_dir,
            bin_link=link,
            reused=True,
            downloaded_bytes=0,
            timings=self.timings,
        )

    def changed_entrypoint(self, release_dir: Path) -> bool:
        """Whether the release's ``bin/codex`` is no longer the file its install recorded (then
        it is reinstalled, and the user told why, once). Only the entrypoint is hashed: it is
        what runs, and one file keeps the no-op re-run cheap. A release whose receipt records
        no digest (an older codex-install, Codex's own installer) is taken as it is."""
        if release_dir in self.changed:
            return True
        receipt = _receipt(release_dir)
        recorded = _entrypoint_digest(receipt)
        if recorded is None:
            return False
        if _identity(release_dir / ENTRYPOINT) == _recorded_identity(receipt):
            return False  # not written, moved or changed in any way since it was hashed
        try:
            _, actual = sha256_file(release_dir / ENTRYPOINT)
        except OSError as err:
            now = f"cannot be read ({err.strerror or err})"
        else:
            if actual == recorded:
                return False
            now = f"has sha256 {actual[:12]}…, installed {recorded[:12]}…"
        self.changed.add(release_dir)
        self.hooks.notice(
            f"{release_dir.name}: {ENTRYPOINT} changed since it was installed ({now}); "
            "reinstalling it"
        )
        return True

    def finish(
        self, sel: Selection, staging: Path, digests: Digests, fell_back_from: str | None
    ) -> InstallResult:
        _check_package_json(staging, sel)
        smoke_test(staging / "bin" / "codex", sel.version, self.hooks.runner)
        self.mark("smoke_test")
        _write_receipt(staging, digests.sha256, sel, fell_back_from)
        release_dir = self.paths.release_dir(sel.version, sel.target)
        layout.promote(staging, release_dir, paths=self.paths)
        layout.activate(self.paths, release_dir)
        link = layout.link_bin(self.paths, force=self.req.force, remove_with=removal_command)
        self.mark("activate")
        self.mark("total")
        return InstallResult(
            version=sel.version,
            target=sel.target,
            layout=sel.layout,
            source=sel.source,
            sha256=digests.sha256,
            release_dir=release_dir,
            bin_link=link,
            reused=False,
            downloaded_bytes=digests.size,
            timings=self.timings,
            fell_back_from=fell_back_from,
        )


def _write_receipt(staging: Path, sha256: str, sel: Selection, fell_back_from: str | None) -> None:
    """The receipt: the archive's digest, name and source, and the digest of each installed
    file a re-run checks (the entrypoint)."""
    try:
        _, entrypoint = sha256_file(staging / ENTRYPOINT)
    except OSError as err:
        raise FilesystemError(f"cannot read {staging / ENTRYPOINT}: {err.strerror}") from err
    data = {
        "sha256": sha256,
        "asset": sel.archive.name,
        "source": sel.source,
        "fell_back_from": fell_back_from,
        "files": {ENTRYPOINT: entrypoint},
        "identity": {ENTRYPOINT: _identity(staging / ENTRYPOINT)},
    }
    (staging / RECEIPT).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _receipt(release_dir: Path) -> dict[str, object]:
    try:
        data = layout.read_state_json(release_dir / RECEIPT, "install receipt")
    except (UnreadableFileError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def read_receipt(release_dir: Path) -> dict[str, str | None]:
    """What the install of ``release_dir`` recorded; empty for a release installed before
    receipts were written (or by Codex's own installer)."""
    return {k: v for k, v in _receipt(release_dir).items() if isinstance(v, str)}


def recorded_entrypoint(release_dir: Path) -> str | None:
    """The sha256 of ``bin/codex`` its install recorded (None: nothing recorded)."""
    return _entrypoint_digest(_receipt(release_dir))


def _entrypoint_digest(receipt: dict[str, object]) -> str | None:
    files = receipt.get("files")
    digest = files.get(ENTRYPOINT) if isinstance(files, dict) else None
    return digest if isinstance(digest, str) else None


def _identity(path: Path) -> list[int] | None:
    """What changes whenever the file does: a write changes its mtime and ctime, and nobody but
    the kernel sets a ctime (``touch -d`` cannot put it back). Equal to the identity recorded
    when the file was hashed, the file is that file: a re-run need not hash 150 MB again."""
    try:
        st = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode]


def _recorded_identity(receipt: dict[str, object]) -> list[int] | None:
    kept = receipt.get("identity")
    identity = kept.get(ENTRYPOINT) if isinstance(kept, dict) else None
    return identity if isinstance(identity, list) and identity else None


def _expected_sha256(sel: Selection, resolved: Resolved, pinned: str | None) -> str | None:
    if sel.integrity and not (sel.archive.sha256 or pinned):
        return None  # npm: dist.integrity is the source of truth
    sha, _ = verify.expected_sha256(sel, resolved.sums, pinned)
    return sha


def _check_package_json(staging: Path, sel: Selection) -> None:
    if sel.layout == "legacy" or not (staging / PACKAGE_JSON).exists():
        layout.write_package_json(staging, sel.version, sel.target, legacy=sel.layout == "legacy")
        return
    data = _package_json(staging)
    if data.get("version") not in (None, sel.version):
        raise VerificationError(
            f"archive says it is codex {data.get('version')!r}, expected {sel.version}"
        )
    if data.get("target") not in (None, sel.target):
        raise VerificationError(f"archive is for {data.get('target')!r}, expected {sel.target}")
    for key in _PACKAGE_PATHS:
        if key in data and not _inside_release(data[key]):
            raise VerificationError(
                f"{PACKAGE_JSON} in the archive gives {key} {data[key]!r}: "
                "not a relative path inside the release"
            )


def _package_json(staging: Path) -> dict[str, object]:
    """The archive's ``codex-package.json`` as an object ({} when there is none)."""
    try:
        data = layout.read_state_json(staging / PACKAGE_JSON, PACKAGE_JSON)
    except UnreadableFileError as err:
        raise VerificationError(f"{PACKAGE_JSON} in the archive: {err.message}") from err
    except ValueError as err:
        raise VerificationError(f"{PACKAGE_JSON} in the archive is not valid JSON") from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise VerificationError(f"{PACKAGE_JSON} in the archive is not an object")
    return data


def _inside_release(value: object) -> bool:
    if not isinstance(value, str) or not value or "\\" in value:
        return False
    path = PurePosixPath(value)
    return not path.is_absolute() and ".." not in path.parts


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
    # A whole line, not a substring: "codex-cli 1.2.30" must not pass for 1.2.3.
    if code != 0 or want not in (line.strip() for line in output.splitlines()):
        first = (output.strip().splitlines() or ["no output"])[0][:120]
        raise SmokeTestError(
            f"smoke test failed: `codex --version` exited {code} and printed {first!r}, "
            f"expected {want!r}"
        )


def _archive_shape(name: str, target: str) -> tuple[Layout, str | None]:
    """The layout of a local archive and the npm prefix to strip, from its file name."""
    if name.startswith("codex-package-"):
        return "package", None
    if name.endswith(".tgz"):
        return "package", f"package/vendor/{target}/"
    if name == f"codex-{target}.tar.gz":
        return "legacy", None
    if name.startswith("codex-") and name.endswith(".tar.gz"):
        raise UsageError(f"--archive {name} is for another target than {target} (see --target)")
    raise UsageError(
        f"--archive {name}: expected codex-package-<target>.tar.zst|.tar.gz, "
        "codex-<target>.tar.gz or an npm platform .tgz"
    )


def _archive_version(staging: Path, spec: VersionSpec) -> str:
    """The version of a local archive: its ``codex-package.json`` must say a Codex version
    (SPEC §3 grammar, as release dirs are named by it) that agrees with ``--version``."""
    version = _package_json(staging).get("version")
    if version is None:
        if spec.version:
            return spec.version
        raise UsageError("this archive does not say its version; pass --version")
    if not isinstance(version, str) or not _is_version(version):
        raise VerificationError(
            f"{PACKAGE_JSON} in the archive gives version {version!r}, which is no Codex version"
        )
    if spec.version and spec.version != version:
        raise VerificationError(f"archive holds codex {version}, but --version says {spec.version}")
    return version


def _is_version(text: str) -> bool:
    try:
        return parse_version(text).version == text
    except UsageError:
        return False


__all__ = [
    "Hooks",
    "InstallRequest",
    "InstallResult",
    "install",
    "read_receipt",
    "smoke_test",
]

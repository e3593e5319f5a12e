"""``codex-install [install]``: pin the request (``--manifest`` or a shipped manifest), install,
set up PATH, then the first sign-in (SPEC §6, §7, §10)."""

from __future__ import annotations

import platform
import shlex
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codex_install import ci, pathenv
from codex_install.config import Settings
from codex_install.errors import CodexInstallError, NetworkError, NotFoundError, UsageError
from codex_install.install import Hooks, InstallRequest, InstallResult, install
from codex_install.models import Manifest, ManifestAsset
from codex_install.platforms import resolve_target
from codex_install.sources.github import DEFAULT_API_URL, DEFAULT_REPO
from codex_install.ui import Reporter, notices
from codex_install.verify import parse_sha256_pin
from codex_install.versions import VersionSpec, parse_version

if TYPE_CHECKING:
    from codex_install.signin import SignInResult


@dataclass(frozen=True)
class InstallArgs:
    """The install command's own flags (the shared ones are in :class:`config.Flags`)."""

    target: str | None = None
    archive: Path | None = None
    sha256: str | None = None
    manifest: Path | None = None
    no_login: bool = False
    modify_path: bool | None = None  # None: yes when a person runs it (see modify_path)
    force: bool = False
    quiet: bool = False
    verbose: bool = False


@dataclass(frozen=True)
class Pin:
    """The manifest an install is pinned to, and where it came from (for messages and --json)."""

    manifest: Manifest
    origin: str  # what follows "the manifest" in messages: its path, or "shipped for <ver>"
    shipped: bool
    file: str | None = None  # for --json when ``origin`` is not the path

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file or self.origin,
            "shipped": self.shipped,
            "version": self.manifest.version,
        }


def run(args: InstallArgs, settings: Settings) -> dict[str, Any]:
    """Install and report: the ``--json`` object of SPEC §6."""
    reporter = Reporter(quiet=args.quiet, verbose=args.verbose, no_color=settings.no_color)
    target = resolve_target(args.target)
    if args.archive is None:  # a local archive's version is the archive's
        settings = settings.settled(target, reporter.info, reporter.debug)
    request = InstallRequest(
        version=parse_version(settings.version),
        target=target,
        sources=settings.sources,
        archive=args.archive,
        sha256=parse_sha256_pin(args.sha256),
        force=args.force,
    )
    notice = promotion_notice(request.target, platform.machine(), explicit=args.target is not None)
    if notice:
        reporter.info(notice)
    request, pin = pin_install(request, args.manifest, settings)
    if pin is not None:
        reporter.info(f"pinned to Codex {pin.manifest.version} by the manifest {pin.origin}")
    hooks = Hooks(
        plan=settings.network,
        sleep=settings.sleep,
        notice=notices(reporter),
        debug=reporter.debug,
        progress=reporter.progress,
        npm_resolver_factory=settings.npm_factory(reporter.info),
    )
    result = _install(request, settings, hooks, reporter)
    report(result, reporter)
    data = {"ok": True, "exit_code": 0, **result.to_json()}
    pinned = pin is not None and result.fell_back_from != "manifest"
    data["pinned_by"] = "manifest" if pinned else _request_pin(args)
    data["manifest"] = pin.to_json() if pin is not None else None
    data["path"] = path_setup(settings, args.modify_path, reporter)
    signed = _sign_in(settings, args, on_path=data["path"]["on_path"])
    data["sign_in"] = signed.to_json()
    if signed.state == "failed":
        # Codex is installed, but the sign-in asked for did not happen: SPEC §6's 8.
        data["exit_code"] = SIGN_IN_FAILED
    data["github_actions"] = ci.step_outputs(settings.env, result)
    return data


SIGN_IN_FAILED = 8


def _install(
    request: InstallRequest, settings: Settings, hooks: Hooks, reporter: Reporter
) -> InstallResult:
    """install(), offline-aware: ``--offline`` makes no request (what is installed is what
    there is), and a latest that cannot be learnt keeps the installed release (npm's
    prefer-offline). A version that does not exist names the nearest ones that do."""
    current = _current_for(settings, request.target)
    if settings.offline:
        # The plan itself refuses any request (http.network): this picks what is installed.
        request = _offline_request(request, settings, current)
    elif request.version.is_latest and not (request.archive or request.force) and current:
        return _latest_or_current(request, current, settings, hooks, reporter)
    return _install_or_nearest(request, settings, hooks, reporter)


def _latest_or_current(
    request: InstallRequest, current: str, settings: Settings, hooks: Hooks, reporter: Reporter
) -> InstallResult:
    """The latest release, or the installed ``current`` kept when the latest cannot be learnt."""
    try:
        return install(request, settings.paths, hooks)
    except NetworkError as err:
        reporter.warn(f"the latest release could not be checked ({err.line()})")
        reporter.info(f"keeping codex {current} (installed); run `codex-install` again later")
        return install(replace(request, version=VersionSpec(current)), settings.paths, hooks)


def _install_or_nearest(
    request: InstallRequest, settings: Settings, hooks: Hooks, reporter: Reporter
) -> InstallResult:
    """install(); a named version that does not exist names the nearest ones that do."""
    try:
        return install(request, settings.paths, hooks)
    except NotFoundError as err:
        wanted = request.version.version
        if wanted is None or request.archive is not None or request.manifest is not None:
            raise
        raise _with_nearest(err, wanted, request.target, settings, reporter) from err


def _current_for(settings: Settings, target: str) -> str | None:
    from codex_install import layout

    releases = layout.list_releases(settings.paths)
    return next((r.version for r in releases if r.current and r.target == target), None)


def _offline_request(
    request: InstallRequest, settings: Settings, current: str | None
) -> InstallRequest:
    if request.archive is not None:
        return request
    if request.force:
        raise UsageError("--force downloads again, and --offline forbids any request")
    wanted = request.version.version
    if wanted is None:
        if current is None:
            raise NetworkError(
                "no Codex is installed for this target, and --offline forbids downloading one",
                hint="drop --offline, or install a local file with --archive FILE --sha256 HEX",
            )
        return replace(request, version=VersionSpec(current), manifest=None)
    if not layout_complete(settings, wanted, request.target):
        raise NetworkError(
            f"codex {wanted} is not installed, and --offline forbids downloading it",
            hint="see `codex-install list` for what is installed",
        )
    return replace(request, manifest=None)


def layout_complete(settings: Settings, version: str, target: str) -> bool:
    from codex_install import layout

    return layout.is_complete(settings.paths.release_dir(version, target))


def _with_nearest(
    err: NotFoundError, wanted: str, target: str, settings: Settings, reporter: Reporter
) -> NotFoundError:
    """The not-found error, naming the nearest versions that exist and ``ls-remote``."""
    from codex_install.suggest import nearest_versions

    try:
        quiet = Reporter(quiet=True)
        known = settings.offered_versions(target, quiet.info, quiet.debug)
    except CodexInstallError:
        known = []
    near = nearest_versions(wanted, [v for v in known if v != wanted])
    if not near:
        return NotFoundError(err.message, hint="see `codex-install ls-remote` for what exists")
    return NotFoundError(
        f"codex {wanted} does not exist ({err.message})",
        hint=f"the nearest: {', '.join(near)}; all of them: `codex-install ls-remote`",
    )


def promotion_notice(target: str, machine: str, *, explicit: bool) -> str | None:
    """Under Rosetta 2 this Python is x86_64 but the Mac is Apple silicon: say why the arm64
    build is installed (platforms.detect_target chose it)."""
    if explicit or target != "aarch64-apple-darwin" or machine.lower() not in ("x86_64", "amd64"):
        return None
    return (
        "this Python runs under Rosetta 2 (x86_64) on Apple silicon: installing the native "
        "arm64 build (aarch64-apple-darwin), which runs faster; pass --target "
        "x86_64-apple-darwin to keep the Intel one"
    )


def report(result: InstallResult, reporter: Reporter) -> None:
    """One line saying what happened, in the user's words."""
    reporter.info(result.outcome())
    reporter.debug(f"  sha256 {result.sha256 or 'not recorded'}")
    reporter.debug(f"  release {result.release_dir}")


def _request_pin(args: InstallArgs) -> str | None:
    if args.manifest:
        return "manifest"
    if args.sha256:
        return "sha256"
    return None


def _sign_in(settings: Settings, args: InstallArgs, *, on_path: bool) -> SignInResult:
    from codex_install.signin import first_sign_in  # the auth modules: only past the install

    # CODEX_NON_INTERACTIVE means "never prompt", not "skip": an API key in the environment
    # still signs in (SPEC §6, §10). Only --no-login skips the step.
    return first_sign_in(
        settings.paths,
        codex=settings.paths.current / "bin" / "codex",
        env=settings.env,
        interactive=False if settings.non_interactive else None,
        no_login=args.no_login,
        echo=(lambda _line: None) if args.quiet else None,
        # A hint names the codex that runs as written in this terminal.
        shown=settings.paths.bin_link if not on_path else None,
    )


# --- PATH (SPEC §5) ---


def wants_profile_change(settings: Settings, asked: bool | None, interactive: bool) -> bool:
    """Whether to put the bin dir in the shell profile: as asked (--modify-path /
    --no-modify-path), else when a person runs the install (a terminal, not CI) and has not
    opted out (CODEX_INSTALL_NO_MODIFY_PATH=1), as install.sh, rustup and uv do."""
    if asked is not None:
        return asked
    return interactive and not (settings.no_modify_path or settings.ci or settings.github_path)


def path_setup(
    settings: Settings, modify: bool | None, reporter: Reporter, *, interactive: bool | None = None
) -> dict[str, Any]:
    """Warn about other codex on PATH, add the bin dir where it belongs; the ``path`` JSON."""
    from codex_install.terminal import is_interactive, stream_isatty

    paths, env = settings.paths, settings.env
    if interactive is None:
        interactive = is_interactive(env, stream_isatty)
    state: dict[str, Any] = {
        "bin_dir": str(paths.bin_dir),
        "on_path": False,
        "conflicts": [],
        "github_path": False,
        "profile": None,
        "profiles": [],
    }
    conflicts = pathenv.find_conflicts(paths.bin_dir, env)
    where = "comes first on PATH" if pathenv.on_path(paths.bin_dir, env) else "is on PATH"
    for c in conflicts:
        by = "" if c.owner == "unknown" else f" (installed by {c.owner})"
        reporter.warn(f"another codex at {c.path}{by} {where}; remove it with: {c.remove_with}")
    state["conflicts"] = [
        {"path": str(c.path), "owner": c.owner, "remove_with": c.remove_with} for c in conflicts
    ]
    if pathenv.add_to_github_path(paths.bin_dir, env):
        reporter.info(f"added {paths.bin_dir} to GITHUB_PATH for later steps")
        state["github_path"] = True
    if pathenv.on_path(paths.bin_dir, env):
        state["on_path"] = True
    elif settings.github_path and not modify:
        # GitHub Actions: later steps have it; a shell profile is no use on a runner.
        reporter.info(
            f"{paths.bin_dir} is not on your PATH in this step; later steps get it from "
            f"GITHUB_PATH (here, run {paths.bin_link})"
        )
    else:
        _profile_setup(
            settings, wants_profile_change(settings, modify, interactive), reporter, state
        )
    return state


def _profile_setup(
    settings: Settings, modify: bool, reporter: Reporter, state: dict[str, Any]
) -> None:
    paths = settings.paths
    home = Path(settings.env.get("HOME") or Path.home())
    profiles = pathenv.profiles_for(settings.env, home)
    export = pathenv.path_line(paths.bin_dir, home / ".profile")
    if not modify:
        reporter.info(f"{paths.bin_dir} is not on your PATH; add it with:")
        reporter.info(f"  {pathenv.path_line(paths.bin_dir, profiles[0])}")
        link = shlex.quote(str(paths.bin_link))
        reporter.info(
            f"  in {profiles[0]} (or rerun with --modify-path); until then, run codex by its "
            f"full path: {link} (sign in with: {link} login)"
        )
        return
    done: dict[str, list[str]] = {}
    for profile in profiles:
        action = pathenv.modify_profile(profile, paths.bin_dir)
        done.setdefault(action, []).append(str(profile))
    said = {"added": "added to", "updated": "updated in", "configured": "already set in"}
    parts = [f"{said[a]} {', '.join(files)}" for a, files in done.items()]
    reporter.info(f"PATH: {paths.bin_dir} {'; '.join(parts)} (new terminals get it)")
    reporter.info(f"Current terminal: {export}")
    state["profile"] = str(profiles[0])
    state["profiles"] = [str(p) for p in profiles]


# --- pinning the request (before the lock: a bad manifest fails fast, with exit 2) ---


def pin_install(
    request: InstallRequest, manifest_file: Path | None, settings: Settings
) -> tuple[InstallRequest, Pin | None]:
    """Pin ``request`` to ``manifest_file``, or to the shipped manifest for its version when
    one applies (see :func:`shipped_pin`); unchanged and ``None`` otherwise."""
    if manifest_file is not None:
        from codex_install.manifest import load_manifest  # a pin loads the manifest modules

        pin: Pin | None = Pin(load_manifest(manifest_file), str(manifest_file), shipped=False)
    else:
        pin = shipped_pin(request, settings.manifest_override)
    if pin is None:
        return request, None
    return apply_pin(request, pin), pin


def apply_pin(request: InstallRequest, pin: Pin) -> InstallRequest:
    """The request with the manifest's version and pins; UsageError (exit 2) when the request
    and the manifest cannot go together."""
    manifest = pin.manifest
    wanted = request.version.version
    if wanted is not None and wanted != manifest.version:
        raise UsageError(
            f"--version {wanted} does not match the manifest {pin.origin}, "
            f"which pins Codex {manifest.version}"
        )
    version = VersionSpec(manifest.version)
    if request.archive is not None:
        asset = archive_entry(manifest, request.archive.name, request.target, pin.origin)
        if request.sha256 is not None and request.sha256 != asset.sha256:
            raise UsageError(
                f"--sha256 {request.sha256[:12]}… disagrees with the manifest {pin.origin}, "
                f"which pins {asset.name} to {asset.sha256[:12]}…"
            )
        return replace(request, version=version, sha256=asset.sha256)
    from codex_install.sources.pinned import pinned_candidates  # as in pin_install

    pinned_candidates(manifest, request.target, request.sources, origin=pin.origin)
    return replace(request, version=version, manifest=manifest, manifest_optional=pin.shipped)


def archive_entry(manifest: Manifest, name: str, target: str, origin: str) -> ManifestAsset:
    """The manifest entry for a local ``--archive`` file, matched by file name."""
    asset = manifest.asset_named(name, target) or manifest.asset_named(name)
    if asset is None:
        pinned = ", ".join(a.name for a in manifest.assets_for(target)) or "nothing"
        raise UsageError(
            f"the manifest {origin} pins no archive named {name} (for {target} it pins: {pinned})"
        )
    if asset.target != target:
        raise UsageError(
            f"{name} is the {asset.target} archive in the manifest {origin}",
            hint=f"pass --target {asset.target}",
        )
    return asset


def shipped_pin(request: InstallRequest, override: str | None) -> Pin | None:
    """The shipped manifest for the requested version, when it applies.

    It applies to a pinned version (not latest) with no other pin (--sha256, --archive) and no
    mirror, when the manifest covers the target for the source in use. With the auto or github
    source it only applies to the official ``openai/codex`` on api.github.com: a shipped manifest
    says nothing about another repository or GitHub host (--repo, --github-api-url).
    """
    version = request.version.version
    if version is None or not _may_use_shipped(request):
        return None
    # Past the checks: `--version latest` (most installs) loads no manifest module.
    from codex_install.manifest import shipped_manifest, shipped_origin
    from codex_install.manifest.shipped import manifest_dirs
    from codex_install.sources.pinned import usable_candidates

    manifest = shipped_manifest(version, manifest_dirs(override))
    if manifest is None:
        return None
    source = request.sources.effective
    if not usable_candidates(manifest, request.target, source, need_url=source == "auto"):
        return None
    file = shipped_origin(manifest.version, override)
    # The wheel's manifest is no file on the user's disk: name it by what it is instead.
    origin = file if override else f"shipped for {manifest.version}"
    return Pin(manifest, origin, shipped=True, file=file)


def _may_use_shipped(request: InstallRequest) -> bool:
    sources = request.sources
    if request.archive is not None or request.sha256 is not None:
        return False
    if sources.mirror or sources.source == "mirror":
        return False
    official = (
        sources.github.api_url.rstrip("/") == DEFAULT_API_URL
        and sources.github.repo == DEFAULT_REPO
    )
    return official or sources.source == "npm"

"""What each install-side command does, between the click layer and the core: option and
environment precedence in one place, human output through the Reporter."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codex_install import pathenv, standalone
from codex_install.errors import NotFoundError, UnsupportedPlatformError, UsageError
from codex_install.install import Hooks, InstallRequest, InstallResult, install
from codex_install.paths import Paths, github_token, resolve_paths
from codex_install.platforms import resolve_target
from codex_install.resolve import SourceOptions
from codex_install.sources.github import DEFAULT_API_URL, DEFAULT_REPO, GitHubConfig
from codex_install.ui import Reporter
from codex_install.versions import parse_version

if TYPE_CHECKING:
    from codex_install.manifest_pin import Pin


def source_options(
    env: Mapping[str, str], options: Mapping[str, Any], cache: Path
) -> SourceOptions:
    """Flags win over environment variables, which win over defaults."""
    source = options.get("source") or env.get("CODEX_INSTALL_SOURCE") or "auto"
    if source not in ("auto", "github", "mirror", "npm"):
        raise UsageError(f"unknown source {source!r} (auto, github, mirror, npm)")
    return SourceOptions(
        source=source,  # type: ignore[arg-type]  # checked above
        github=GitHubConfig(
            api_url=options.get("github_api_url") or env.get("GITHUB_API_URL") or DEFAULT_API_URL,
            repo=options.get("repo") or DEFAULT_REPO,
            token=github_token(env),
            cache_dir=cache,
            ca_bundle=env.get("SSL_CERT_FILE") or env.get("SSL_CERT_DIR") or None,
        ),
        mirror=options.get("mirror") or env.get("CODEX_INSTALL_MIRROR") or None,
        npm_registry=options.get("npm_registry") or None,
    )


def _sha256_option(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().lower().removeprefix("sha256:")
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise UsageError("--sha256 must be 64 hex digits")
    return value


def _hooks(env: Mapping[str, str], reporter: Reporter, opts: SourceOptions) -> Hooks:
    return Hooks(
        notice=reporter.info,
        progress=reporter.progress,
        env=env,
        npm_resolver_factory=_npm_factory(env, opts, reporter.info),
    )


def _npm_factory(
    env: Mapping[str, str], opts: SourceOptions, notice: Callable[[str], None]
) -> Any:
    try:
        npm = importlib.import_module("codex_install.sources.npm")
    except ImportError:
        return None
    factory = getattr(npm, "resolver_factory", None)
    return factory(env, opts.npm_registry, notice=notice) if factory is not None else None


def run_install(env: Mapping[str, str], options: Mapping[str, Any]) -> dict[str, Any]:
    reporter = Reporter(quiet=bool(options.get("quiet")), verbose=bool(options.get("verbose")))
    paths = resolve_paths(
        env, codex_home_opt=options.get("codex_home"), bin_dir_opt=options.get("bin_dir")
    )
    version = parse_version(options.get("version") or env.get("CODEX_RELEASE"))
    target = resolve_target(options.get("target"))
    sources = source_options(env, options, paths.cache_dir)
    request = InstallRequest(
        version=version,
        target=target,
        sources=sources,
        archive=options.get("archive"),
        sha256=_sha256_option(options.get("sha256")),
        force=bool(options.get("force")),
    )
    request, pin = _pin_to_manifest(request, options.get("manifest"), env)
    if pin is not None:
        reporter.info(f"pinned to Codex {pin.manifest.version} by the manifest {pin.origin}")
    result = install(request, paths, _hooks(env, reporter, sources))
    if not result.reused:
        reporter.info(
            f"installed codex {result.version} ({result.target}, {result.layout} layout, "
            f"from {result.source}) in {result.timings.get('total', 0):.1f}s"
        )
        reporter.debug(f"  sha256 {result.sha256}")
        reporter.debug(f"  release {result.release_dir}")
    path_state = _path_setup(paths, env, bool(options.get("modify_path")), reporter)
    signin = _sign_in(paths, env, options, reporter)
    data = result.to_json()
    data["ok"] = True
    pinned = pin is not None and result.fell_back_from != "manifest"
    data["pinned_by"] = "manifest" if pinned else request_pin(options)
    data["manifest"] = pin.to_json() if pin is not None else None
    data["path"] = path_state
    data["sign_in"] = signin
    return data


def request_pin(options: Mapping[str, Any]) -> str | None:
    if options.get("manifest"):
        return "manifest"
    if options.get("sha256"):
        return "sha256"
    return None


def _pin_to_manifest(
    request: InstallRequest, manifest_file: Path | None, env: Mapping[str, str]
) -> tuple[InstallRequest, Pin | None]:
    """``--manifest FILE``, or the manifest shipped for a pinned ``--version`` (SPEC §7)."""
    from codex_install.manifest_pin import pin_install

    return pin_install(request, Path(manifest_file) if manifest_file else None, env)


def _path_setup(
    paths: Paths, env: Mapping[str, str], modify: bool, reporter: Reporter
) -> dict[str, Any]:
    state: dict[str, Any] = {"bin_dir": str(paths.bin_dir), "on_path": False, "conflicts": []}
    conflicts = pathenv.find_conflicts(paths.bin_dir, env)
    where = "comes first on PATH" if pathenv.on_path(paths.bin_dir, env) else "is on PATH"
    for c in conflicts:
        reporter.warn(f"another codex at {c.path} {where}; remove it with: {c.remove_with}")
    state["conflicts"] = [{"path": str(c.path), "remove_with": c.remove_with} for c in conflicts]
    if pathenv.add_to_github_path(paths.bin_dir, env):
        reporter.info(f"added {paths.bin_dir} to GITHUB_PATH for later steps")
        state["github_path"] = True
    if pathenv.on_path(paths.bin_dir, env):
        state["on_path"] = True
        return state
    if env.get("GITHUB_PATH") and not modify:
        # GitHub Actions: later steps have it; a shell profile is no use on a runner.
        reporter.info(
            f"{paths.bin_dir} is not on your PATH in this step; later steps get it from "
            f"GITHUB_PATH (here, run {paths.bin_link})"
        )
        return state
    home = Path(env.get("HOME") or Path.home())
    profile = pathenv.profile_for(env, home)
    if modify:
        if pathenv.modify_profile(profile, paths.bin_dir):
            reporter.info(f"added {paths.bin_dir} to PATH in {profile}; open a new shell")
        else:
            reporter.info(f"{profile} already adds {paths.bin_dir} to PATH; open a new shell")
        state["profile"] = str(profile)
    else:
        reporter.info(
            f"{paths.bin_dir} is not on your PATH; add it with:\n"
            f"  {pathenv.path_line(paths.bin_dir, profile)}\n"
            "  (or rerun with --modify-path)"
        )
    return state


def _sign_in(
    paths: Paths, env: Mapping[str, str], options: Mapping[str, Any], reporter: Reporter
) -> dict[str, Any]:
    from codex_install.signin import first_sign_in

    # CODEX_NON_INTERACTIVE only means "never prompt": with an API key in the environment the
    # sign-in still runs (SPEC §6, §10); first_sign_in reads it through codex_install.terminal.
    result = first_sign_in(
        paths,
        codex=paths.current / "bin" / "codex",
        env=env,
        no_login=bool(options.get("no_login")),
        echo=None if not options.get("quiet") else (lambda _line: None),
    )
    return result.to_json()


def run_resolve(env: Mapping[str, str], options: Mapping[str, Any]) -> dict[str, Any]:
    from codex_install.httpclient import make_client
    from codex_install.resolve import resolve

    paths = resolve_paths(env)
    version = parse_version(options.get("version") or env.get("CODEX_RELEASE"))
    target = resolve_target(options.get("target"))
    sources = source_options(env, options, paths.cache_dir)
    reporter = Reporter()
    with make_client() as client:
        factory = _npm_factory(env, sources, reporter.info)
        resolved = resolve(
            sources,
            version,
            target,
            client=client,
            notice=reporter.info,
            npm_resolver=factory(client) if factory else None,
        )
    sel = resolved.selection
    sha256 = sel.archive.sha256
    if resolved.sums is not None:
        sha256 = resolved.sums.get(sel.archive.name, sha256)
    return {
        "version": sel.version,
        "target": sel.target,
        "layout": sel.layout,
        "asset": sel.archive.name,
        "url": sel.archive.url,
        "size": sel.archive.size,
        "sha256": sha256,
        "integrity": sel.integrity,
        "source": sel.source,
        "fell_back_from": resolved.fell_back_from,
    }


def fetch_release_for(
    env: Mapping[str, str], options: Mapping[str, Any], client: Any
) -> tuple[Any, bool]:
    """The Release a distribution command works on (github or mirror source), and whether it
    is the latest release."""
    from codex_install.sources import github, mirror

    paths = resolve_paths(env)
    spec = parse_version(options.get("version") or "latest")
    sources = source_options(env, options, paths.cache_dir)
    if sources.source == "npm":
        raise UsageError("this command needs release archives: use --source github or mirror")
    if sources.mirror and sources.source in ("auto", "mirror"):
        release = mirror.fetch_release(client, sources.mirror, spec)
    else:
        release = github.fetch_release(sources.github, spec)
    return release, spec.is_latest


def run_mirror_sync(env: Mapping[str, str], options: Mapping[str, Any]) -> dict[str, Any]:
    from codex_install import mirror_sync
    from codex_install.httpclient import make_client
    from codex_install.platforms import SUPPORTED_TARGETS, validate_target

    reporter = Reporter(quiet=bool(options.get("quiet")))
    targets = [validate_target(t) for t in options.get("target") or ()] or list(SUPPORTED_TARGETS)
    output = Path(options["output"])
    with make_client() as client:
        release, is_latest = fetch_release_for(env, options, client)
        reporter.info(f"syncing codex {release.version} ({len(targets)} targets) into {output}")
        result = mirror_sync.sync(
            release, targets, output, client=client, is_latest=is_latest, notice=reporter.info
        )
    reporter.info(f"mirror ready: {result.directory}")
    return result.to_json()


def run_use(paths: Paths, version: str, target: str | None, *, force: bool = False) -> str:
    from codex_install.lock import file_lock

    spec = parse_version(version)
    if spec.version is None:
        raise UsageError("use needs a version, e.g. `codex-install use 0.169.0`")
    with file_lock(paths.lock_file):
        release = standalone.find_release(
            paths, spec.version, target or _host_or_none(), exact=target is not None
        )
        # A bin link that cannot be written fails here, before `current` has moved on.
        standalone.check_writable(paths, force=force)
        standalone.activate(paths, release.path)
        standalone.link_bin(paths, force=force)
    return f"codex {release.version} ({release.target}) is now current"


def run_uninstall(
    paths: Paths, version: str | None, target: str | None, env: Mapping[str, str] | None = None
) -> list[str]:
    from codex_install.lock import file_lock

    pinned: str | None = None
    if version:
        pinned = parse_version(version).version
        if pinned is None:  # "latest" must not fall through to removing everything
            raise UsageError(
                "uninstall takes an installed version (see `codex-install list`), "
                "or no version to remove everything"
            )
    if paths.standalone.exists() or paths.bin_link.is_symlink():
        with file_lock(paths.lock_file):
            removed = standalone.uninstall(
                paths, pinned, target or _host_or_none(), exact=target is not None
            )
            if pinned is None and env is not None:
                for link in pathenv.dangling_links(paths.standalone, env):
                    link.unlink(missing_ok=True)
                    removed.append(str(link))
    elif pinned is not None:
        raise NotFoundError(f"codex {pinned} is not installed (see `codex-install list`)")
    else:
        removed = []
    if not removed:
        return ["nothing to uninstall"]
    return [f"removed {p}" for p in removed]


def _host_or_none() -> str | None:
    try:
        return resolve_target(None)
    except UnsupportedPlatformError:
        return None


__all__ = ["InstallResult", "run_install", "run_resolve", "run_uninstall", "run_use"]

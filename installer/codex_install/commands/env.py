"""``codex-install env``: the paths and settings a command would run with, and where each
comes from (``pipx environment``). Never a secret: tokens and keys are only said to be set,
and every URL is shown without its user, password or query (``errors.shown_url``)."""

from __future__ import annotations

from collections.abc import Mapping

from codex_install import __version__
from codex_install.config import MIRROR_ENV, OFFLINE_ENV, SOURCE_ENV, Settings
from codex_install.errors import CodexInstallError, printable, shown_url

Row = tuple[str, "str | bool | None", str]  # name, value, where it comes from
_PROXY_VARS = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")
_SECRET_VARS = ("GITHUB_TOKEN", "GH_TOKEN", "OPENAI_API_KEY", "CODEX_API_KEY")


def rows(settings: Settings) -> list[Row]:
    found: list[Row] = [
        ("codex_install", __version__, "this program's version"),
        *_path_rows(settings),
        *_source_rows(settings),
        *_registry(settings),
        *_behaviour_rows(settings),
        *_proxy_rows(settings.env),
        *_secret_rows(settings.env),
    ]
    return [(n, printable(v, 300) if isinstance(v, str) else v, o) for n, v, o in found]


def _path_rows(settings: Settings) -> list[Row]:
    env, flags, paths = settings.env, settings.flags, settings.paths
    return [
        ("codex_home", str(paths.codex_home), _origin(flags.codex_home, env, "CODEX_HOME")),
        (
            "bin_dir",
            str(paths.bin_dir),
            _origin(flags.bin_dir, env, "CODEX_INSTALL_DIR", "XDG_BIN_HOME"),
        ),
        (
            "cache_dir",
            str(paths.cache_dir),
            _origin(None, env, "CODEX_INSTALL_CACHE_DIR", "XDG_CACHE_HOME"),
        ),
    ]


def _source_rows(settings: Settings) -> list[Row]:
    env, flags = settings.env, settings.flags
    api_url = flags.github_api_url or env.get("GITHUB_API_URL") or "https://api.github.com"
    return [
        (
            "source",
            flags.source or env.get(SOURCE_ENV) or "auto",
            _origin(flags.source, env, SOURCE_ENV),
        ),
        (
            "github_api_url",
            shown_url(api_url),
            _origin(flags.github_api_url, env, "GITHUB_API_URL"),
        ),
        ("repo", flags.repo or "openai/codex", "--repo" if flags.repo else "default"),
        (
            "mirror",
            _url(flags.mirror or env.get(MIRROR_ENV)),
            _origin(flags.mirror, env, MIRROR_ENV),
        ),
    ]


def _behaviour_rows(settings: Settings) -> list[Row]:
    env = settings.env
    return [
        ("offline", settings.offline, _origin(settings.flags.offline or None, env, OFFLINE_ENV)),
        ("color", settings.color, "--color, NO_COLOR, FORCE_COLOR, CLICOLOR_FORCE"),
        (
            "modify_path",
            "no" if settings.no_modify_path or settings.ci else "on a terminal",
            _origin(None, env, "CODEX_INSTALL_NO_MODIFY_PATH"),
        ),
    ]


def _proxy_rows(env: Mapping[str, str]) -> list[Row]:
    found: list[Row] = []
    for name in _PROXY_VARS:
        value = env.get(name) or env.get(name.lower())
        shown = value if name == "NO_PROXY" or not value else shown_url(value)
        found.append((name.lower(), shown, name if value else "not set"))
    return found


def _secret_rows(env: Mapping[str, str]) -> list[Row]:
    return [
        (name.lower(), "set (not shown)" if env.get(name) else None, name) for name in _SECRET_VARS
    ]


def lines(found: list[Row], *, verbose: bool = False) -> list[str]:
    """``name = value``, aligned; -v adds where each value comes from."""
    width = max(len(name) for name, _, _ in found)
    out = []
    for name, value, origin in found:
        shown = (
            {True: "yes", False: "no", None: "-"}.get(value, value)
            if not isinstance(value, str)
            else value
        )
        line = f"{name.ljust(width)} = {shown}"
        out.append(f"{line}  ({origin})" if verbose else line)
    return out


def _origin(flag: object, env: Mapping[str, str], *names: str) -> str:
    if flag is not None:
        return "command line"
    return next((name for name in names if env.get(name)), "default")


def _url(url: str | None) -> str | None:
    return shown_url(url) if url else None


def _registry(settings: Settings) -> list[Row]:
    """The npm registry as the npm source would pick it, from the flag, the environment and the
    .npmrc files (npm itself is not run: that is what an install does when none is set)."""
    from codex_install.sources.npm.npmrc import (
        discover,
        npmrc_locations,
        read_npmrc_files,
        working_dir,
    )

    env = settings.env
    try:
        cwd = working_dir()
        project, user = read_npmrc_files(env, cwd)
        registry = discover(
            settings.flags.npm_registry, env, project, user, None,
            paths=npmrc_locations(env, cwd),
        )  # fmt: skip
    except (CodexInstallError, OSError) as err:
        return [("npm_registry", None, f"unreadable: {printable(str(err), 120)}")]
    if registry is None:
        return [("npm_registry", None, "`npm config get registry` at install time")]
    return [("npm_registry", shown_url(registry.display), registry.origin)]

"""The command line: the only click module. Each command turns its flags into one frozen value
and calls ``commands.<verb>``; every CodexInstallError becomes one stderr line and its exit
code here, and nowhere else (SPEC §6)."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
from click.shell_completion import get_completion_class

from codex_install import __version__

# Each command imports its commands.<verb> module inside its function: a verb pays only for its
# own imports (the no-op `install --version latest` skips auth, homebrew, manifests: ~70 ms).
from codex_install.config import Flags, Settings
from codex_install.errors import CodexInstallError, FilesystemError, UsageError, printable, scrub
from codex_install.signals import exit_code, unwind_on_termination
from codex_install.ui import Reporter

if TYPE_CHECKING:
    from codex_install.tables import Style

F = TypeVar("F", bound=Callable[..., Any])
_SHOW_VERSION = "\0show"
_ARGV = "codex_install.argv"
INTERRUPTED = "codex-install: interrupted"
COMPLETE_VAR = "_CODEX_INSTALL_COMPLETE"  # what click's main() reads for completion requests
SOURCES = ("auto", "github", "mirror", "npm")
# Every page fits 80 columns, whatever the terminal; -h is --help everywhere (as every anchor).
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 80}
# The top page lists the commands by purpose (uv's grouping), not alphabetically.
SECTIONS = (
    ("Everyday", ("install", "update", "check", "list", "use", "uninstall", "env")),
    ("Releases", ("ls-remote", "resolve", "prune")),
    ("Sign-in", ("login", "auth")),
    ("Packaging", ("mirror", "manifest", "homebrew")),
    ("Shell", ("completion", "help")),
)
_OBJ_FLAGS = ("quiet", "verbose", "color", "offline")


def _env(ctx: click.Context) -> Mapping[str, str]:
    obj = ctx.find_root().obj
    if isinstance(obj, dict) and isinstance(obj.get("env"), Mapping):
        env: Mapping[str, str] = obj["env"]
        return env
    return os.environ


def _obj(ctx: click.Context) -> dict[str, Any]:
    """The root context's dict, where the flags every command takes are kept (-q, -v,
    --color, --offline: accepted before or after the command name)."""
    root = ctx.find_root()
    if not isinstance(root.obj, dict):
        root.obj = {}
    obj: dict[str, Any] = root.obj
    return obj


def _keep(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if value and param.name:
        _obj(ctx)[param.name] = value


def _settings(ctx: click.Context, **flags: Any) -> Settings:
    """Settings from this command's shared flags (see config.Flags) and the environment."""
    obj = _obj(ctx)
    flags.setdefault("color", obj.get("color"))
    flags.setdefault("offline", bool(obj.get("offline")))
    settings = Settings.from_env(_env(ctx), Flags(**flags))
    sleep = obj.get("sleep")  # given by whoever runs the CLI in-process, as its env is
    return dataclasses.replace(settings, sleep=sleep) if callable(sleep) else settings


def _reporter(ctx: click.Context, settings: Settings | None = None) -> Reporter:
    obj = _obj(ctx)
    settings = settings if settings is not None else _settings(ctx)
    return Reporter(
        quiet=bool(obj.get("quiet")), verbose=bool(obj.get("verbose")), no_color=settings.no_color
    )


def _say(ctx: click.Context, line: str) -> None:
    """A human line on stderr, unless -q."""
    if not _obj(ctx).get("quiet"):
        click.echo(line, err=True)


def _emit_json(data: Mapping[str, Any]) -> None:
    """The one JSON object of ``--json``, no secret the process holds in any of its strings."""
    click.echo(scrub(json.dumps(data, indent=2)) + "\n", nl=False)


def _set_json_mode(ctx: click.Context, as_json: bool) -> None:
    """Failures after this point also print the one JSON object ``--json`` promises."""
    ctx.ensure_object(dict)
    ctx.obj["json"] = as_json


def fail(err: CodexInstallError, *, as_json: bool = False) -> None:
    click.echo(err.line("codex-install: error: "), err=True)
    if as_json:
        _emit_json({"ok": False, "exit_code": err.exit_code, "error": err.line()})
    sys.exit(err.exit_code)


class _HelpGroup(click.Group):
    """Command summaries in full (wrapped to the terminal), never cut off with "...", listed
    by purpose where the group says how (``sections``)."""

    sections: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = self._summaries(ctx)
        width = max(map(len, rows), default=0)  # one column for every section
        for title, names in self._sections(rows):
            listed = [(n.ljust(width), rows[n]) for n in names if n in rows]
            if listed:
                with formatter.section(title):
                    formatter.write_dl(listed, col_max=12)

    def _summaries(self, ctx: click.Context) -> dict[str, str]:
        """Each visible command's summary, in the group's order."""
        commands = ((name, self.get_command(ctx, name)) for name in self.list_commands(ctx))
        return {
            name: cmd.get_short_help_str(limit=1_000)
            for name, cmd in commands
            if cmd is not None and not cmd.hidden
        }

    def _sections(self, rows: Mapping[str, str]) -> list[tuple[str, tuple[str, ...]]]:
        """The group's sections, then "Commands" for whatever none of them places."""
        placed = {name for _, names in self.sections for name in names}
        return [*self.sections, ("Commands", tuple(n for n in rows if n not in placed))]


class _Group(_HelpGroup):
    """Translate expected failures into one line and an exit code; never a traceback."""

    sections = SECTIONS

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [
            record
            for param in self.get_params(ctx)
            if param.name in _TOP_OPTIONS or param is self.get_help_option(ctx) or param.name == "v"
            if (record := param.get_help_record(ctx)) is not None
        ]
        if rows:
            with formatter.section("Options"):
                formatter.write_dl(rows)
        self.format_commands(ctx, formatter)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[_ARGV] = argv = list(args)  # click consumes ``args`` while parsing
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as err:
            _usage_failure(err, argv)
            raise
        except CodexInstallError as err:  # a flag's own check (--source githb)
            fail(err, as_json="--json" in argv)
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CodexInstallError as err:
            fail(err, as_json=_in_json_mode(ctx))
        except KeyboardInterrupt as interrupt:  # Ctrl-C, and SIGTERM/SIGHUP (signals.py)
            _interrupted(interrupt)
        except click.UsageError as err:
            _usage_failure(err, ctx.meta.get(_ARGV, []))
            raise
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise  # click's own control flow (ctx.exit, usage errors) is not a failure of ours
        except OSError as err:
            fail(_filesystem_error(err), as_json=_in_json_mode(ctx))
        except Exception as err:  # the last resort: SPEC §6 exit 1, one line
            if _env(ctx).get("CODEX_INSTALL_DEBUG"):
                raise
            fail(_unexpected(err), as_json=_in_json_mode(ctx))


def _interrupted(interrupt: KeyboardInterrupt) -> NoReturn:
    # On a terminal the cursor sits after the progress bar or the echoed ^C: the word
    # gets a line of its own.
    click.echo(("\n" if _stderr_is_tty() else "") + INTERRUPTED, err=True)
    sys.exit(exit_code(interrupt))


def _filesystem_error(err: OSError) -> FilesystemError:
    """A filesystem or permission problem no step translated: still exit 7, one line."""
    where = f" ({err.filename})" if err.filename else ""
    return FilesystemError(f"{err.strerror or err}{where}")


def _unexpected(err: Exception) -> CodexInstallError:
    return CodexInstallError(
        f"unexpected {type(err).__name__}: {err}",
        hint="this is a bug; rerun with CODEX_INSTALL_DEBUG=1 for the traceback",
    )


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _in_json_mode(ctx: click.Context) -> bool:
    return isinstance(ctx.obj, dict) and bool(ctx.obj.get("json"))


def _usage_failure(err: click.UsageError, args: list[str]) -> None:
    """A bad flag or value under ``--json``: the caller parses stdout, so it still gets the one
    JSON object (and one stderr line) instead of click's usage text. Without ``--json``, click
    prints its usage help as usual."""
    options = args[: args.index("--")] if "--" in args else args
    if "--json" in options:
        fail(UsageError(err.format_message()), as_json=True)


def _options(*options: Callable[[F], F]) -> Callable[[F], F]:
    def apply(f: F) -> F:
        for option in reversed(options):
            f = option(f)
        return f

    return apply


_codex_home = click.option(
    "--codex-home", type=click.Path(path_type=Path), help="Codex's home (env CODEX_HOME; ~/.codex)."
)
_bin_dir = click.option(
    "--bin-dir",
    type=click.Path(path_type=Path),
    help="Where the codex link goes (env CODEX_INSTALL_DIR, XDG_BIN_HOME; default ~/.local/bin).",
)
_target = click.option("--target", metavar="TRIPLE", help="Override platform detection.")
_json = click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
_quiet = click.option(
    "-q",
    "--quiet",
    is_flag=True,
    expose_value=False,
    callback=_keep,
    help="Only warnings and errors.",
)
_verbose = click.option(
    "-v", "--verbose", is_flag=True, expose_value=False, callback=_keep, help="More detail."
)
_color = click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    expose_value=False,
    callback=_keep,
    help="Colour: auto (a terminal, unless NO_COLOR), always (FORCE_COLOR, CLICOLOR_FORCE), never.",
)
_offline = click.option(
    "--offline",
    is_flag=True,
    expose_value=False,
    callback=_keep,
    help="Make no request: use what is installed (env CODEX_INSTALL_OFFLINE=1).",
)
# What every command takes: -q, -v and --color.
_common = _options(_quiet, _verbose, _color)
_api_url = click.option("--github-api-url", metavar="URL", help="GitHub API (env GITHUB_API_URL).")
_repo = click.option("--repo", metavar="OWNER/NAME", help="Release repository (openai/codex).")
_mirror = click.option("--mirror", metavar="URL", help="Mirror tree (env CODEX_INSTALL_MIRROR).")
_npm_registry = click.option(
    "--npm-registry",
    metavar="URL",
    help="npm registry for the npm source (env NPM_CONFIG_REGISTRY, else .npmrc).",
)


def _source_choice(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """One line in our style, with the nearest name, instead of click's choice list."""
    if value is None or value in SOURCES:
        return value
    from codex_install.suggest import did_you_mean

    raise UsageError(
        f"unknown source {printable(value, 40)!r}{did_you_mean(value, SOURCES)} "
        f"(choose {', '.join(SOURCES)})"
    )


_source = click.option(
    "--source",
    metavar="[auto|github|mirror|npm]",
    default=None,
    callback=_source_choice,
    help="Where releases come from (env CODEX_INSTALL_SOURCE; default auto = github, "
    "npm fallback).",
)

install_options = _options(
    _target,
    _source,
    _api_url,
    _repo,
    _mirror,
    _npm_registry,
    click.option(
        "--archive",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Install this local archive (needs --sha256 or --manifest).",
    ),
    click.option("--sha256", metavar="HEX", help="Pin the archive's SHA-256."),
    click.option(
        "--manifest",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Pin to a release manifest (TOML).",
    ),
    _bin_dir,
    _codex_home,
    click.option(
        "--no-login",
        is_flag=True,
        help="Skip the first sign-in (CODEX_NON_INTERACTIVE=1: no prompt).",
    ),
    click.option(
        "--modify-path/--no-modify-path",
        default=None,
        help="Add the bin dir to your shell profile (default: yes on a terminal, not in CI; "
        "env CODEX_INSTALL_NO_MODIFY_PATH=1 says no).",
    ),
    click.option("--force", is_flag=True, help="Download and reinstall even if installed."),
    _offline,
    _json,
    _common,
)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        click.echo(f"codex-install {__version__}")
        ctx.exit(0)


class _VersionFlag(click.Option):
    """-V, shown as ``-V, --version`` on the top page: ``--version`` alone is the same flag
    (the optional-value ``--version`` beside it is hidden, and documented with --release)."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        return "-V, --version", self.help or ""


_release_help = (
    "The Codex version to install: latest, X.Y.Z (or vX.Y.Z, rust-vX.Y.Z), or X.Y for the "
    "newest X.Y.z (env CODEX_RELEASE; default latest). `--version VERSION` is the same."
)
CODEX_LAUNCH = """\b
Also installed: `codex-launch ARGS` runs the installed codex with ARGS
after checking its sign-in (refreshing a stale token first).
Every install option is accepted here: see `codex-install help install`.

\b
Exit codes: 0 ok, 1 unexpected, 2 usage, 3 not found, 4 network,
5 verification, 6 platform, 7 filesystem, 8 sign-in required or failed,
10 update available, 11 latest not checked (check)."""
# The top page shows only these options; the rest are install's (see `help install`).
_TOP_OPTIONS = ("release", "quiet", "verbose", "color", "offline", "as_json")


@click.group(cls=_Group, invoke_without_command=True, context_settings=CONTEXT, epilog=CODEX_LAUNCH)
@click.option(
    "-V",
    cls=_VersionFlag,
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Print codex-install's own version and exit.",
)
@click.option(
    "--version",
    "version",
    is_flag=False,
    flag_value=_SHOW_VERSION,
    default=None,
    hidden=True,
    metavar="[VERSION]",
    help="Alone: codex-install's version (as -V). With a VERSION: the same as --release.",
)
@click.option("--release", "release", metavar="VERSION", help=_release_help)
@install_options
@click.pass_context
def cli(ctx: click.Context, /, version: str | None, release: str | None, **options: Any) -> None:
    """Install, verify and run the OpenAI Codex CLI.

    \b
    With no command, installs the latest Codex, puts it on PATH and offers
    sign-in (the same as `codex-install install`):
        codex-install
        codex-install --release 0.169.0 --no-login --json
    """
    if version == _SHOW_VERSION:
        click.echo(f"codex-install {__version__}")
        ctx.exit(0)
    ctx.ensure_object(dict)
    if ctx.invoked_subcommand is None:
        ctx.invoke(install_cmd, version=release or version, **options)


# --- everyday commands (install, update, check, list, use, uninstall, env) ---


@cli.command("install")
@click.option("--release", "--version", "version", metavar="VERSION", help=_release_help)
@install_options
@click.pass_context
def install_cmd(
    ctx: click.Context,
    /,
    as_json: bool,
    codex_home: Path | None,
    bin_dir: Path | None,
    version: str | None,
    source: str | None,
    github_api_url: str | None,
    repo: str | None,
    mirror: str | None,
    npm_registry: str | None,
    **args: Any,
) -> None:
    """Install Codex (the default), put it on PATH, offer sign-in.

    Resolves, downloads, verifies and installs, then adds the bin dir to
    your shell profile when you run it in a terminal, and asks how to sign in.
    Exit 8: Codex is installed but the sign-in you chose failed.

    \b
    Examples:
        codex-install install
        codex-install install --release 0.169.0 --no-login --json
        codex-install install --mirror https://mirror.example/codex
        codex-install install --archive codex-package-T.tar.zst --sha256 HEX
    """
    from codex_install.commands import install as install_command

    _set_json_mode(ctx, as_json)
    settings = _settings(
        ctx,
        codex_home=codex_home,
        bin_dir=bin_dir,
        version=version,
        source=source,
        github_api_url=github_api_url,
        repo=repo,
        mirror=mirror,
        npm_registry=npm_registry,
    )
    obj = _obj(ctx)
    args.update(quiet=bool(obj.get("quiet")), verbose=bool(obj.get("verbose")))
    result = install_command.run(install_command.InstallArgs(**args), settings)
    if as_json:
        _emit_json(result)
    ctx.exit(int(result.get("exit_code", 0)))


_remote_options = _options(_target, _source, _api_url, _repo, _mirror, _npm_registry, _offline)


@cli.command("update")
@_remote_options
@_options(_bin_dir, _codex_home, _json, _common)
@click.pass_context
def update_cmd(ctx: click.Context, /, target: str | None, as_json: bool, **flags: Any) -> None:
    """Install the latest Codex and say what changed.

    \b
    Example:
        codex-install update
    """
    from codex_install.commands import update as update_command

    _set_json_mode(ctx, as_json)
    obj = _obj(ctx)
    args = update_command.UpdateArgs(
        target=target, quiet=bool(obj.get("quiet")), verbose=bool(obj.get("verbose"))
    )
    data = update_command.run(args, _settings(ctx, **flags))
    if as_json:
        _emit_json(data)


@cli.command("check")
@_remote_options
@_options(_codex_home, _json, _common)
@click.pass_context
def check_cmd(ctx: click.Context, /, target: str | None, as_json: bool, **flags: Any) -> None:
    """Compare the installed Codex with the latest release.

    Exit 0: up to date; 10: an update exists (or nothing is installed);
    11: the latest could not be checked (offline, or the source is
    unreachable) and the installed release is left as it is.

    \b
    Example:
        codex-install check && echo up to date
    """
    from codex_install.commands import check as check_command

    _set_json_mode(ctx, as_json)
    settings = _settings(ctx, **flags)
    checked = check_command.run(target, settings, _reporter(ctx, settings))
    if as_json:
        _emit_json(checked.to_json())
    else:
        _say(ctx, checked.message())
    ctx.exit(checked.exit_code)


@cli.command("list")
@_options(_codex_home, _json, _common)
@click.pass_context
def list_cmd(ctx: click.Context, codex_home: Path | None, as_json: bool) -> None:
    """List the installed releases, newest first.

    \b
    Example:
        codex-install list
    """
    from codex_install.commands import releases as releases_command

    settings = _settings(ctx, codex_home=codex_home)
    releases = releases_command.list_releases(settings)
    if as_json:
        _emit_json({"releases": releases})
        return
    if not releases:
        _say(ctx, "no Codex release installed by codex-install (install one: codex-install)")
        return
    style = _style(ctx, settings)
    for line in releases_command.table(releases, style):
        click.echo(line, color=style.color)  # click would strip the codes off a terminal


def _style(ctx: click.Context, settings: Settings) -> Style:
    """How a table prints to stdout: a header, colour and the terminal's width on a TTY."""
    try:
        tty = sys.stdout.isatty()
    except (AttributeError, ValueError):
        tty = False
    dumb = settings.env.get("TERM") == "dumb"
    color = settings.color == "always" or (settings.color == "auto" and tty and not dumb)
    width = _terminal_width(settings) if tty else None
    from codex_install.tables import Style

    return Style(tty=tty, color=color, width=width)


def _terminal_width(settings: Settings) -> int:
    import shutil

    columns = settings.env.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    return shutil.get_terminal_size((80, 24)).columns


@cli.command("use")
@click.argument("version")
@_options(_target, _codex_home, _bin_dir, _common)
@click.option("--force", is_flag=True, help="Replace a codex in the bin dir that is not our link.")
@click.pass_context
def use_cmd(
    ctx: click.Context,
    version: str,
    target: str | None,
    codex_home: Path | None,
    bin_dir: Path | None,
    force: bool,
) -> None:
    """Switch `current` to an installed release (rollback).

    \b
    Example:
        codex-install use 0.169.0
    """
    from codex_install.commands import releases as releases_command

    settings = _settings(ctx, codex_home=codex_home, bin_dir=bin_dir)
    _say(ctx, releases_command.use(version, target, settings, force=force))


@cli.command("uninstall")
@click.argument("version", required=False)
@_options(_target, _codex_home, _bin_dir)
@click.option("-y", "--yes", is_flag=True, help="Do not ask before removing everything.")
@_common
@click.pass_context
def uninstall_cmd(
    ctx: click.Context,
    version: str | None,
    target: str | None,
    codex_home: Path | None,
    bin_dir: Path | None,
    yes: bool,
) -> None:
    """Remove one release, or everything codex-install installed.

    Everything: the releases, `current`, the codex link and the PATH block
    in your shell profile; never your sign-in or sessions. On a terminal it
    says what it will remove and asks first (-y does not ask).

    \b
    Examples:
        codex-install uninstall 0.169.0
        codex-install uninstall -y
    """
    from codex_install.commands import releases as releases_command
    from codex_install.terminal import is_interactive, stream_isatty

    settings = _settings(ctx, codex_home=codex_home, bin_dir=bin_dir)
    if version is None and not yes and is_interactive(settings.env, stream_isatty):
        plan = releases_command.uninstall_plan(settings)
        if not plan:
            _say(ctx, "nothing to uninstall")
            return
        click.echo("This removes:", err=True)
        for line in plan:
            click.echo(f"  {line}", err=True)
        if not click.confirm("Remove all of it?", default=False, err=True):
            click.echo("nothing removed", err=True)
            ctx.exit(1)
    for line in releases_command.uninstall(version, target, settings):
        _say(ctx, line)


@cli.command("env")
@_options(_codex_home, _bin_dir, _json, _common)
@click.pass_context
def env_cmd(
    ctx: click.Context, codex_home: Path | None, bin_dir: Path | None, as_json: bool
) -> None:
    """Print the paths and settings in use (never a secret).

    CODEX_HOME, bin dir, cache dir, source, registry, mirror, proxies, and
    the variables each comes from; URLs are shown without their passwords.

    \b
    Example:
        codex-install env
    """
    from codex_install.commands import env as env_command

    _set_json_mode(ctx, as_json)
    settings = _settings(ctx, codex_home=codex_home, bin_dir=bin_dir)
    rows = env_command.rows(settings)
    if as_json:
        _emit_json({"ok": True, **{name: value for name, value, _ in rows}})
        return
    for line in env_command.lines(rows, verbose=bool(_obj(ctx).get("verbose"))):
        click.echo(line)


# --- releases (ls-remote, resolve, prune) ---


@cli.command("ls-remote")
@_remote_options
@click.option("--pre", is_flag=True, help="Include alphas and betas.")
@_options(_codex_home, _json, _common)
@click.pass_context
def ls_remote_cmd(
    ctx: click.Context, /, target: str | None, pre: bool, as_json: bool, **flags: Any
) -> None:
    """List the versions the source offers, newest first.

    \b
    Examples:
        codex-install ls-remote
        codex-install ls-remote --source npm --pre | head -5
    """
    from codex_install.commands import ls_remote as ls_remote_command

    _set_json_mode(ctx, as_json)
    settings = _settings(ctx, **flags)
    listed = ls_remote_command.run(target, settings, _reporter(ctx, settings))
    if as_json:
        _emit_json(listed.to_json())
        return
    style = _style(ctx, settings)
    for line in listed.table(style, pre=pre):
        click.echo(line, color=style.color)


@cli.command("resolve")
@click.option("--release", "--version", "version", metavar="VERSION", help=_release_help)
@_options(_target, _source, _api_url, _repo, _mirror, _npm_registry, _json, _common)
@click.pass_context
def resolve_cmd(ctx: click.Context, /, target: str | None, as_json: bool, **flags: Any) -> None:
    """Print what an install would download; download nothing.

    \b
    Example:
        codex-install resolve --release 0.169.0 --json
    """
    from codex_install.commands import resolve as resolve_command

    _set_json_mode(ctx, as_json)
    data = resolve_command.run(target, _settings(ctx, **flags))
    if as_json:
        _emit_json(data)
        return
    for line in resolve_command.lines(data):
        click.echo(line)


@cli.command("prune")
@click.option(
    "--keep",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    metavar="N",
    help="Also keep the N newest releases besides current (for `use`).",
)
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
@_options(_codex_home, _json, _common)
@click.pass_context
def prune_cmd(
    ctx: click.Context, keep: int, dry_run: bool, codex_home: Path | None, as_json: bool
) -> None:
    """Remove old releases (never current, nothing else).

    \b
    Example:
        codex-install prune --keep 1 --dry-run
    """
    from codex_install.commands import prune as prune_command

    _set_json_mode(ctx, as_json)
    args = prune_command.PruneArgs(keep=keep, dry_run=dry_run)
    removed = prune_command.run(args, _settings(ctx, codex_home=codex_home))
    if as_json:
        _emit_json(
            {
                "ok": True,
                "dry_run": dry_run,
                "removed": [{"version": r.version, "target": r.target} for r in removed],
            }
        )
        return
    verb = "would remove" if dry_run else "removed"
    for r in removed:
        _say(ctx, f"{verb} codex {r.version} ({r.target}): {r.path}")
    if not removed:
        _say(ctx, "nothing to prune")


# --- sign-in commands (login, auth status, auth serve) ---


@cli.command("login")
@_options(_codex_home, _bin_dir)
@click.option("--json", "as_json", is_flag=True, help="Print the sign-in state as one JSON object.")
@_common
@click.pass_context
def login_cmd(
    ctx: click.Context, codex_home: Path | None, bin_dir: Path | None, as_json: bool
) -> None:
    """Sign in: ChatGPT in a browser, a device code, or an API key.

    Exit 0 when signed in afterwards, 8 when not, 1 when codex login failed.

    \b
    Examples:
        codex-install login
        OPENAI_API_KEY=sk-... codex-install login --json   # key on stdin
    """
    from codex_install.commands import login as login_command

    _set_json_mode(ctx, as_json)
    result = login_command.run(_settings(ctx, codex_home=codex_home, bin_dir=bin_dir))
    if result.state == "skipped":
        # first_sign_in is silent about a skip (install's --no-login asked for it), but this
        # command was asked to sign in: it must not make exit 8 wordless.
        click.echo(result.message, err=True)
    if as_json:
        _emit_json({"ok": result.signed_in, "sign_in": result.to_json()})
    ctx.exit(login_command.exit_code(result))


@cli.group("auth", cls=_HelpGroup)
def auth_group() -> None:
    """Show or serve the Codex sign-in state (auth.json).

    \b
    Examples:
        codex-install auth status
        codex-install auth serve < requests.jsonl
    """


@auth_group.command("status")
@_codex_home
@click.option("--json", "as_json", is_flag=True, help="Print the getAuthStatus object.")
@click.option("--include-token", is_flag=True, help="Include the bearer token or API key.")
@click.option("--refresh", is_flag=True, help="Refresh a stale ChatGPT token first.")
@_common
@click.pass_context
def auth_status_cmd(
    ctx: click.Context, codex_home: Path | None, as_json: bool, include_token: bool, refresh: bool
) -> None:
    """Print how Codex is signed in (exit 8 when signed out, as codex login status).

    \b
    Example:
        codex-install auth status --json --refresh
    """
    from codex_install.commands import auth as auth_command

    settings = _settings(ctx, codex_home=codex_home)
    text, signed_in = auth_command.status_and_state(
        settings, include_token=include_token, refresh=refresh, as_json=as_json
    )
    click.echo(text)
    ctx.exit(0 if signed_in else 8)


@auth_group.command("serve")
@_codex_home
@_common
@click.pass_context
def auth_serve_cmd(ctx: click.Context, codex_home: Path | None) -> None:
    """Answer getAuthStatus and account/read as JSON-RPC on stdin/stdout until EOF.

    \b
    Example:
        echo '{"id":1,"method":"initialize","params":{}}' \\
            | codex-install auth serve
    """
    from codex_install.commands import auth as auth_command

    settings = _settings(ctx, codex_home=codex_home)
    sys.exit(auth_command.serve(settings, sys.stdin.buffer, sys.stdout))


# --- packaging commands (mirror, manifest, homebrew) ---


def _release_version(help_text: str) -> Callable[[F], F]:
    return click.option(
        "--release",
        "--version",
        "version",
        default="latest",
        show_default=True,
        metavar="VERSION",
        help=help_text,
    )


@cli.group("mirror", cls=_HelpGroup)
def mirror_group() -> None:
    """Release mirrors for fleets: a static tree or an OCI registry.

    \b
    Examples:
        codex-install mirror sync --output /srv/codex-mirror
        codex-install mirror sync --output oci://ghcr.io/acme/codex
    """


@mirror_group.command("sync")
@_release_version("The release to mirror.")
@click.option(
    "--output",
    required=True,
    metavar="DIR|oci://HOST/REPO",
    help="Directory of the mirror tree (created; an existing tree is updated), or an OCI "
    "registry repository to push the release to.",
)
@click.option(
    "--target", "targets", multiple=True, metavar="TRIPLE", help="Repeatable; default all."
)
@click.option(
    "--source",
    type=click.Choice(["auto", "github", "mirror"]),
    default=None,
    help="Where the archives come from (default auto: GitHub, or --mirror).",
)
@_options(_api_url, _repo)
@click.option("--mirror", metavar="URL", help="Sync from another mirror.")
@_options(_json, _common)
@click.pass_context
def mirror_sync_cmd(
    ctx: click.Context,
    /,
    output: str,
    targets: tuple[str, ...],
    as_json: bool,
    **flags: Any,
) -> None:
    """Download, verify and write a mirror tree, or push a release to an OCI registry.

    \b
    Examples:
        codex-install mirror sync --release latest --output /srv/codex-mirror
        codex-install install --mirror https://mirror.internal/codex
        codex-install mirror sync --output oci://ghcr.io/acme/codex
        codex-install install --mirror oci://ghcr.io/acme/codex
    """
    from codex_install.commands import mirror as mirror_command

    _set_json_mode(ctx, as_json)
    args = mirror_command.SyncArgs(
        output=output, targets=targets, quiet=bool(_obj(ctx).get("quiet"))
    )
    data = mirror_command.run(args, _settings(ctx, **flags))
    if as_json:
        _emit_json(data)


@cli.group("manifest", cls=_HelpGroup)
def manifest_group() -> None:
    """Release manifests: each archive pinned to its size and sha256.

    \b
    Example:
        codex-install manifest generate --release 0.169.0
    """


@manifest_group.command("generate")
@_release_version("The release to pin.")
@click.option(
    "--source",
    "sources",
    type=click.Choice(["github", "mirror", "npm"]),
    multiple=True,
    help="Where the archives come from; repeat to pin several (default github, or mirror).",
)
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("manifests"),
    show_default=True,
    help="Directory for codex-<ver>.toml.",
)
@click.option(
    "--target", "targets", multiple=True, metavar="TRIPLE", help="Repeatable; default all four."
)
@_options(_api_url, _repo)
@click.option("--mirror", metavar="URL", help="Pin a mirror's archives (with --source mirror).")
@click.option("--npm-registry", metavar="URL", help="npm registry for --source npm.")
@_options(_json, _common)
@click.pass_context
def manifest_generate_cmd(
    ctx: click.Context,
    /,
    sources: tuple[str, ...],
    output: Path,
    targets: tuple[str, ...],
    as_json: bool,
    **flags: Any,
) -> None:
    """Download, hash and cross-check a release's archives; write codex-<ver>.toml.

    \b
    Examples:
        codex-install manifest generate --release 0.169.0
        codex-install manifest generate --release 0.169.0 --source npm
    """
    from codex_install.commands import manifest as manifest_command

    _set_json_mode(ctx, as_json)
    args = manifest_command.GenerateArgs(
        sources=sources, output=output, targets=targets, quiet=bool(_obj(ctx).get("quiet"))
    )
    generated = manifest_command.run_generate(args, _settings(ctx, **flags))
    if as_json:
        _emit_json(generated.to_json())


@manifest_group.command("verify")
@click.argument("manifest_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--npm-registry", metavar="URL", help="npm registry for entries without a url.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@_common
@click.pass_context
def manifest_verify_cmd(
    ctx: click.Context,
    /,
    manifest_file: Path,
    npm_registry: str | None,
    as_json: bool,
) -> None:
    """Re-download and re-hash every archive a manifest pins; exit 5 on any drift.

    -q prints only problems, -v one line per archive.

    \b
    Example:
        codex-install manifest verify manifests/codex-0.169.0.toml
    """
    from codex_install.commands import manifest as manifest_command

    _set_json_mode(ctx, as_json)
    quiet, verbose = bool(_obj(ctx).get("quiet")), bool(_obj(ctx).get("verbose"))
    args = manifest_command.VerifyArgs(manifest_file, quiet=quiet, verbose=verbose)
    verified = manifest_command.run_verify(args, _settings(ctx, npm_registry=npm_registry))
    if as_json:
        _emit_json(verified.to_json())
    if verified.ok:
        if not quiet:
            click.echo(
                f"codex-install: {verified.path}: all {len(verified.manifest.assets)} archives "
                "match the manifest",
                err=True,
            )
        return
    click.echo(f"codex-install: {verified.path}: {len(verified.problems)} problems:", err=True)
    for problem in verified.problems:
        click.echo(f"  - {problem}", err=True)
    ctx.exit(5)


@cli.command("homebrew")
@click.option(
    "--manifest",
    "manifest_file",
    required=True,
    type=click.Path(path_type=Path),
    help="Release manifest (manifests/codex-<ver>.toml) to render from.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here (atomically) instead of stdout.",
)
@click.option(
    "--layout",
    type=click.Choice(["package", "legacy", "npm"]),
    default=None,
    help="Archives the cask installs: GitHub package (default) or legacy archives, or npm "
    "tarballs (picked by itself for a manifest that pins only npm tarballs).",
)
@click.option(
    "--kind",
    type=click.Choice(["cask", "formula"]),
    default="cask",
    show_default=True,
    help="A cask (homebrew-cask) or a formula (for a tap).",
)
@_common
@click.pass_context
def homebrew_cmd(
    ctx: click.Context, manifest_file: Path, output: Path | None, layout: str | None, kind: str
) -> None:
    """Render the Homebrew cask (or formula) for a manifest.

    \b
    Examples:
        codex-install homebrew --manifest manifests/codex-0.169.0.toml \\
            --output homebrew/codex.rb
        codex-install homebrew --manifest manifests/codex-0.169.0.toml \\
            --kind formula
    """
    from codex_install.commands import homebrew as homebrew_command

    args = homebrew_command.HomebrewArgs(manifest_file, output, layout, kind)  # type: ignore[arg-type]
    text = homebrew_command.run(args, lambda line: _say(ctx, f"codex-install: {line}"))
    if text is not None:
        click.echo(text, nl=False)


# --- shell (completion, help) ---


@cli.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@_common
def completion_cmd(shell: str) -> None:
    """Print the completion script for bash, zsh or fish.

    \b
    Examples:
        eval "$(codex-install completion bash)"      # in ~/.bashrc
        eval "$(codex-install completion zsh)"       # in ~/.zshrc
        codex-install completion fish \\
            > ~/.config/fish/completions/codex-install.fish
    """
    completion_class = get_completion_class(shell)
    assert completion_class is not None  # click ships bash, zsh and fish
    click.echo(completion_class(cli, {}, "codex-install", COMPLETE_VAR).source())


@cli.command("help")
@click.argument("command", nargs=-1)
@click.pass_context
def help_cmd(ctx: click.Context, command: tuple[str, ...]) -> None:
    """Show the help of a command: codex-install help install.

    \b
    Examples:
        codex-install help
        codex-install help install
        codex-install help auth status
    """
    root = ctx.find_root()
    cmd: click.Command = root.command
    sub = root
    for name in command:
        found = cmd.get_command(sub, name) if isinstance(cmd, click.Group) else None
        if found is None:
            from codex_install.suggest import did_you_mean

            names = cmd.list_commands(sub) if isinstance(cmd, click.Group) else []
            raise UsageError(
                f"no command {' '.join(command)!r}{did_you_mean(name, names)}",
                hint="see `codex-install help`",
            )
        sub = click.Context(found, info_name=name, parent=sub)
        cmd = found
    click.echo(sub.get_help())


def main() -> None:
    unwind_on_termination()
    cli(prog_name="codex-install", obj={"env": dict(os.environ)})


if __name__ == "__main__":
    main()

"""The command line: the only click module. Each command turns its flags into one frozen value
and calls ``commands.<verb>``; every CodexInstallError becomes one stderr line and its exit
code here, and nowhere else (SPEC §6)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click
from click.shell_completion import get_completion_class

from codex_install import __version__

# Each command imports its commands.<verb> module inside its function: a verb pays only for its
# own imports (the no-op `install --version latest` skips auth, homebrew, manifests: ~70 ms).
from codex_install.config import Flags, Settings
from codex_install.errors import CodexInstallError, FilesystemError, UsageError, scrub
from codex_install.signals import exit_code, unwind_on_termination
from codex_install.ui import Reporter

F = TypeVar("F", bound=Callable[..., Any])
_SHOW_VERSION = "\0show"
_ARGV = "codex_install.argv"
INTERRUPTED = "codex-install: interrupted"
COMPLETE_VAR = "_CODEX_INSTALL_COMPLETE"  # what click's main() reads for completion requests
SOURCE_CHOICE = click.Choice(["auto", "github", "mirror", "npm"])


def _env(ctx: click.Context) -> Mapping[str, str]:
    obj = ctx.find_root().obj
    if isinstance(obj, dict) and isinstance(obj.get("env"), Mapping):
        env: Mapping[str, str] = obj["env"]
        return env
    return os.environ


def _settings(ctx: click.Context, **flags: Any) -> Settings:
    """Settings from this command's shared flags (see config.Flags) and the environment."""
    return Settings.from_env(_env(ctx), Flags(**flags))


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
    """Command summaries in full (wrapped to the terminal), never cut off with "..."."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit=1_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


class _Group(_HelpGroup):
    """Translate expected failures into one line and an exit code; never a traceback."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[_ARGV] = argv = list(args)  # click consumes ``args`` while parsing
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as err:
            _usage_failure(err, argv)
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CodexInstallError as err:
            fail(err, as_json=_in_json_mode(ctx))
        except KeyboardInterrupt as interrupt:  # Ctrl-C, and SIGTERM/SIGHUP (signals.py)
            click.echo(INTERRUPTED, err=True)
            sys.exit(exit_code(interrupt))
        except click.UsageError as err:
            _usage_failure(err, ctx.meta.get(_ARGV, []))
            raise
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise  # click's own control flow (ctx.exit, usage errors) is not a failure of ours
        except OSError as err:
            # A filesystem or permission problem no step translated: still exit 7, one line.
            where = f" ({err.filename})" if err.filename else ""
            fail(FilesystemError(f"{err.strerror or err}{where}"), as_json=_in_json_mode(ctx))
        except Exception as err:  # the last resort: SPEC §6 exit 1, one line
            if _env(ctx).get("CODEX_INSTALL_DEBUG"):
                raise
            fail(
                CodexInstallError(
                    f"unexpected {type(err).__name__}: {err}",
                    hint="this is a bug; rerun with CODEX_INSTALL_DEBUG=1 for the traceback",
                ),
                as_json=_in_json_mode(ctx),
            )


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
_quiet = click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
_verbose = click.option("-v", "--verbose", is_flag=True, help="More detail.")
_api_url = click.option("--github-api-url", metavar="URL", help="GitHub API (env GITHUB_API_URL).")
_repo = click.option("--repo", metavar="OWNER/NAME", help="Release repository (openai/codex).")
_mirror = click.option("--mirror", metavar="URL", help="Mirror tree (env CODEX_INSTALL_MIRROR).")
_npm_registry = click.option(
    "--npm-registry",
    metavar="URL",
    help="npm registry for the npm source (env NPM_CONFIG_REGISTRY, else .npmrc).",
)
_source = click.option(
    "--source",
    type=SOURCE_CHOICE,
    default=None,
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
        default=False,
        help="Add the bin dir to your shell profile.",
    ),
    click.option("--force", is_flag=True, help="Download and reinstall even if installed."),
    _json,
    _quiet,
    _verbose,
)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        click.echo(f"codex-install {__version__}")
        ctx.exit(0)


@click.group(cls=_Group, invoke_without_command=True)
@click.option(
    "-V",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Print codex-install's version and exit.",
)
@click.option(
    "--version",
    "version",
    is_flag=False,
    flag_value=_SHOW_VERSION,
    default=None,
    metavar="[VERSION]",
    help="Alone: print codex-install's version. With a value: the Codex version to install.",
)
@install_options
@click.pass_context
def cli(ctx: click.Context, /, version: str | None, **options: Any) -> None:
    """Install, verify and run the OpenAI Codex CLI.

    \b
    With no command, installs the latest Codex and offers sign-in:
        codex-install
        codex-install --version 0.169.0 --no-login --json
    """
    if version == _SHOW_VERSION:
        click.echo(f"codex-install {__version__}")
        ctx.exit(0)
    ctx.ensure_object(dict)
    if ctx.invoked_subcommand is None:
        ctx.invoke(install_cmd, version=version, **options)


# --- install commands (install, resolve, list, use, uninstall) ---


@cli.command("install")
@click.option(
    "--version",
    "version",
    metavar="VERSION",
    help="latest, X.Y.Z, vX.Y.Z, rust-vX.Y.Z (env CODEX_RELEASE; default latest).",
)
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
    """Resolve, download, verify and install Codex, then offer sign-in.

    \b
        codex-install install --version 0.169.0 --no-login --json
        codex-install install --mirror https://mirror.example/codex
        codex-install install --archive codex-package-x86_64-unknown-linux-musl.tar.zst --sha256 HEX
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
    result = install_command.run(install_command.InstallArgs(**args), settings)
    if as_json:
        _emit_json(result)


@cli.command("resolve")
@click.option("--version", "version", metavar="VERSION", help="latest, X.Y.Z, vX.Y.Z, rust-vX.Y.Z.")
@_options(_target, _source, _api_url, _repo, _mirror, _npm_registry, _json)
@click.pass_context
def resolve_cmd(ctx: click.Context, /, target: str | None, as_json: bool, **flags: Any) -> None:
    """Print target, layout, asset, URL, size and digest; download no archive."""
    from codex_install.commands import resolve as resolve_command

    _set_json_mode(ctx, as_json)
    data = resolve_command.run(target, _settings(ctx, **flags))
    if as_json:
        _emit_json(data)
        return
    for line in resolve_command.lines(data):
        click.echo(line)


@cli.command("list")
@_options(_codex_home, _json)
@click.pass_context
def list_cmd(ctx: click.Context, codex_home: Path | None, as_json: bool) -> None:
    """List installed releases; * marks current."""
    from codex_install.commands import releases as releases_command

    releases = releases_command.list_releases(_settings(ctx, codex_home=codex_home))
    if as_json:
        _emit_json({"releases": releases})
        return
    if not releases:
        click.echo("no Codex release installed by codex-install", err=True)
    for r in releases:
        click.echo(f"{'*' if r['current'] else ' '} {r['version']}  {r['target']}")


@cli.command("use")
@click.argument("version")
@_options(_target, _codex_home, _bin_dir)
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
    """Switch `current` to an installed release (rollback)."""
    from codex_install.commands import releases as releases_command

    settings = _settings(ctx, codex_home=codex_home, bin_dir=bin_dir)
    click.echo(releases_command.use(version, target, settings, force=force), err=True)


@cli.command("uninstall")
@click.argument("version", required=False)
@_options(_target, _codex_home, _bin_dir)
@click.pass_context
def uninstall_cmd(
    ctx: click.Context,
    version: str | None,
    target: str | None,
    codex_home: Path | None,
    bin_dir: Path | None,
) -> None:
    """Remove one release, or everything codex-install installed (credentials are kept)."""
    from codex_install.commands import releases as releases_command

    settings = _settings(ctx, codex_home=codex_home, bin_dir=bin_dir)
    for line in releases_command.uninstall(version, target, settings):
        click.echo(line, err=True)


# --- updates and housekeeping (check, update, ls-remote, prune) ---

_remote_options = _options(_target, _source, _api_url, _repo, _mirror, _npm_registry)


@cli.command("check")
@_remote_options
@_options(_codex_home, _json)
@click.pass_context
def check_cmd(ctx: click.Context, /, target: str | None, as_json: bool, **flags: Any) -> None:
    """Compare the installed Codex with the latest release (exit 10: an update exists).

    \b
        codex-install check && echo up to date
    """
    from codex_install.commands import check as check_command

    _set_json_mode(ctx, as_json)
    settings = _settings(ctx, **flags)
    checked = check_command.run(target, settings, Reporter(no_color=settings.no_color))
    if as_json:
        _emit_json(checked.to_json())
    else:
        click.echo(checked.message(), err=True)
    ctx.exit(checked.exit_code)


@cli.command("update")
@_remote_options
@_options(_bin_dir, _codex_home, _json, _quiet, _verbose)
@click.pass_context
def update_cmd(
    ctx: click.Context,
    /,
    target: str | None,
    as_json: bool,
    quiet: bool,
    verbose: bool,
    **flags: Any,
) -> None:
    """Install the latest Codex for the installed target and say what changed."""
    from codex_install.commands import update as update_command

    _set_json_mode(ctx, as_json)
    args = update_command.UpdateArgs(target=target, quiet=quiet, verbose=verbose)
    data = update_command.run(args, _settings(ctx, **flags))
    if as_json:
        _emit_json(data)


@cli.command("ls-remote")
@_remote_options
@_options(_codex_home, _json)
@click.pass_context
def ls_remote_cmd(ctx: click.Context, /, target: str | None, as_json: bool, **flags: Any) -> None:
    """List the versions the source offers for this target, newest first.

    \b
        codex-install ls-remote --source npm | head -5
    """
    from codex_install.commands import ls_remote as ls_remote_command

    _set_json_mode(ctx, as_json)
    settings = _settings(ctx, **flags)
    listed = ls_remote_command.run(target, settings, Reporter(no_color=settings.no_color))
    if as_json:
        _emit_json(listed.to_json())
        return
    for line in listed.lines():
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
@_options(_codex_home, _json)
@click.pass_context
def prune_cmd(
    ctx: click.Context, keep: int, dry_run: bool, codex_home: Path | None, as_json: bool
) -> None:
    """Remove old releases; never current, never anything else in CODEX_HOME."""
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
        click.echo(f"{verb} codex {r.version} ({r.target}): {r.path}", err=True)
    if not removed:
        click.echo("nothing to prune", err=True)


@cli.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion_cmd(shell: str) -> None:
    """Print the shell completion script for bash, zsh or fish.

    \b
        eval "$(codex-install completion bash)"      # in ~/.bashrc
        eval "$(codex-install completion zsh)"       # in ~/.zshrc
        codex-install completion fish > ~/.config/fish/completions/codex-install.fish
    """
    completion_class = get_completion_class(shell)
    assert completion_class is not None  # click ships bash, zsh and fish
    click.echo(completion_class(cli, {}, "codex-install", COMPLETE_VAR).source())


# --- sign-in commands (login, auth status, auth serve) ---


@cli.command("login")
@_options(_codex_home, _bin_dir)
@click.option("--json", "as_json", is_flag=True, help="Print the sign-in state as one JSON object.")
@click.pass_context
def login_cmd(
    ctx: click.Context, codex_home: Path | None, bin_dir: Path | None, as_json: bool
) -> None:
    """Sign in to Codex (the first sign-in step of install, on its own).

    Exit 0 when signed in afterwards, 8 when not, 1 when codex login failed.

    \b
        codex-install login
        OPENAI_API_KEY=sk-... codex-install login --json   # the key goes to codex on stdin
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
    """Show or serve the Codex sign-in state (auth.json in CODEX_HOME)."""


@auth_group.command("status")
@_codex_home
@click.option("--json", "as_json", is_flag=True, help="Print the getAuthStatus object.")
@click.option("--include-token", is_flag=True, help="Include the bearer token or API key.")
@click.option("--refresh", is_flag=True, help="Refresh a stale ChatGPT token first.")
@click.pass_context
def auth_status_cmd(
    ctx: click.Context, codex_home: Path | None, as_json: bool, include_token: bool, refresh: bool
) -> None:
    """Print how Codex is signed in.

    \b
        codex-install auth status --json --refresh
    """
    from codex_install.commands import auth as auth_command

    settings = _settings(ctx, codex_home=codex_home)
    click.echo(
        auth_command.status(settings, include_token=include_token, refresh=refresh, as_json=as_json)
    )


@auth_group.command("serve")
@_codex_home
@click.pass_context
def auth_serve_cmd(ctx: click.Context, codex_home: Path | None) -> None:
    """Answer getAuthStatus and account/read as JSON-RPC on stdin/stdout until EOF."""
    from codex_install.commands import auth as auth_command

    settings = _settings(ctx, codex_home=codex_home)
    sys.exit(auth_command.serve(settings, sys.stdin.buffer, sys.stdout))


# --- distribution commands (mirror, manifest, homebrew) ---


def _release_version(help_text: str) -> Callable[[F], F]:
    return click.option(
        "--version",
        "version",
        default="latest",
        show_default=True,
        metavar="VERSION",
        help=help_text,
    )


@cli.group("mirror", cls=_HelpGroup)
def mirror_group() -> None:
    """Static release mirrors for fleets and air-gapped networks."""


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
@_options(_json, _quiet)
@click.pass_context
def mirror_sync_cmd(
    ctx: click.Context,
    /,
    output: str,
    targets: tuple[str, ...],
    as_json: bool,
    quiet: bool,
    **flags: Any,
) -> None:
    """Download, verify and write the mirror tree (release.json, archives, SUMS, channels/latest),
    or push the release to an OCI registry.

    \b
        codex-install mirror sync --version latest --output /srv/codex-mirror
        codex-install install --mirror https://mirror.internal/codex
        codex-install mirror sync --output oci://ghcr.io/acme/codex
        codex-install install --mirror oci://ghcr.io/acme/codex
    """
    from codex_install.commands import mirror as mirror_command

    _set_json_mode(ctx, as_json)
    args = mirror_command.SyncArgs(output=output, targets=targets, quiet=quiet)
    data = mirror_command.run(args, _settings(ctx, **flags))
    if as_json:
        _emit_json(data)


@cli.group("manifest", cls=_HelpGroup)
def manifest_group() -> None:
    """Release manifests: every archive of a release pinned to its size and sha256."""


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
@_options(_json, _quiet)
@click.pass_context
def manifest_generate_cmd(
    ctx: click.Context,
    /,
    sources: tuple[str, ...],
    output: Path,
    targets: tuple[str, ...],
    as_json: bool,
    quiet: bool,
    **flags: Any,
) -> None:
    """Download, hash and cross-check a release's archives; write codex-<ver>.toml.

    \b
        codex-install manifest generate --version 0.169.0
        codex-install manifest generate --version 0.169.0 --source github --source npm
    """
    from codex_install.commands import manifest as manifest_command

    _set_json_mode(ctx, as_json)
    args = manifest_command.GenerateArgs(
        sources=sources, output=output, targets=targets, quiet=quiet
    )
    generated = manifest_command.run_generate(args, _settings(ctx, **flags))
    if as_json:
        _emit_json(generated.to_json())


@manifest_group.command("verify")
@click.argument("manifest_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--npm-registry", metavar="URL", help="npm registry for entries without a url.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option("-q", "--quiet", is_flag=True, help="Only problems.")
@click.option("-v", "--verbose", is_flag=True, help="One line per archive.")
@click.pass_context
def manifest_verify_cmd(
    ctx: click.Context,
    /,
    manifest_file: Path,
    npm_registry: str | None,
    as_json: bool,
    quiet: bool,
    verbose: bool,
) -> None:
    """Re-download and re-hash every archive a manifest pins; exit 5 on any drift.

    \b
        codex-install manifest verify manifests/codex-0.169.0.toml
    """
    from codex_install.commands import manifest as manifest_command

    _set_json_mode(ctx, as_json)
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
def homebrew_cmd(manifest_file: Path, output: Path | None, layout: str | None, kind: str) -> None:
    """Render the Homebrew cask (or formula) for a release manifest.

    \b
        codex-install homebrew --manifest manifests/codex-0.169.0.toml --output homebrew/codex.rb
        codex-install homebrew --manifest manifests/codex-0.169.0.toml --kind formula
    """
    from codex_install.commands import homebrew as homebrew_command

    args = homebrew_command.HomebrewArgs(manifest_file, output, layout, kind)  # type: ignore[arg-type]
    text = homebrew_command.run(args, lambda line: click.echo(f"codex-install: {line}", err=True))
    if text is not None:
        click.echo(text, nl=False)


def main() -> None:
    unwind_on_termination()
    cli(prog_name="codex-install", obj={"env": dict(os.environ)})


if __name__ == "__main__":
    main()

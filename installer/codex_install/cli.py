"""The command line: the only click module. Each command parses options and calls the core;
every CodexInstallError becomes one stderr line and its exit code here (SPEC §6)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from codex_install import __version__
from codex_install.errors import CodexInstallError, FilesystemError, UsageError

F = TypeVar("F", bound=Callable[..., Any])
_SHOW_VERSION = "\0show"


def _env(ctx: click.Context) -> Mapping[str, str]:
    obj = ctx.find_root().obj
    if isinstance(obj, dict) and isinstance(obj.get("env"), Mapping):
        env: Mapping[str, str] = obj["env"]
        return env
    return os.environ


def _emit_json(data: Mapping[str, Any]) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False))


def fail(err: CodexInstallError, *, as_json: bool = False) -> None:
    click.echo(f"codex-install: error: {err}", err=True)
    if as_json:
        _emit_json({"ok": False, "exit_code": err.exit_code, "error": str(err)})
    sys.exit(err.exit_code)


class _Group(click.Group):
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
            fail(err, as_json=_json_mode(ctx))
        except KeyboardInterrupt:
            click.echo("codex-install: interrupted", err=True)
            sys.exit(130)
        except click.UsageError as err:
            _usage_failure(err, ctx.meta.get(_ARGV, []))
            raise
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise  # click's own control flow (ctx.exit, usage errors) is not a failure of ours
        except OSError as err:
            # A filesystem or permission problem no step translated: still exit 7, one line.
            where = f" ({err.filename})" if err.filename else ""
            fail(FilesystemError(f"{err.strerror or err}{where}"), as_json=_json_mode(ctx))
        except Exception as err:  # the last resort: SPEC §6 exit 1, one line
            if _env(ctx).get("CODEX_INSTALL_DEBUG"):
                raise
            fail(
                CodexInstallError(
                    f"unexpected {type(err).__name__}: {err}",
                    hint="this is a bug; rerun with CODEX_INSTALL_DEBUG=1 for the traceback",
                ),
                as_json=_json_mode(ctx),
            )


def _json_mode(ctx: click.Context) -> bool:
    return isinstance(ctx.obj, dict) and bool(ctx.obj.get("json"))


_ARGV = "codex_install.argv"


def _usage_failure(err: click.UsageError, args: list[str]) -> None:
    """A bad flag or value under ``--json``: the caller parses stdout, so it still gets the one
    JSON object (and one stderr line) instead of click's usage text. Without ``--json``, click
    prints its usage help as usual."""
    options = args[: args.index("--")] if "--" in args else args
    if "--json" in options:
        fail(UsageError(err.format_message()), as_json=True)


def install_options(f: F) -> F:
    """Options shared by ``install`` and the bare ``codex-install`` (SPEC §6)."""
    options = [
        click.option("--target", metavar="TRIPLE", help="Override platform detection."),
        click.option(
            "--source",
            type=click.Choice(["auto", "github", "mirror", "npm"]),
            default=None,
            help="Where releases come from (env CODEX_INSTALL_SOURCE; default auto = github, "
            "npm fallback).",
        ),
        click.option("--github-api-url", metavar="URL", help="GitHub API (env GITHUB_API_URL)."),
        click.option("--repo", metavar="OWNER/NAME", help="Release repository (openai/codex)."),
        click.option("--mirror", metavar="URL", help="Mirror tree (env CODEX_INSTALL_MIRROR)."),
        click.option(
            "--npm-registry",
            metavar="URL",
            help="npm registry for the npm source (env NPM_CONFIG_REGISTRY, else .npmrc).",
        ),
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
        click.option(
            "--bin-dir",
            type=click.Path(path_type=Path),
            help="Where the codex link goes (env CODEX_INSTALL_DIR, XDG_BIN_HOME; "
            "default ~/.local/bin).",
        ),
        click.option(
            "--codex-home",
            type=click.Path(path_type=Path),
            help="Codex's home (env CODEX_HOME; default ~/.codex).",
        ),
        click.option(
            "--no-login", is_flag=True, help="Skip the first sign-in (env CODEX_NON_INTERACTIVE=1)."
        ),
        click.option(
            "--modify-path/--no-modify-path",
            default=False,
            help="Add the bin dir to your shell profile.",
        ),
        click.option("--force", is_flag=True, help="Download and reinstall even if installed."),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout."),
        click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors."),
        click.option("-v", "--verbose", is_flag=True, help="More detail."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@click.group(cls=_Group, invoke_without_command=True)
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


# --- install commands (install, list, use, uninstall, resolve) ---


def _paths(ctx: click.Context, codex_home: Path | None, bin_dir: Path | None) -> Any:
    from codex_install.paths import resolve_paths

    return resolve_paths(_env(ctx), codex_home_opt=codex_home, bin_dir_opt=bin_dir)


@cli.command("install")
@click.option(
    "--version",
    "version",
    metavar="VERSION",
    help="latest, X.Y.Z, vX.Y.Z, rust-vX.Y.Z (env CODEX_RELEASE; default latest).",
)
@install_options
@click.pass_context
def install_cmd(ctx: click.Context, /, **options: Any) -> None:
    """Resolve, download, verify and install Codex, then offer sign-in.

    \b
        codex-install install --version 0.169.0 --no-login --json
        codex-install install --mirror https://mirror.example/codex
        codex-install install --archive codex-package-x86_64-unknown-linux-musl.tar.zst --sha256 HEX
    """
    from codex_install.commands import run_install

    ctx.ensure_object(dict)
    ctx.obj["json"] = bool(options.get("as_json"))
    result = run_install(_env(ctx), options)
    if options.get("as_json"):
        _emit_json(result)


@cli.command("resolve")
@click.option("--version", "version", metavar="VERSION", help="latest, X.Y.Z, vX.Y.Z, rust-vX.Y.Z.")
@click.option("--target", metavar="TRIPLE", help="Override platform detection.")
@click.option("--source", type=click.Choice(["auto", "github", "mirror", "npm"]), default=None)
@click.option("--github-api-url", metavar="URL")
@click.option("--repo", metavar="OWNER/NAME")
@click.option("--mirror", metavar="URL")
@click.option("--npm-registry", metavar="URL")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.pass_context
def resolve_cmd(ctx: click.Context, /, **options: Any) -> None:
    """Print target, layout, asset, URL, size and digest; download no archive."""
    from codex_install.commands import run_resolve

    ctx.ensure_object(dict)
    ctx.obj["json"] = bool(options.get("as_json"))
    data = run_resolve(_env(ctx), options)
    if options.get("as_json"):
        _emit_json(data)
    else:
        for key, value in data.items():
            click.echo(f"{key}: {value if value is not None else '-'}")


@cli.command("list")
@click.option("--codex-home", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_cmd(ctx: click.Context, codex_home: Path | None, as_json: bool) -> None:
    """List installed releases; * marks current."""
    from codex_install import standalone

    releases = standalone.list_releases(_paths(ctx, codex_home, None))
    if as_json:
        _emit_json(
            {
                "releases": [
                    {
                        "version": r.version,
                        "target": r.target,
                        "current": r.current,
                        "path": str(r.path),
                    }
                    for r in releases
                ]
            }
        )
        return
    if not releases:
        click.echo("no Codex release installed by codex-install", err=True)
    for r in releases:
        click.echo(f"{'*' if r.current else ' '} {r.version}  {r.target}")


@cli.command("use")
@click.argument("version")
@click.option("--target", metavar="TRIPLE")
@click.option("--codex-home", type=click.Path(path_type=Path))
@click.option("--bin-dir", type=click.Path(path_type=Path))
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
    from codex_install.commands import run_use

    paths = _paths(ctx, codex_home, bin_dir)
    click.echo(run_use(paths, version, target, force=force), err=True)


@cli.command("uninstall")
@click.argument("version", required=False)
@click.option("--target", metavar="TRIPLE")
@click.option("--codex-home", type=click.Path(path_type=Path))
@click.option("--bin-dir", type=click.Path(path_type=Path))
@click.pass_context
def uninstall_cmd(
    ctx: click.Context,
    version: str | None,
    target: str | None,
    codex_home: Path | None,
    bin_dir: Path | None,
) -> None:
    """Remove one release, or everything codex-install installed (credentials are kept)."""
    from codex_install.commands import run_uninstall

    for line in run_uninstall(_paths(ctx, codex_home, bin_dir), version, target, _env(ctx)):
        click.echo(line, err=True)


# --- auth commands (auth status, auth serve) ---


def _auth_manager(ctx: click.Context, codex_home: Path | None) -> Any:
    from codex_install.auth.manager import AuthManager
    from codex_install.paths import codex_home as resolve_codex_home

    env = _env(ctx)
    return AuthManager(resolve_codex_home(codex_home, env), env=env)


@cli.group("auth")
def auth_group() -> None:
    """Show or serve the Codex sign-in state (auth.json in CODEX_HOME)."""


@auth_group.command("status")
@click.option("--codex-home", type=click.Path(path_type=Path))
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
    from codex_install.auth.status import auth_status

    with _auth_manager(ctx, codex_home) as manager:
        click.echo(
            auth_status(manager, include_token=include_token, refresh=refresh, as_json=as_json)
        )


@auth_group.command("serve")
@click.option("--codex-home", type=click.Path(path_type=Path))
@click.pass_context
def auth_serve_cmd(ctx: click.Context, codex_home: Path | None) -> None:
    """Answer getAuthStatus and account/read as JSON-RPC on stdin/stdout until EOF."""
    from codex_install.auth.rpc import serve

    with _auth_manager(ctx, codex_home) as manager:
        sys.exit(serve(manager, sys.stdin.buffer, sys.stdout))


# --- login command ---


@cli.command("login")
@click.option("--codex-home", type=click.Path(path_type=Path), help="CODEX_HOME.")
@click.option("--bin-dir", type=click.Path(path_type=Path), help="Where the codex link is.")
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
    from codex_install.launcher import find_codex
    from codex_install.signin import first_sign_in

    ctx.ensure_object(dict)
    ctx.obj["json"] = as_json
    env = _env(ctx)
    paths = _paths(ctx, codex_home, bin_dir)
    result = first_sign_in(paths, codex=find_codex(paths, env), env=env)
    if result.state == "skipped":
        # first_sign_in is silent about a skip (install's --no-login asked for it), but this
        # command was asked to sign in: CODEX_NON_INTERACTIVE=1 must not make exit 8 wordless.
        click.echo(result.message, err=True)
    if as_json:
        _emit_json({"ok": result.signed_in, "sign_in": result.to_json()})
    if not result.signed_in:
        ctx.exit(1 if result.state == "failed" else 8)


# --- distribution commands (manifest, homebrew, mirror) ---


@cli.group("mirror")
def mirror_group() -> None:
    """Static release mirrors for fleets and air-gapped networks."""


@mirror_group.command("sync")
@click.option("--version", "version", default="latest", show_default=True, metavar="VERSION")
@click.option("--output", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--target", multiple=True, metavar="TRIPLE", help="Repeatable; default all.")
@click.option("--source", type=click.Choice(["auto", "github", "mirror"]), default=None)
@click.option("--github-api-url", metavar="URL")
@click.option("--repo", metavar="OWNER/NAME")
@click.option("--mirror", metavar="URL", help="Sync from another mirror.")
@click.option("--json", "as_json", is_flag=True)
@click.option("-q", "--quiet", is_flag=True)
@click.pass_context
def mirror_sync_cmd(ctx: click.Context, /, **options: Any) -> None:
    """Download, verify and write the mirror tree (release.json, archives, SUMS, channels/latest).

    \b
        codex-install mirror sync --version latest --output /srv/codex-mirror
        codex-install install --mirror https://mirror.internal/codex
    """
    from codex_install.commands import run_mirror_sync

    ctx.ensure_object(dict)
    ctx.obj["json"] = bool(options.get("as_json"))
    data = run_mirror_sync(_env(ctx), options)
    if options.get("as_json"):
        _emit_json(data)


@cli.group("manifest")
def manifest_group() -> None:
    """Release manifests: every archive of a release pinned to its size and sha256."""


@manifest_group.command("generate")
@click.option("--version", "version", default="latest", show_default=True, metavar="VERSION")
@click.option(
    "--source",
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
@click.option("--target", multiple=True, metavar="TRIPLE", help="Repeatable; default all four.")
@click.option("--github-api-url", metavar="URL")
@click.option("--repo", metavar="OWNER/NAME")
@click.option("--mirror", metavar="URL", help="Pin a mirror's archives (with --source mirror).")
@click.option("--npm-registry", metavar="URL", help="npm registry for --source npm.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option("-q", "--quiet", is_flag=True)
@click.pass_context
def manifest_generate_cmd(ctx: click.Context, /, **options: Any) -> None:
    """Download, hash and cross-check a release's archives; write codex-<ver>.toml.

    \b
        codex-install manifest generate --version 0.169.0
        codex-install manifest generate --version 0.169.0 --source github --source npm
    """
    from codex_install.manifest_ops import run_generate

    ctx.ensure_object(dict)
    ctx.obj["json"] = bool(options.get("as_json"))
    generated = run_generate(_env(ctx), options)
    if options.get("as_json"):
        _emit_json(generated.to_json())


@manifest_group.command("verify")
@click.argument("manifest_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--npm-registry", metavar="URL", help="npm registry for entries without a url.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option("-q", "--quiet", is_flag=True, help="Only problems.")
@click.option("-v", "--verbose", is_flag=True, help="One line per archive.")
@click.pass_context
def manifest_verify_cmd(ctx: click.Context, /, **options: Any) -> None:
    """Re-download and re-hash every archive a manifest pins; exit 5 on any drift.

    \b
        codex-install manifest verify manifests/codex-0.169.0.toml
    """
    from codex_install.manifest_ops import run_verify

    ctx.ensure_object(dict)
    ctx.obj["json"] = bool(options.get("as_json"))
    verified = run_verify(_env(ctx), options)
    if options.get("as_json"):
        _emit_json(verified.to_json())
    if verified.ok:
        if not options.get("quiet"):
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
    from codex_install.fsutil import atomic_write_text
    from codex_install.homebrew import choose_layout, render_homebrew
    from codex_install.manifest import load_manifest

    manifest = load_manifest(manifest_file)
    chosen, why = choose_layout(manifest, layout)
    if why:
        click.echo(f"codex-install: {why}", err=True)
    text = render_homebrew(manifest, kind=kind, layout=chosen)
    if output is None:
        click.echo(text, nl=False)
    else:
        atomic_write_text(output, text)
        click.echo(f"codex-install: wrote {output}", err=True)


def main() -> None:
    cli(prog_name="codex-install", obj={"env": dict(os.environ)})


if __name__ == "__main__":
    main()

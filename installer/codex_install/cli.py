"""The command line: the only click module. Each command parses options and calls the core;
every CodexInstallError becomes one stderr line and its exit code here (SPEC §6)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from codex_install import __version__
from codex_install.errors import CodexInstallError

F = TypeVar("F", bound=Callable[..., Any])


def fail(err: CodexInstallError) -> None:
    click.echo(f"codex-install: error: {err}", err=True)
    sys.exit(err.exit_code)


class _Group(click.Group):
    """Translate expected failures into one line and an exit code; never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CodexInstallError as err:
            fail(err)
        except KeyboardInterrupt:
            click.echo("codex-install: interrupted", err=True)
            sys.exit(130)


@click.group(cls=_Group, invoke_without_command=True)
@click.version_option(__version__, prog_name="codex-install")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Install, verify and run the OpenAI Codex CLI.

    \b
    With no command, installs the latest Codex and offers sign-in:
        codex-install
        codex-install install --version 0.169.0 --no-login --json
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(install_cmd)


# --- install commands (install, list, use, uninstall, resolve) ---


@cli.command("install")
def install_cmd() -> None:
    """Install Codex (placeholder wired up by the installer core)."""
    raise CodexInstallError("install is not wired yet")


# --- auth commands (auth status, auth serve) ---


# --- login command ---


# --- distribution commands (manifest, homebrew, mirror) ---


def main() -> None:
    cli(prog_name="codex-install", auto_envvar_prefix=None, obj={"env": dict(os.environ)})


if __name__ == "__main__":
    main()

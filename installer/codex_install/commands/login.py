"""``codex-install login``: the first sign-in step of install, on its own (SPEC §10)."""

from __future__ import annotations

from codex_install.config import Settings
from codex_install.pathenv import on_path
from codex_install.paths import find_codex
from codex_install.signin import SignInResult, first_sign_in


def run(settings: Settings) -> SignInResult:
    paths = settings.paths
    codex = find_codex(paths, settings.env)
    return first_sign_in(
        paths,
        codex=codex,
        env=settings.env,
        interactive=False if settings.non_interactive else None,
        # Hints name the codex that runs as written here: its path when the bin dir is off PATH.
        shown=None if on_path(paths.bin_dir, settings.env) else codex,
    )


def exit_code(result: SignInResult) -> int:
    """0 signed in, 1 when ``codex login`` itself failed, 8 (sign-in required) otherwise."""
    if result.signed_in:
        return 0
    return 1 if result.state == "failed" else 8

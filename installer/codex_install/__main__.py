"""``python -m codex_install`` and the ``codex-install`` console script.

``codex-install --version`` (or ``-V``) alone is answered here, before click and the CLI are
imported: it is the cold start that scripts and CI logs pay most often (SPEC §11: ≤ 4×
``python -c pass``). So is the re-run of an install that changed nothing, from the record the
previous run left (quick.py). Everything else, ``--version X`` included, goes to the click CLI.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] in (["--version"], ["-V"]):
        from codex_install import __version__

        sys.stdout.write(f"codex-install {__version__}\n")
        sys.stdout.flush()
        return
    from codex_install.signals import unwind_on_termination

    unwind_on_termination()
    code = _quick_answer()
    if code is not None:
        sys.exit(code)
    from codex_install.cli import main as cli_main

    cli_main()


def _quick_answer() -> int | None:
    """The exit code when quick.py answered; None when the CLI must. A record it cannot use
    never fails the command: the full CLI replaces it."""
    import os

    from codex_install import quick

    try:
        return quick.answer(sys.argv[1:], os.environ)
    except KeyboardInterrupt as interrupt:
        from codex_install.signals import exit_code

        sys.stderr.write(quick.INTERRUPTED + "\n")
        sys.exit(exit_code(interrupt))
    except Exception:  # a record it cannot read is no answer: the full CLI gives one
        return None


if __name__ == "__main__":
    main()

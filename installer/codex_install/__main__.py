"""``python -m codex_install`` and the ``codex-install`` console script.

``codex-install --version`` (or ``-V``) alone is answered here, before click and the CLI are
imported: it is the cold start that scripts and CI logs pay most often (SPEC §11: ≤ 4×
``python -c pass``). Everything else, ``--version X`` included, goes to the click CLI.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] in (["--version"], ["-V"]):
        from codex_install import __version__

        sys.stdout.write(f"codex-install {__version__}\n")
        sys.stdout.flush()
        return
    from codex_install.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()

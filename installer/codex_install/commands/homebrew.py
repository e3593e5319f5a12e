"""``codex-install homebrew``: render the cask (or formula) of a release manifest."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from codex_install.fs import atomic_write_text
from codex_install.homebrew import choose_layout, render_homebrew
from codex_install.manifest import load_manifest


@dataclass(frozen=True)
class HomebrewArgs:
    manifest_file: Path
    output: Path | None = None
    layout: str | None = None
    kind: Literal["cask", "formula"] = "cask"


def run(args: HomebrewArgs, say: Callable[[str], None]) -> str | None:
    """The rendered text, or None when it was written to ``args.output``."""
    manifest = load_manifest(args.manifest_file)
    chosen, why = choose_layout(manifest, args.layout)
    if why:
        say(why)
    text = render_homebrew(manifest, kind=args.kind, layout=chosen)
    if args.output is None:
        return text
    atomic_write_text(args.output, text)
    say(f"wrote {args.output}")
    return None

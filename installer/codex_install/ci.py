"""GitHub Actions: step outputs (``$GITHUB_OUTPUT``) and the job summary
(``$GITHUB_STEP_SUMMARY``), as the setup-* actions write them."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from codex_install.errors import FilesystemError, UsageError, printable

OUTPUT_ENV = "GITHUB_OUTPUT"
SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


class Installed(Protocol):
    """What the outputs say about an install (install.InstallResult has it)."""

    @property
    def version(self) -> str: ...
    @property
    def bin_link(self) -> Path: ...
    @property
    def sha256(self) -> str | None: ...
    @property
    def reused(self) -> bool: ...
    @property
    def target(self) -> str: ...
    @property
    def source(self) -> str: ...


def output_lines(outputs: Mapping[str, str | None]) -> str:
    """The ``$GITHUB_OUTPUT`` encoder: ``name=value`` lines; a value with a line break (never
    expected, but a path may hold one) uses the heredoc form with a random delimiter it does
    not contain, as GitHub documents. A carriage return is refused: the runner's line splitting
    would read it as one or the other."""
    lines = []
    for name, value in outputs.items():
        text = value or ""
        if "\r" in text:
            raise UsageError(f"cannot write {name} to {OUTPUT_ENV}: its value holds a CR")
        if "\n" in text:
            delimiter = f"ghadelimiter_{os.urandom(16).hex()}"
            while delimiter in text:  # pragma: no cover - 128 random bits
                delimiter = f"ghadelimiter_{os.urandom(16).hex()}"
            lines.append(f"{name}<<{delimiter}\n{text}\n{delimiter}\n")
        else:
            lines.append(f"{name}={text}\n")
    return "".join(lines)


def markdown_code(text: str) -> str:
    """The ``$GITHUB_STEP_SUMMARY`` encoder: ``text`` as one Markdown code span, which shows
    every character as written (no link, emphasis, table cell or HTML): controls escaped so
    it stays on one line, fenced by more backticks than any run inside it (CommonMark)."""
    clean = printable(text)
    longest = max((len(run) for run in re.findall(r"`+", clean)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if clean.startswith("`") or clean.endswith("`") or not clean.strip() else ""
    return f"{fence}{pad}{clean}{pad}{fence}"


def write_step_outputs(
    env: Mapping[str, str], outputs: Mapping[str, str | None], summary: str
) -> list[str]:
    """Append ``outputs`` and the ``summary`` line where GitHub Actions asks for them; the
    names of the variables written to (none outside Actions)."""
    written = []
    for variable, text in ((OUTPUT_ENV, output_lines(outputs)), (SUMMARY_ENV, f"{summary}\n")):
        target = env.get(variable)
        if not target:
            continue
        try:
            with open(Path(target), "a", encoding="utf-8") as f:
                f.write(text)
        except OSError as err:
            raise FilesystemError(f"cannot write {variable} file {target}: {err.strerror}") from err
        written.append(variable)
    return written


def step_outputs(env: Mapping[str, str], result: Installed) -> list[str]:
    """An install's step outputs and summary line (names of the variables written to)."""
    outputs = {
        "codex-version": result.version,
        "codex-path": str(result.bin_link),
        "sha256": result.sha256,
    }
    verb = "already installed" if result.reused else "installed"
    code = markdown_code
    summary = (
        f"Codex {code(result.version)} {verb} ({code(result.target)}, from "
        f"{code(result.source)}) at {code(str(result.bin_link))}"
        + (f", sha256 {code(result.sha256)}" if result.sha256 else "")
    )
    return write_step_outputs(env, outputs, summary)

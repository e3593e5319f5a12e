"""PATH: is the bin dir on it, which other ``codex`` shadows ours, and adding it (SPEC §5)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from codex_install.errors import FilesystemError

BLOCK_START = "# >>> codex-install >>>"
BLOCK_END = "# <<< codex-install <<<"


@dataclass(frozen=True)
class Conflict:
    path: Path
    remove_with: str


def path_entries(env: Mapping[str, str]) -> list[str]:
    return [p for p in env.get("PATH", "").split(os.pathsep) if p]


def on_path(bin_dir: Path, env: Mapping[str, str]) -> bool:
    want = _norm(bin_dir)
    return any(_norm(Path(p)) == want for p in path_entries(env))


def removal_command(path: Path) -> str:
    """How the user removes another install of codex, guessed from where it lives."""
    text = str(path)
    real = str(_real(path))
    both = text + " " + real
    if "/.bun/" in both:
        return "bun remove -g @openai/codex"
    if "node_modules" in both or "/npm" in both or "/.nvm/" in both or "/.volta/" in both:
        return "npm uninstall -g @openai/codex"
    if "Cellar" in both or "Caskroom" in both or "homebrew" in both or "linuxbrew" in both:
        return "brew uninstall codex"
    return f"rm {text}"


def find_conflicts(bin_dir: Path, env: Mapping[str, str]) -> list[Conflict]:
    """Every ``codex`` that a shell would find before (or instead of) ours."""
    ours = _norm(bin_dir)
    ours_target = _real(bin_dir / "codex")
    conflicts: list[Conflict] = []
    for entry in path_entries(env):
        d = Path(entry)
        if _norm(d) == ours:
            break
        candidate = d / "codex"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            if _real(candidate) == ours_target:
                continue
            conflicts.append(Conflict(candidate, removal_command(candidate)))
    return conflicts


def profile_for(env: Mapping[str, str], home: Path) -> Path:
    shell = Path(env.get("SHELL", "")).name
    if shell == "zsh":
        return Path(env.get("ZDOTDIR", str(home))) / ".zshrc"
    if shell == "bash":
        bash_profile = home / ".bash_profile"
        return bash_profile if bash_profile.exists() and _is_macos() else home / ".bashrc"
    if shell == "fish":
        return home / ".config" / "fish" / "config.fish"
    return home / ".profile"


def path_line(bin_dir: Path, profile: Path) -> str:
    if profile.name == "config.fish":
        return f"fish_add_path {_quote(bin_dir)}"
    return f'export PATH="{bin_dir}:$PATH"'


def modify_profile(profile: Path, bin_dir: Path) -> bool:
    """Append the marked block once; returns False when it was already there."""
    try:
        existing = profile.read_text(encoding="utf-8") if profile.exists() else ""
    except OSError as err:
        raise FilesystemError(f"cannot read {profile}: {err.strerror}") from err
    if BLOCK_START in existing:
        return False
    block = f"\n{BLOCK_START}\n{path_line(bin_dir, profile)}\n{BLOCK_END}\n"
    try:
        profile.parent.mkdir(parents=True, exist_ok=True)
        with open(profile, "a", encoding="utf-8") as f:
            f.write(block)
    except OSError as err:
        raise FilesystemError(f"cannot update {profile}: {err.strerror}") from err
    return True


def add_to_github_path(bin_dir: Path, env: Mapping[str, str]) -> bool:
    """In GitHub Actions, later steps get PATH entries from the file named by GITHUB_PATH."""
    target = env.get("GITHUB_PATH")
    if not target:
        return False
    try:
        existing = Path(target).read_text(encoding="utf-8") if Path(target).exists() else ""
        if str(bin_dir) in existing.splitlines():
            return False
        with open(target, "a", encoding="utf-8") as f:
            f.write(f"{bin_dir}\n")
    except OSError as err:
        raise FilesystemError(f"cannot update GITHUB_PATH file {target}: {err.strerror}") from err
    return True


def _norm(p: Path) -> str:
    return os.path.normpath(os.path.expanduser(str(p)))


def _real(p: Path) -> Path:
    try:
        return p.resolve()
    except OSError:
        return p


def _quote(p: Path) -> str:
    return f'"{p}"' if " " in str(p) else str(p)


def _is_macos() -> bool:
    return os.uname().sysname == "Darwin"

"""PATH: is the bin dir on it, which other ``codex`` shadows ours, and adding it (SPEC §5)."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from codex_install.errors import FilesystemError
from codex_install.fs import atomic_write_text

BLOCK_START = "# >>> codex-install >>>"
BLOCK_END = "# <<< codex-install <<<"


@dataclass(frozen=True)
class Conflict:
    path: Path
    remove_with: str


def path_entries(env: Mapping[str, str]) -> list[str]:
    return [p for p in env.get("PATH", "").split(os.pathsep) if p]


def on_path(bin_dir: Path, env: Mapping[str, str]) -> bool:
    return any(_same_dir(Path(p), bin_dir) for p in path_entries(env))


# Where other installers put codex, first match wins (pnpm before npm: a pnpm path holds "/npm"
# too), and what removes it: `npm uninstall -g` does not remove what pnpm, yarn or Volta put there.
_REMOVAL_COMMANDS = (
    (("/.bun/",), "bun remove -g @openai/codex"),
    (("/pnpm/", "/.pnpm/"), "pnpm remove -g @openai/codex"),
    (("/.yarn/", "/yarn/global/"), "yarn global remove @openai/codex"),
    (("/.volta/",), "volta uninstall @openai/codex"),
    (("node_modules", "/npm", "/.nvm/"), "npm uninstall -g @openai/codex"),
    (("Cellar", "Caskroom", "homebrew", "linuxbrew"), "brew uninstall codex"),
)


def removal_command(path: Path) -> str:
    """How the user removes another install of codex, guessed from where it lives (as written
    or where its links lead)."""
    both = f"{path} {_real(path)}"
    for markers, command in _REMOVAL_COMMANDS:
        if any(marker in both for marker in markers):
            return command
    return f"rm {path}"


def find_conflicts(bin_dir: Path, env: Mapping[str, str]) -> list[Conflict]:
    """Every ``codex`` that a shell would find before (or instead of) ours."""
    ours_target = _real(bin_dir / "codex")
    conflicts: list[Conflict] = []
    for entry in path_entries(env):
        d = Path(entry)
        if _same_dir(d, bin_dir):
            break
        candidate = d / "codex"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            if _real(candidate) == ours_target:
                continue
            conflicts.append(Conflict(candidate, removal_command(candidate)))
    return conflicts


def dangling_links(standalone: Path, env: Mapping[str, str]) -> list[Path]:
    """``codex`` links on PATH into ``standalone`` that lead nowhere any more: after an
    uninstall, those a ``--bin-dir`` other than today's got (or Codex's own installer made)."""
    root = _norm(standalone) + os.sep
    found: list[Path] = []
    for entry in dict.fromkeys(path_entries(env)):
        link = Path(_norm(Path(entry))) / "codex"
        try:
            target = os.path.join(link.parent, os.readlink(link))
        except OSError:
            continue  # not a symlink, or not there
        if os.path.normpath(target).startswith(root) and not link.exists():
            found.append(link)
    return found


def profile_for(env: Mapping[str, str], home: Path) -> Path:
    shell = Path(env.get("SHELL", "")).name
    if shell == "zsh":
        return Path(env.get("ZDOTDIR", str(home))) / ".zshrc"
    if shell == "bash":
        if not _is_macos():
            return home / ".bashrc"
        # Terminal.app starts login shells: bash reads the first of these and never .bashrc.
        for name in (".bash_profile", ".bash_login"):
            if (home / name).exists():
                return home / name
        return home / ".profile"
    if shell == "fish":
        return home / ".config" / "fish" / "config.fish"
    return home / ".profile"


def path_line(bin_dir: Path, profile: Path) -> str:
    if profile.name == "config.fish":
        return f"fish_add_path {_quote(bin_dir)}"
    return f'export PATH="{bin_dir}:$PATH"'


def modify_profile(profile: Path, bin_dir: Path) -> bool:
    """Append the marked block once; a block an earlier install wrote for another bin dir is
    rewritten to this one. Returns False when the block already adds ``bin_dir``."""
    try:
        existing = profile.read_text(encoding="utf-8") if profile.exists() else ""
    except OSError as err:
        raise FilesystemError(f"cannot read {profile}: {err.strerror}") from err
    line = path_line(bin_dir, profile)
    start = existing.find(BLOCK_START)
    if start != -1:
        end = existing.find(BLOCK_END, start)
        if end == -1 or line in existing[start:end].splitlines():
            return False
        _rewrite(profile, existing[:start] + f"{BLOCK_START}\n{line}\n" + existing[end:])
        return True
    block = f"\n{BLOCK_START}\n{line}\n{BLOCK_END}\n"
    try:
        profile.parent.mkdir(parents=True, exist_ok=True)
        with open(profile, "a", encoding="utf-8") as f:
            f.write(block)
    except OSError as err:
        raise FilesystemError(f"cannot update {profile}: {err.strerror}") from err
    return True


def _rewrite(profile: Path, text: str) -> None:
    """Replace the profile atomically, keeping its mode; a symlinked profile (dotfiles repos)
    is rewritten where it points, so the link survives."""
    real = profile.resolve()
    try:
        mode = stat.S_IMODE(real.stat().st_mode)
    except OSError as err:
        raise FilesystemError(f"cannot update {profile}: {err.strerror}") from err
    atomic_write_text(real, text, mode=mode)


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


def _same_dir(a: Path, b: Path) -> bool:
    """Equal as written, or the same directory reached through a symlink (``/bin`` and
    ``/usr/bin`` on merged-/usr systems, a symlinked ``~/.local/bin``)."""
    if _norm(a) == _norm(b):
        return True
    try:
        return os.path.samefile(_norm(a), _norm(b))
    except OSError:
        return False


def _real(p: Path) -> Path:
    try:
        return p.resolve()
    except (OSError, RuntimeError):  # Python < 3.13 raises RuntimeError for a symlink loop
        return p


def _quote(p: Path) -> str:
    return f'"{p}"' if " " in str(p) else str(p)


def _is_macos() -> bool:
    return os.uname().sysname == "Darwin"

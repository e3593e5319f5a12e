"""PATH: is the bin dir on it, which other ``codex`` shadows ours, and adding it (SPEC §5)."""

from __future__ import annotations

import os
import shlex
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from codex_install.errors import FilesystemError, UsageError
from codex_install.fs import UnreadableFileError, atomic_write_text, read_regular

BLOCK_START = "# >>> codex-install >>>"
BLOCK_END = "# <<< codex-install <<<"


@dataclass(frozen=True)
class Owner:
    """Which tool installed a ``codex`` and the command that removes it with that tool."""

    name: str
    remove_with: str


@dataclass(frozen=True)
class Conflict:
    path: Path
    remove_with: str
    owner: str = "unknown"


def path_entries(env: Mapping[str, str]) -> list[str]:
    return [p for p in env.get("PATH", "").split(os.pathsep) if p]


def on_path(bin_dir: Path, env: Mapping[str, str]) -> bool:
    return any(_same_dir(Path(p), bin_dir) for p in path_entries(env))


_NPM = "npm uninstall -g @openai/codex"
_HEAD_BYTES = 512  # enough for a shebang and a shim's marker lines
# Recognised by where the file really lives (links followed), first match wins.
_BY_PLACE = (
    (("/Caskroom/",), Owner("homebrew-cask", "brew uninstall --cask codex")),
    (("/Cellar/",), Owner("homebrew", "brew uninstall codex")),
    (("/.volta/", "/volta-shim"), Owner("volta", "volta uninstall @openai/codex")),
    (("/.asdf/shims/", "/asdf/shims/"), Owner("asdf", f"{_NPM} && asdf reshim nodejs")),
    (("/pnpm/", "/.pnpm/", "/pnpm-global/"), Owner("pnpm", "pnpm remove -g @openai/codex")),
    (("/.yarn/", "/yarn/global/"), Owner("yarn", "yarn global remove @openai/codex")),
    (("/.bun/",), Owner("bun", "bun remove -g @openai/codex")),
)
# Recognised by what the file says (a shim's marker), when its place said nothing.
_BY_CONTENT = (
    ((b"asdf exec", b"asdf-plugin"), Owner("asdf", f"{_NPM} && asdf reshim nodejs")),
    ((b"pnpm",), Owner("pnpm", "pnpm remove -g @openai/codex")),
    ((b"volta",), Owner("volta", "volta uninstall @openai/codex")),
)


def identify(path: Path, real: Path, head: bytes, *, dangling: bool = False) -> Owner:
    """Who owns the ``codex`` at ``path`` (pure): from where it really lives (``real``), the
    shim marker or shebang at its start (``head``), else nobody known. Never a bare ``rm`` of
    a file another tool owns: only a dangling link or a link into a standalone tree is ours
    to remove with ``rm``."""
    where = f"{path} {real}"
    owner = _by_place(where) or _by_content(head)
    if owner is not None:
        return owner
    if any(m in where for m in ("/node_modules/", "/.nvm/", "/lib/npm/")):
        return Owner("npm", _NPM)
    if dangling or f"{os.sep}packages{os.sep}standalone{os.sep}" in str(real):
        return Owner("standalone", f"rm {sh_quote(str(path))}")  # a link, not another tool's
    return Owner(
        "unknown",
        f"the package manager that installed {path} (see `ls -l {sh_quote(str(path))}`), or "
        "move its directory after the bin dir on PATH",
    )


def _by_place(where: str) -> Owner | None:
    return next((o for markers, o in _BY_PLACE if any(m in where for m in markers)), None)


def _by_content(head: bytes) -> Owner | None:
    first_line = head.split(b"\n", 1)[0]
    if first_line.startswith(b"#!") and b"node" in first_line:
        return Owner("npm", _NPM)  # npm's (bun's matched its place before)
    return next((o for needles, o in _BY_CONTENT if any(n in head for n in needles)), None)


def owner_of(path: Path) -> Owner:
    """:func:`identify` for a file on disk (the I/O edge)."""
    real = _real(path)
    try:
        with open(real, "rb") as f:
            head = f.read(_HEAD_BYTES)
    except OSError:
        head = b""
    dangling = path.is_symlink() and not path.exists()
    return identify(path, real, head, dangling=dangling)


def removal_command(path: Path) -> str:
    """How the user removes another install of codex, with the tool that installed it."""
    return owner_of(path).remove_with


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
            owner = owner_of(candidate)
            conflicts.append(Conflict(candidate, owner.remove_with, owner.name))
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


def profiles_for(env: Mapping[str, str], home: Path, system: str | None = None) -> list[Path]:
    """The startup files that put the bin dir on PATH for the user's shell (``SHELL``), as
    Codex's install.sh picks them: zsh ``.zprofile`` on macOS, ``.zshrc`` elsewhere (in
    ``ZDOTDIR``, where zsh reads them); bash ``.bash_profile`` on macOS, ``.bashrc`` elsewhere;
    anything else ``.profile``. Beyond install.sh, bash on Linux also gets the file a login shell
    reads (ssh, ``bash -l``: those never read ``.bashrc``), and fish its ``config.fish``."""
    system = system if system is not None else os.uname().sysname
    shell = Path(env.get("SHELL", "")).name
    if shell == "zsh":
        zdotdir = Path(env.get("ZDOTDIR") or str(home))
        return [zdotdir / (".zprofile" if system == "Darwin" else ".zshrc")]
    if shell == "bash":
        login = _bash_login_file(home)
        return [login] if system == "Darwin" else [home / ".bashrc", login]
    if shell == "fish":
        return [home / ".config" / "fish" / "config.fish"]
    return [home / ".profile"]


def profile_for(env: Mapping[str, str], home: Path, system: str | None = None) -> Path:
    """The first (main) profile of :func:`profiles_for`."""
    return profiles_for(env, home, system)[0]


def _bash_login_file(home: Path) -> Path:
    # A login bash reads the first of these that exists and no other: a new .bash_profile
    # would hide an existing .profile, so .profile is the one created.
    for name in (".bash_profile", ".bash_login"):
        if (home / name).exists():
            return home / name
    return home / ".profile"


def every_profile(env: Mapping[str, str], home: Path) -> list[Path]:
    """Every file :func:`profiles_for` may have picked, whatever the shell and system, for
    ``uninstall`` to take the block out of wherever an install put it."""
    zdotdirs = dict.fromkeys([Path(env.get("ZDOTDIR") or str(home)), home])
    found = [d / name for d in zdotdirs for name in (".zshrc", ".zprofile")]
    found += [home / n for n in (".bashrc", ".bash_profile", ".bash_login", ".profile")]
    return [*found, home / ".config" / "fish" / "config.fish"]


def path_line(bin_dir: Path, profile: Path) -> str:
    """The profile line adding ``bin_dir``, quoted so that no directory name (``$(...)``,
    backticks, quotes) can run code when the profile is sourced."""
    if profile.name == "config.fish":
        return f"fish_add_path {fish_quote(str(bin_dir))}"
    return f'export PATH={sh_quote(str(bin_dir))}:"$PATH"'


def sh_quote(text: str) -> str:
    """The POSIX shell encoder (sh, bash, zsh, dash) of every word we write or print for a
    shell: single quotes, ``'`` spelled ``'"'"'``."""
    return shlex.quote(text)


def fish_quote(text: str) -> str:
    """fish's single quotes: only ``\\`` and ``\'`` are special inside them."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _check_path_dir(bin_dir: Path) -> None:
    # A newline would split the profile line (and our marked block); ":" splits PATH itself.
    name = str(bin_dir)
    if ":" in name or any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise UsageError(
            f"cannot add {name!r} to PATH: its name holds ':' or a control character",
            hint="choose another --bin-dir",
        )


ProfileAction = Literal["added", "updated", "configured"]
# Codex's own install.sh marks its block so; one adding the same directory is as good as ours.
CODEX_BLOCK_START = "# >>> Codex installer >>>"
CODEX_BLOCK_END = "# <<< Codex installer <<<"


class BrokenBlockError(ValueError):
    """A profile holds our start marker without its end marker: it is left alone."""


def plan_block(text: str, line: str) -> tuple[str | None, ProfileAction]:
    """The profile's new text (None: unchanged) with exactly one marked block holding ``line``
    (pure). An existing block is rewritten in place, extra copies dropped; a new one is
    appended. Raises :class:`BrokenBlockError` for a start marker without its end."""
    blocks = _blocks(text, BLOCK_START, BLOCK_END)
    if not blocks:
        if line in _block_lines(text, CODEX_BLOCK_START, CODEX_BLOCK_END):
            return None, "configured"
        sep = "" if not text or text.endswith("\n") else "\n"
        return f"{text}{sep}\n{BLOCK_START}\n{line}\n{BLOCK_END}\n", "added"
    wanted = f"{BLOCK_START}\n{line}\n{BLOCK_END}"
    if len(blocks) == 1 and text[blocks[0][0] : blocks[0][1]] == wanted:
        return None, "configured"
    first_start, first_end = blocks[0]
    return text[:first_start] + wanted + _without_blocks(text, blocks[1:], first_end), "updated"


def _blocks(text: str, start_marker: str, end_marker: str) -> list[tuple[int, int]]:
    """(start, end) of each marked block, end just past its end marker."""
    found, at = [], 0
    while (start := _marker_at(text, start_marker, at)) != -1:
        end = _marker_at(text, end_marker, start)
        if end == -1:
            raise BrokenBlockError(f"{start_marker!r} without {end_marker!r}")
        found.append((start, end + len(end_marker)))
        at = end + len(end_marker)
    return found


def _marker_at(text: str, marker: str, at: int) -> int:
    """Where ``marker`` stands as a whole line at or after ``at`` (-1: nowhere)."""
    while (i := text.find(marker, at)) != -1:
        line_end = i + len(marker)
        if (i == 0 or text[i - 1] == "\n") and (line_end == len(text) or text[line_end] == "\n"):
            return i
        at = line_end
    return -1


def _block_lines(text: str, start_marker: str, end_marker: str) -> list[str]:
    try:
        spans = _blocks(text, start_marker, end_marker)
    except BrokenBlockError:
        return []
    return [ln.strip() for s, e in spans for ln in text[s:e].splitlines()]


def _without_blocks(text: str, blocks: list[tuple[int, int]], at: int) -> str:
    """``text`` from ``at`` on without ``blocks``, each with the blank line added before it."""
    out = []
    for start, end in blocks:
        chunk = text[at:start]
        out.append(chunk[:-1] if chunk.endswith("\n\n") or chunk == "\n" else chunk)
        at = end + 1 if text[end : end + 1] == "\n" else end
    out.append(text[at:])
    return "".join(out)


def strip_block(text: str) -> str | None:
    """The profile's text without our blocks (and the blank line each was given), or None
    when it holds none (pure)."""
    try:
        blocks = _blocks(text, BLOCK_START, BLOCK_END)
    except BrokenBlockError:
        return None
    return _without_blocks(text, blocks, 0) if blocks else None


def modify_profile(profile: Path, bin_dir: Path) -> ProfileAction:
    """Put one marked block adding ``bin_dir`` in ``profile``: appended once, rewritten in place
    when an earlier install wrote it for another bin dir (a later copy is dropped). Says what it
    did: added, updated, or configured (already there, nothing written)."""
    _check_path_dir(bin_dir)
    existing = read_profile(profile)
    try:
        text, action = plan_block(existing, path_line(bin_dir, profile))
    except BrokenBlockError:
        raise FilesystemError(
            f"{profile} has a {BLOCK_START!r} line without its {BLOCK_END!r} line; left alone",
            hint=f"fix or remove it, or add {bin_dir} to PATH yourself",
        ) from None
    if text is None:
        return action
    if action == "updated":
        _rewrite(profile, text)
        return action
    try:
        profile.parent.mkdir(parents=True, exist_ok=True)
        with open(profile, "a", encoding="utf-8") as f:
            f.write(text[len(existing) :])
    except OSError as err:
        raise FilesystemError(f"cannot update {profile}: {err.strerror}") from err
    return action


def remove_block(profile: Path) -> bool:
    """Take our marked block out of ``profile``; False when it holds none."""
    if not profile.is_file():
        return False
    text = strip_block(read_profile(profile))
    if text is None:
        return False
    _rewrite(profile, text)
    return True


TEXT_CAP = 4 << 20  # a shell profile or GITHUB_PATH file is a few KiB; bigger is none we edit


def read_profile(profile: Path) -> str:
    """A profile's text ("" when there is none), capped and regular files only."""
    return _read_text(profile, "shell profile")


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
    existing = _read_text(Path(target), "GITHUB_PATH file")
    try:
        if str(bin_dir) in existing.splitlines():
            return False
        with open(target, "a", encoding="utf-8") as f:
            f.write(f"{bin_dir}\n")
    except OSError as err:
        raise FilesystemError(f"cannot update GITHUB_PATH file {target}: {err.strerror}") from err
    return True


def _read_text(path: Path, what: str) -> str:
    """A file we append to, read as every state file is (fs.read_regular): a FIFO or a
    /dev/zero link in its place is one line (exit 7), never a hang; "" when there is none."""
    try:
        data = read_regular(path, TEXT_CAP, what=what)
    except UnreadableFileError as err:
        raise FilesystemError(err.message) from err
    try:
        return "" if data is None else data.decode("utf-8")
    except UnicodeDecodeError as err:  # rewritten, it would lose those bytes: left alone
        raise FilesystemError(f"{what} {path} is not UTF-8 text; not changing it") from err


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

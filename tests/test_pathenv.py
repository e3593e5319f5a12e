"""PATH detection and the shell-profile block (SPEC §5)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from builders import package_release
from cli_helpers import install
from codex_install import pathenv
from codex_install.errors import FilesystemError, UsageError
from payloads import INJECTIONS


def test_a_block_for_another_bin_dir_is_rewritten_not_left_stale(tmp_path):
    # Reinstalling with another --bin-dir and --modify-path must not keep the old directory
    # in the profile while reporting nothing.
    profile = tmp_path / ".zshrc"
    profile.write_text("alias ll='ls -l'\n")
    assert pathenv.modify_profile(profile, tmp_path / "old-bin")
    assert pathenv.modify_profile(profile, tmp_path / "new-bin")
    text = profile.read_text()
    assert text.count(pathenv.BLOCK_START) == 1 and text.count(pathenv.BLOCK_END) == 1
    assert str(tmp_path / "new-bin") in text and str(tmp_path / "old-bin") not in text
    assert text.startswith("alias ll='ls -l'\n")
    assert pathenv.modify_profile(profile, tmp_path / "new-bin") == "configured"  # once is enough


def test_rewriting_a_symlinked_profile_keeps_the_link_and_its_mode(tmp_path):
    dotfiles = tmp_path / "dotfiles" / "zshrc"
    dotfiles.parent.mkdir()
    dotfiles.write_text("")
    dotfiles.chmod(0o600)
    profile = tmp_path / ".zshrc"
    profile.symlink_to(dotfiles)
    pathenv.modify_profile(profile, tmp_path / "a")
    pathenv.modify_profile(profile, tmp_path / "b")
    assert profile.is_symlink()
    assert str(tmp_path / "b") in dotfiles.read_text()
    assert dotfiles.stat().st_mode & 0o777 == 0o600


def test_bin_dir_reached_through_a_symlinked_path_entry_is_on_path(tmp_path):
    real = tmp_path / "real-bin"
    real.mkdir()
    alias = tmp_path / "alias-bin"
    alias.symlink_to(real)
    env = {"PATH": f"{alias}{os.pathsep}/usr/bin"}
    assert pathenv.on_path(real, env)


def test_codex_after_our_bin_dir_under_another_spelling_is_no_conflict(tmp_path):
    ours = tmp_path / "bin"
    ours.mkdir()
    alias = tmp_path / "alias-bin"
    alias.symlink_to(ours)
    (ours / "codex").write_text("#!/bin/sh\n")
    (ours / "codex").chmod(0o755)
    other = tmp_path / "node_modules" / ".bin"
    other.mkdir(parents=True)
    (other / "codex").write_text("#!/bin/sh\n")
    (other / "codex").chmod(0o755)
    env = {"PATH": f"{alias}{os.pathsep}{other}"}
    assert pathenv.find_conflicts(ours, env) == []


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        ((), ".profile"),  # bash login shells read .profile when neither of the others exists
        ((".bash_login",), ".bash_login"),
        ((".bash_profile", ".bash_login"), ".bash_profile"),
        ((".bashrc",), ".profile"),  # a macOS login shell never reads .bashrc by itself
    ],
)
def test_bash_on_macos_edits_the_file_a_login_shell_reads(tmp_path, existing, expected):
    for name in existing:
        (tmp_path / name).write_text("")
    assert pathenv.profiles_for({"SHELL": "/bin/bash"}, tmp_path, "Darwin") == [tmp_path / expected]


@pytest.mark.parametrize(
    ("existing", "login"),
    [((), ".profile"), ((".bash_profile",), ".bash_profile"), ((".profile",), ".profile")],
)
def test_bash_on_linux_edits_bashrc_and_the_login_file(tmp_path, existing, login):
    # install.sh edits .bashrc; a login shell (ssh, `bash -lc`) reads only its login file.
    for name in existing:
        (tmp_path / name).write_text("")
    found = pathenv.profiles_for({"SHELL": "/bin/bash"}, tmp_path, "Linux")
    assert found == [tmp_path / ".bashrc", tmp_path / login]


@pytest.mark.parametrize(
    ("env", "system", "expected"),
    [
        ({"SHELL": "/bin/zsh"}, "Linux", "H/.zshrc"),
        ({"SHELL": "/bin/zsh"}, "Darwin", "H/.zprofile"),
        ({"SHELL": "/usr/bin/zsh", "ZDOTDIR": "/z"}, "Linux", "/z/.zshrc"),
        ({"SHELL": "/usr/local/bin/fish"}, "Linux", "H/.config/fish/config.fish"),
        ({"SHELL": "/bin/dash"}, "Linux", "H/.profile"),
        ({}, "Darwin", "H/.profile"),
    ],
)
def test_the_profile_per_shell_and_system_is_install_shs(env, system, expected):
    home = Path("/nonexistent-home")
    found = pathenv.profiles_for(env, home, system)
    assert found == [Path(expected.replace("H/", f"{home}/"))]


BLOCK = f"{pathenv.BLOCK_START}\nL\n{pathenv.BLOCK_END}\n"


@pytest.mark.parametrize(
    ("text", "line", "expected", "action"),
    [
        ("", "L", f"\n{BLOCK}", "added"),
        ("a", "L", f"a\n\n{BLOCK}", "added"),
        (f"a\n\n{BLOCK}", "L", None, "configured"),
        (f"a\n\n{BLOCK}b\n", "M", f"a\n\n{BLOCK.replace('L', 'M')}b\n", "updated"),
        # a second copy (hand-edited, or an old bug) is dropped with its blank line
        (f"a\n\n{BLOCK}b\n\n{BLOCK}c\n", "L", f"a\n\n{BLOCK}b\nc\n", "updated"),
        # Codex's own installer already adds the same line: nothing to write
        ("# >>> Codex installer >>>\nL\n# <<< Codex installer <<<\n", "L", None, "configured"),
        # a marker inside another line is no marker
        (
            f"echo '{pathenv.BLOCK_START}'\n",
            "L",
            f"echo '{pathenv.BLOCK_START}'\n\n{BLOCK}",
            "added",
        ),
    ],
)
def test_one_marked_block_is_written_in_place(text, line, expected, action):
    assert pathenv.plan_block(text, line) == (expected, action)


def test_an_unterminated_block_is_left_alone_with_one_line(tmp_path):
    profile = tmp_path / ".bashrc"
    profile.write_text(f"x\n{pathenv.BLOCK_START}\nexport PATH=/old:$PATH\n")
    with pytest.raises(FilesystemError, match="without its"):
        pathenv.modify_profile(profile, tmp_path / "bin")
    assert profile.read_text().startswith("x\n")
    assert pathenv.strip_block(profile.read_text()) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"\n{BLOCK}", ""),
        (f"a\n\n{BLOCK}b\n", "a\nb\n"),
        (f"a\n{BLOCK}", "a\n"),
        ("a\n", None),
    ],
)
def test_uninstall_takes_the_block_out_and_nothing_else(text, expected):
    assert pathenv.strip_block(text) == expected


@pytest.mark.parametrize(
    ("path", "command"),
    [
        ("/home/u/.bun/bin/codex", "bun remove -g @openai/codex"),
        ("/home/u/.local/share/pnpm/codex", "pnpm remove -g @openai/codex"),
        ("/Users/u/Library/pnpm/codex", "pnpm remove -g @openai/codex"),
        ("/home/u/.yarn/bin/codex", "yarn global remove @openai/codex"),
        ("/home/u/.volta/bin/codex", "volta uninstall @openai/codex"),
        ("/home/u/.nvm/versions/node/v22.0.0/bin/codex", "npm uninstall -g @openai/codex"),
        ("/usr/lib/node_modules/@openai/codex/bin/codex.js", "npm uninstall -g @openai/codex"),
        ("/opt/homebrew/Caskroom/codex/0.169.0/codex", "brew uninstall --cask codex"),
        ("/home/linuxbrew/.linuxbrew/Cellar/codex/0.169.0/bin/codex", "brew uninstall codex"),
        ("/home/u/.asdf/shims/codex", "npm uninstall -g @openai/codex && asdf reshim nodejs"),
    ],
)
def test_the_removal_command_fits_the_tool_that_installed_codex(path, command):
    # SPEC §5: name the command that removes the other install; `npm uninstall -g` does not
    # remove what pnpm, yarn or Volta put on PATH.
    assert pathenv.removal_command(Path(path)) == command


def test_a_looping_codex_link_in_the_bin_dir_is_no_crash(tmp_path):
    (tmp_path / "codex").symlink_to("codex")
    assert pathenv.find_conflicts(tmp_path, {"PATH": "/nonexistent"}) == []
    assert pathenv.removal_command(tmp_path / "codex") == f"rm {tmp_path / 'codex'}"


def test_an_unknown_codex_is_never_offered_a_bare_rm(tmp_path):
    other = tmp_path / "opt" / "codex"
    other.parent.mkdir()
    other.write_bytes(b"\x7fELF...")
    command = pathenv.removal_command(other)
    assert not command.startswith("rm ")
    assert f"the package manager that installed {other}" in command


def _shim(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


@pytest.mark.parametrize(
    ("owner", "remove_with", "make"),
    [
        (
            "npm",
            "npm uninstall -g @openai/codex",
            lambda t: _shim(t / "prefix/lib/codex-cli/bin/codex.js", "#!/usr/bin/env node\n"),
        ),
        (
            "bun",
            "bun remove -g @openai/codex",
            lambda t: _shim(t / ".bun/install/global/codex.js", "#!/usr/bin/env node\n"),
        ),
        (
            "pnpm",
            "pnpm remove -g @openai/codex",
            lambda t: _shim(
                t / "shims/codex", '#!/bin/sh\nexec node "$basedir/.pnpm/x/codex.js"\n'
            ),
        ),
        (
            "asdf",
            "npm uninstall -g @openai/codex && asdf reshim nodejs",
            lambda t: _shim(t / "shims/codex", "#!/usr/bin/env bash\n# asdf-plugin: nodejs 22\n"),
        ),
        (
            "volta",
            "volta uninstall @openai/codex",
            lambda t: _shim(t / "volta/bin/volta-shim", "\x7fELF"),
        ),
        (
            "homebrew-cask",
            "brew uninstall --cask codex",
            lambda t: _shim(t / "Caskroom/codex/0.169.0/codex-x86_64", "\x7fELF"),
        ),
        (
            "homebrew",
            "brew uninstall codex",
            lambda t: _shim(t / "Cellar/codex/0.169.0/bin/codex", "\x7fELF"),
        ),
    ],
)
def test_another_codex_on_path_is_recognised_by_what_it_is(tmp_path, owner, remove_with, make):
    # Wherever the link lives (here: a plain dir named "bin"), what it leads to decides.
    target = make(tmp_path)
    first = tmp_path / "bin"
    first.mkdir()
    (first / "codex").symlink_to(target)
    ours = tmp_path / "ours"
    ours.mkdir()
    (conflict,) = pathenv.find_conflicts(ours, {"PATH": f"{first}:{ours}"})
    assert (conflict.owner, conflict.remove_with) == (owner, remove_with)


def test_a_dangling_link_or_a_link_into_a_standalone_tree_may_be_removed_with_rm(tmp_path):
    gone = tmp_path / "codex"
    gone.symlink_to(tmp_path / "nowhere")
    assert pathenv.owner_of(gone) == pathenv.Owner("standalone", f"rm {gone}")
    tree = _shim(tmp_path / "h/packages/standalone/current/bin/codex", "#!/bin/sh\n")
    link = tmp_path / "bin2" / "codex"
    link.parent.mkdir()
    link.symlink_to(tree)
    assert pathenv.owner_of(link).remove_with == f"rm {link}"


# --- quoting: no directory name runs code when the profile is sourced ---------------------

HOSTILE_DIR_NAMES = [
    "plain",
    "with space",
    "$(touch PWNED)",
    "`touch PWNED`",
    "it's",
    'say "hi"; touch PWNED',
    "back\\slash",
    "$HOME and ${PATH}",
    "semi;touch PWNED #",
    "ünïcode",
]


@pytest.mark.parametrize("shell", ["sh", "bash", "dash"])
@pytest.mark.parametrize("name", HOSTILE_DIR_NAMES)
def test_a_sourced_profile_adds_the_dir_verbatim_and_runs_nothing(tmp_path, shell, name):
    if shutil.which(shell) is None:
        pytest.skip(f"no {shell} here")
    bin_dir = tmp_path / name / "bin"
    profile = tmp_path / ".profile"
    assert pathenv.modify_profile(profile, bin_dir)
    assert first_on_path(shell, profile, home=tmp_path) == os.fsencode(bin_dir)
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("/a b/bin", "'/a b/bin'"),
        ("/it's/bin", "'/it\\'s/bin'"),
        ("/back\\slash", "'/back\\\\slash'"),
        ("/$(x)/`y`", "'/$(x)/`y`'"),
    ],
)
def test_fish_gets_its_own_single_quotes(tmp_path, name, quoted):
    fish = tmp_path / ".config" / "fish" / "config.fish"
    assert pathenv.path_line(Path(name), fish) == f"fish_add_path {quoted}"


@pytest.mark.parametrize("name", ["/new\nline/bin", "/cr\r/bin", "/colon:dir/bin", "/esc\x1b/bin"])
def test_a_dir_name_that_cannot_live_on_path_is_refused_before_the_profile_changes(tmp_path, name):
    profile = tmp_path / ".bashrc"
    profile.write_text("# mine\n")
    with pytest.raises(UsageError, match=r"cannot add .* to PATH"):
        pathenv.modify_profile(profile, Path(name))
    assert profile.read_text() == "# mine\n"


def first_on_path(shell: str, profile: Path, *, home: Path, cwd: Path | None = None) -> bytes:
    """The first PATH entry after ``shell`` sources ``profile`` (in ``cwd``, else ``home``),
    as bytes: a hostile name is compared exactly."""
    out = subprocess.run(
        [shell, "-c", '. "$1" && printf %s "$PATH"', shell, str(profile)],
        cwd=cwd or home,
        env={"PATH": "/usr/bin:/bin", "HOME": str(home)},
        capture_output=True,
        check=True,
    )
    return out.stdout.split(b":")[0]


def test_modify_path_through_the_cli_quotes_a_hostile_bin_dir(env, server, home, tmp_path):
    package_release("0.169.0").publish_github(server)
    bin_dir = tmp_path / "$(touch PWNED)" / "bin"
    env = {**env, "SHELL": "/bin/bash", "CODEX_INSTALL_DIR": str(bin_dir)}
    result = install(env, "--version", "0.169.0", "--modify-path")
    assert result.exit_code == 0, result.output
    profile = pathenv.profile_for(env, home)  # macOS: .profile here, Linux: .bashrc
    assert first_on_path("bash", profile, home=home, cwd=tmp_path) == os.fsencode(bin_dir)
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize("shell", ["sh", "bash", "dash"])
def test_every_injection_in_a_bin_dir_is_added_verbatim_or_refused(tmp_path, shell):
    if shutil.which(shell) is None:
        pytest.skip(f"no {shell} here")
    for name, payload in INJECTIONS.items():
        home = tmp_path / name
        home.mkdir()
        profile = home / ".profile"
        bin_dir = Path(str(home) + "/" + payload.replace("/", "_") + "/bin")
        if "\0" in payload or ":" in payload or any(ord(c) < 0x20 or c == "\x7f" for c in payload):
            with pytest.raises(UsageError):
                pathenv.modify_profile(profile, bin_dir)
            assert not profile.exists()
            continue
        assert pathenv.modify_profile(profile, bin_dir)
        assert first_on_path(shell, profile, home=home) == os.fsencode(bin_dir), name
        assert not (home / "PWNED").exists(), name


@pytest.mark.parametrize("payload", list(INJECTIONS.values()), ids=list(INJECTIONS))
def test_a_printed_rm_hint_removes_exactly_that_link(tmp_path, payload):
    if "\0" in payload or "/" in payload:
        pytest.skip("not a file name")
    link = tmp_path / f"{payload}codex"
    link.symlink_to(tmp_path / "gone" / "codex")
    command = pathenv.removal_command(link)
    subprocess.run(["sh", "-c", command], cwd=tmp_path, check=True)
    assert not link.is_symlink()
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "not-utf8"])
def test_a_profile_or_github_path_that_cannot_be_read_is_one_line_not_a_hang(tmp_path, kind):
    for path, call in [
        (tmp_path / ".profile", lambda p: pathenv.modify_profile(p, tmp_path / "bin")),
        (
            tmp_path / "github_path",
            lambda p: pathenv.add_to_github_path(tmp_path / "bin", {"GITHUB_PATH": str(p)}),
        ),
    ]:
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "dev-zero":
            path.symlink_to("/dev/zero")
        else:
            path.write_bytes(b"# caf\xe9\n")
        with pytest.raises(FilesystemError) as info:
            call(path)
        assert "\n" not in str(info.value)
        if kind == "not-utf8":
            assert path.read_bytes() == b"# caf\xe9\n"

"""``codex-launch [ARGS...]``: make sure Codex credentials are usable, then exec codex (SPEC §10).

The hot path (a passthrough command, or credentials valid and fresh) replaces this process with
codex, so signals, the exit code and the TTY belong to codex. It must stay cheap (issue 12:
<= 20 ms over codex on passthrough, <= 25 ms checked): ``main`` first tries ``_fast_exec``,
which imports only ``os``-level modules (locations, auth.credstore, auth.quick) and reads at
most config.toml, auth.json and the refresh ledger. Anything it cannot decide goes to
``launch``, the full path, which imports pathlib, the auth state, the refresh (AuthManager) and
the sign-in flow as it needs them.
"""

from __future__ import annotations

import os
import sys
import time

from codex_install import locations

# Not `typing.TYPE_CHECKING`: importing typing costs milliseconds on every launch, and mypy
# treats any constant of this name the same way.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path
    from typing import TextIO

    from codex_install.auth.state import CredentialState
    from codex_install.paths import Paths
    from codex_install.terminal import IsattyFn

    ExecFn = Callable[[str, list[str]], object]
    LoginStatusFn = Callable[[Path, Mapping[str, str]], bool | None]

# Every subcommand of Codex 0.171.0 (its `codex --help` tree, and `codex NAME --help` for the
# hidden ones: a name Codex does not know prints the top-level help, since it is a prompt), and
# whether it talks to the model — the only ones worth a credential check. Written once, as data;
# tests/launcher/test_rules.py has a case per entry, and the opt-in e2e test holds this table
# against the real binary of CODEX_TABLE_VERSION. A first word that is none of these is a prompt
# for the interactive TUI: checked.
CODEX_TABLE_VERSION = "0.171.0"
CODEX_SUBCOMMANDS: dict[str, bool] = {
    "exec": True,  # run Codex non-interactively
    "e": True,  # alias of exec
    "review": True,  # a code review by the model
    "resume": True,  # continue a session in the TUI
    "fork": True,  # fork a session into the TUI
    "cloud": True,  # Codex Cloud tasks: the ChatGPT backend with these credentials
    "cloud-tasks": True,  # alias of cloud (hidden)
    "apply": True,  # codex_chatgpt apply_command: fetches a Cloud task's diff with them
    "a": True,  # alias of apply
    "login": False,  # manages sign-in itself
    "logout": False,
    "agents": False,  # the session browser; a session it opens is Codex's own check
    "mcp": False,  # MCP server configuration
    "plugin": False,
    "app-server": False,  # answers account/read itself, signed out included
    "remote-control": False,
    "exec-server": False,
    "completion": False,
    "update": False,
    "doctor": False,  # diagnoses a broken sign-in: must run when signed out
    "sandbox": False,
    "debug": False,
    "execpolicy": False,  # hidden
    "queue": False,  # hands a message to a running session, which holds its own credential
    "archive": False,
    "delete": False,
    "unarchive": False,
    "migrate-rollouts": False,
    "migrate-nfs-db": False,
    "features": False,
    "responses-api-proxy": False,  # hidden: reads its key on stdin
    "git-credential": False,  # hidden: git's credential helper; git must never see a prompt
    "tcp-tunnel": False,  # hidden: forwards a socket through Codex's proxy
    "help": False,
}
if sys.platform == "darwin":
    # Only the macOS build has it (it launches the desktop app); elsewhere `codex app` is a prompt.
    CODEX_SUBCOMMANDS["app"] = False
# `--remote ADDR` (the TUI, `agents`, `resume`, `fork`, `exec` and `exec resume|fork|review`)
# runs the session on a remote app-server, with that server's credential: nothing local to check.
REMOTE_FLAG = "--remote"
PASSTHROUGH_FLAGS = frozenset({"--version", "-V", "--help", "-h"})
# codex's global options that take exactly one separate value (`codex -c k=v login`,
# `codex -p work logout`): skipped to find the subcommand. An option missing here only makes
# the check stricter, so `-i/--image` (which takes several values) is left out on purpose.
_VALUE_OPTIONS = frozenset(
    {
        *("-c", "--config", "--enable", "--disable", "-m", "--model", "--local-provider"),
        *("-p", "--profile", "-s", "--sandbox", "-a", "--ask-for-approval", "-C", "--cd"),
        *("--add-dir", "--remote", "--remote-auth-token-env"),
    }
)
# Codex uses this variable as the API key directly (codex-rs/login auth manager, `load_auth`:
# "API key via env var takes precedence over any other auth method"), so a run with it set
# needs nothing from auth.json.
CODEX_API_KEY_VAR = "CODEX_API_KEY"
LOGIN_STATUS_TIMEOUT_S = 5.0

_OTHER_WAYS = (
    "(`codex login --device-auth` without a browser), "
    "or set OPENAI_API_KEY and run `codex-install login`."
)
SIGN_IN_HINT = f"Sign in with `codex login` {_OTHER_WAYS}"
OPENAI_KEY_HINT = (
    "OPENAI_API_KEY is set, but Codex does not use it without a login: sign in with it once "
    "with `codex-install login`, or set CODEX_API_KEY for Codex to use it directly."
)
EXIT_SIGN_IN_REQUIRED = 8
# Credential kinds codex can run with as they are ("external": a mode only Codex can check, such
# as a personal access token or Bedrock keys — Codex says itself when it cannot use them).
_USABLE = ("apikey", "chatgpt", "external")


def needs_credentials(args: Sequence[str]) -> bool:
    """True only for invocations that talk to the model with local credentials (see
    CODEX_SUBCOMMANDS); help and version flags and remote sessions never need them.

    Only the first argument that is not a global option (or its value) can name a subcommand;
    the help/version flags and ``--remote`` count anywhere before ``--`` (after it they are a
    prompt's text, which codex passes on)."""
    for arg in args:
        if arg == "--":
            break
        if arg in PASSTHROUGH_FLAGS or _is_remote(arg):
            return False
    command = _subcommand(args)
    return True if command is None else CODEX_SUBCOMMANDS.get(command, True)


def _is_remote(arg: str) -> bool:
    return arg == REMOTE_FLAG or arg.startswith(REMOTE_FLAG + "=")


def _subcommand(args: Sequence[str]) -> str | None:
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return None
        if not arg.startswith("-") or arg == "-":
            return arg
        i += 2 if arg in _VALUE_OPTIONS else 1
    return None


def launch(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    execv: ExecFn | None = None,
    isatty: IsattyFn = os.isatty,
    clock: Callable[[], float] = time.time,
    stderr: TextIO | None = None,
    self_paths: Sequence[str] = (),
    login_status: LoginStatusFn | None = None,
) -> int:
    """Check credentials and exec codex with ``args`` unchanged. Returns an exit status only when
    codex was not started (or when ``execv`` is a test double that returns).

    ``login_status(codex, env)`` answers whether Codex itself says it is signed in (True,
    False, or None when it could not tell in time); it is asked only when the credentials may
    be in the OS keyring."""
    # The full path: pathlib and the auth state are worth importing now.
    from codex_install.paths import find_codex, resolve_paths
    from codex_install.terminal import is_interactive

    env = os.environ if env is None else env
    err = sys.stderr if stderr is None else stderr
    execv = _flush_and_execv if execv is None else execv
    paths = resolve_paths(env)
    codex = find_codex(paths, env, exclude=self_paths)
    if needs_credentials(args) and not env.get(CODEX_API_KEY_VAR, "").strip():
        state = _checked_state(paths, codex, args, env, clock, err, login_status)
        if state is not None and state.kind not in _USABLE:
            interactive = is_interactive(env, isatty)
            if not _sign_in(paths, codex, state, env, interactive, clock, err):
                return EXIT_SIGN_IN_REQUIRED
    execv(str(codex), [str(codex), *args])
    return 0


def _checked_state(
    paths: Paths,
    codex: Path,
    args: Sequence[str],
    env: Mapping[str, str],
    clock: Callable[[], float],
    err: TextIO,
    login_status: LoginStatusFn | None,
) -> CredentialState | None:
    """The credentials where Codex keeps them; None when they are usable but not ours to see
    (keyring). In keyring/auto mode a leftover auth.json proves nothing, so Codex is asked."""
    # Deferred: the config lookup is needed only on a checked command.
    from codex_install.auth.credstore import FILE_STORE, credentials_store

    if credentials_store(str(paths.codex_home), args) == FILE_STORE:
        return _current_state(paths, env, args, clock, err)
    ask = _codex_login_status if login_status is None else login_status
    verdict = ask(codex, env)
    if verdict is None:
        err.write("codex-launch: warning: `codex login status` did not answer; starting codex\n")
    if verdict is False:
        from codex_install.auth.state import SIGNED_OUT

        return SIGNED_OUT
    return None


def _codex_login_status(
    codex: Path, env: Mapping[str, str], timeout: float = LOGIN_STATUS_TIMEOUT_S
) -> bool | None:
    """Codex's own answer (exit code 0: signed in), under a deadline: a keyring behind a
    locked or absent Secret Service can hang, and the launcher must never hang in front."""
    import subprocess  # deferred: only the keyring path runs a child before codex

    try:
        proc = subprocess.run(
            [str(codex), "login", "status"],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.returncode == 0


def _current_state(
    paths: Paths,
    env: Mapping[str, str],
    args: Sequence[str],
    clock: Callable[[], float],
    err: TextIO,
) -> CredentialState:
    """The credentials as found (signed out when config.toml refuses them, as Codex answers), a
    stale token refreshed first."""
    state = _read_state(paths, env, args, clock)
    if state.kind in _USABLE and state.stale:
        return _refresh(paths, env, args, clock, err)
    return state


def _read_state(
    paths: Paths, env: Mapping[str, str], args: Sequence[str], clock: Callable[[], float]
) -> CredentialState:
    # Deferred so that the passthrough path does not even import the auth package.
    from codex_install.auth.state import read_credential_state

    return read_credential_state(paths.codex_home, env=env, now=clock(), args=args)


def _refresh(
    paths: Paths,
    env: Mapping[str, str],
    args: Sequence[str],
    clock: Callable[[], float],
    err: TextIO,
) -> CredentialState:
    """Refresh a stale ChatGPT token under §9's rules (single flight, poison, shared backoff).

    A transient failure does not block the run: the token may still be valid for a few
    minutes, and codex retries the refresh itself — so warn and go on with what we have. The
    same holds when CODEX_HOME cannot take the refresh lock or state (a read-only mount). A
    permanent failure has been persisted as poison by ensure_fresh: reading the state back
    gives its stored reason."""
    # Deferred: the refresh needs the HTTP stack, which the hot path must never import.
    from codex_install.auth.manager import AuthManager
    from codex_install.errors import FilesystemError, RefreshError

    try:
        with AuthManager(paths.codex_home, env=env, clock=clock) as manager:
            return manager.ensure_fresh()
    except (FilesystemError, RefreshError) as e:
        if not (isinstance(e, RefreshError) and e.permanent):
            err.write(f"codex-launch: warning: could not refresh the sign-in token: {e}\n")
    return _read_state(paths, env, args, clock)


def _sign_in(
    paths: Paths,
    codex: Path,
    state: CredentialState,
    env: Mapping[str, str],
    interactive: bool,
    clock: Callable[[], float],
    err: TextIO,
) -> bool:
    """Signed out or poisoned: run the §10 sign-in; False (said why on ``err``) if it did not
    sign anyone in, and codex must not be started."""
    from codex_install.errors import printable  # deferred: see the module doc

    if not interactive:
        # Nobody to ask, and credentials are written only when asked for (`codex-install
        # login`): say why, and leave codex unstarted.
        err.write(f"codex-launch: {printable(_not_signed_in(state, env))}\n")
        return False
    if state.kind == "signed_out" and state.reason:
        err.write(f"codex-launch: {printable(state.reason)}\n")
    # Deferred: the sign-in flow is needed only when there are no usable credentials.
    from codex_install.signin import first_sign_in

    result = first_sign_in(
        paths,
        codex=codex,
        env=env,
        interactive=interactive,
        no_login=False,
        echo=lambda line: print(line, file=err, flush=True),
        prompt_in=sys.stdin,
        prompt_out=err,
        clock=clock,
    )
    if not result.signed_in:
        err.write(f"codex-launch: codex was not started. {SIGN_IN_HINT}\n")
    return result.signed_in


def _not_signed_in(state: CredentialState, env: Mapping[str, str]) -> str:
    if state.kind == "poisoned" and state.reason:
        # The reason already ends in "Sign in again with `codex login`."
        return f"{state.reason.rstrip('.')} {_OTHER_WAYS}"
    if state.reason:
        # config.toml refuses the credentials auth.json holds (Codex would sign them out).
        return f"Not signed in: {state.reason}. {SIGN_IN_HINT}"
    if env.get("OPENAI_API_KEY", "").strip():
        # Codex reads OPENAI_API_KEY only through a login (auth.json); CODEX_API_KEY directly.
        return f"Not signed in. {OPENAI_KEY_HINT}"
    return f"Not signed in. {SIGN_IN_HINT}"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        own = _self_paths()
        _fast_exec(args, os.environ, own)  # returns only when it cannot decide
        return launch(args, self_paths=own)
    except KeyboardInterrupt:
        sys.stderr.write("codex-launch: interrupted\n")
        return 130
    except Exception as e:
        from codex_install.errors import CodexInstallError  # deferred: see the module doc

        if not isinstance(e, CodexInstallError):
            raise
        sys.stderr.write(f"codex-launch: error: {e}\n")
        return e.exit_code


def _fast_exec(args: list[str], env: Mapping[str, str], self_paths: Sequence[str]) -> None:
    """Exec codex at once when nothing needs deciding: a passthrough command, CODEX_API_KEY,
    or usable file credentials (auth/quick.py). Returns when the full path must decide."""
    home = locations.codex_home(None, env)
    if needs_credentials(args) and not env.get(CODEX_API_KEY_VAR, "").strip():
        # Deferred past the passthrough commands, which never look at credentials.
        from codex_install.auth.credstore import (
            FILE_STORE,
            credentials_store,
            mentions_restrictions,
            read_config_text,
        )
        from codex_install.auth.quick import usable_as_is

        text = read_config_text(home)
        if (
            credentials_store(home, args, text) != FILE_STORE
            or mentions_restrictions(text, args)
            or not usable_as_is(home, time.time())
        ):
            return
    candidates = locations.codex_candidates(home, locations.bin_dir(None, env), env)
    codex = locations.first_executable(candidates, self_paths)
    if codex is not None:
        _flush_and_execv(codex, [codex, *args])


def _self_paths() -> list[str]:
    """Files that are this launcher: the console script (or a symlink to it) that was run."""
    found = [sys.argv[0]] if sys.argv and sys.argv[0] else []
    return [p for p in found if os.path.basename(p) not in {"-c", "-m"} and os.path.exists(p)]


def _flush_and_execv(path: str, argv: list[str]) -> None:
    # exec discards Python's buffers: anything said so far must reach the terminal first.
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execv(path, argv)
    except OSError as err:
        from codex_install.errors import FilesystemError  # deferred: see the module doc

        # find_codex saw an executable file, yet the kernel refused it: a build for another
        # machine (ENOEXEC), a broken interpreter line, a noexec mount. One line, not a traceback.
        raise FilesystemError(
            f"cannot run {path}: {err.strerror or err}",
            hint="reinstall it with `codex-install --force`",
        ) from err


if __name__ == "__main__":
    sys.exit(main())

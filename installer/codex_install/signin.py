"""The first sign-in (SPEC §10): the last step of ``codex-install``, ``codex-install login`` on
its own, and the launcher's offer when it finds no usable credentials.

Every branch ends in a ``SignInResult``; "not signed in" is a result, never an exception, so an
install still succeeds without credentials. Sign-in itself is always done by the installed
``codex login`` (which owns auth.json); afterwards auth.json is read back to verify it.

An API key only ever travels on codex's stdin: never on a command line, never printed — output
that codex prints is scrubbed of it before it is shown.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, TextIO

from codex_install.auth.credstore import FILE_STORE, credentials_store
from codex_install.auth.state import CredentialState, read_credential_state
from codex_install.childenv import without_secrets
from codex_install.errors import CodexInstallError, printable
from codex_install.paths import Paths
from codex_install.terminal import is_interactive, non_interactive_forced, stream_isatty

SignInState = Literal[
    "signed_in",  # credentials were already there and usable
    "api_key_login",  # an API key from the environment was handed to `codex login --with-api-key`
    "login_ran",  # interactive `codex login` (browser or device code) signed the user in
    "skipped",  # --no-login / CODEX_NON_INTERACTIVE=1 without a key, and not signed in
    "instructions",  # nobody to ask and no key: printed how to sign in
    "declined",  # interactive, and the user chose not to sign in now
    "poisoned",  # saved credentials can no longer be refreshed, and no new sign-in happened
    "failed",  # codex login failed, or auth.json could not be read / verified
]
SIGNED_IN_STATES = frozenset({"signed_in", "api_key_login", "login_ran"})

# CODEX_API_KEY is Codex's own variable, so it wins over the generic OpenAI one.
API_KEY_VARS = ("CODEX_API_KEY", "OPENAI_API_KEY")
LOGIN_TIMEOUT_SECONDS = 120.0
LOGIN_STATUS_TIMEOUT_SECONDS = 5.0


def ci_how(codex: str = "codex", installer: str = "codex-install") -> str:
    return (
        f"set OPENAI_API_KEY and run `{installer} login`, or pipe the key: "
        f"printenv OPENAI_API_KEY | {codex} login --with-api-key"
    )


def how_to_sign_in(codex: str = "codex", installer: str = "codex-install") -> str:
    """How to sign in later, with ``codex`` and ``installer`` as they run in this terminal (a
    full path when PATH does not find them): every hint runs as written."""
    return (
        f"To sign in, run `{codex} login` (`{codex} login --device-auth` on a machine without "
        f"a browser); for CI, {ci_how(codex, installer)}"
    )


def self_command(env: Mapping[str, str], argv0: str, python: str = sys.executable) -> str:
    """codex-install as this terminal can run it again: its name when PATH finds this very
    program, else its path (``.venv/bin/codex-install``), or ``python -m codex_install``."""
    name = "codex-install"
    if os.path.basename(argv0) == "__main__.py":
        return f"{shlex.quote(python)} -m codex_install"
    if os.path.basename(argv0) != name:
        return name  # embedded (tests, another program): the name is all we know
    found = shutil.which(name, path=env.get("PATH", ""))
    if found and os.path.realpath(found) == os.path.realpath(argv0):
        return name
    return shlex.quote(os.path.abspath(argv0))


HOW_TO_SIGN_IN = how_to_sign_in()
INSTRUCTIONS = f"Codex is installed but not signed in. {HOW_TO_SIGN_IN}."
_DEFAULT_POISON_REASON = "Your saved Codex sign-in no longer works."
_EMAIL_MAX, _PLAN_MAX, _DETAIL_MAX = 120, 40, 200

# fd 2 itself, not sys.stderr: a replaced sys.stderr (click's test runner, pytest) has no fd.
_STDERR_FD = 2

Runner = Callable[..., "subprocess.CompletedProcess[str]"]
Echo = Callable[[str], None]
ApiKey = tuple[str, str]  # (variable name, key)
# What to do when nobody is signed in: skip quietly, use the key, print how, or ask.
_Route = Literal["skip", "key", "instructions", "ask"]
# The choices of Codex's own first screen, and not now.
Choice = Literal["browser", "device", "key", "no"]
_PROMPT_TRIES = 3


@dataclass(frozen=True)
class SignInResult:
    state: SignInState
    who: str | None  # "dev@example.com (plus plan)" or "API key ***1234"; never a secret
    message: str

    @property
    def signed_in(self) -> bool:
        return self.state in SIGNED_IN_STATES

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "signed_in": self.signed_in,
            "who": self.who,
            "message": self.message,
        }


@dataclass(frozen=True)
class _Flow:
    """One sign-in's seams and settings, handed to every branch together."""

    paths: Paths
    codex: Path
    env: Mapping[str, str]
    run: Runner
    say: Echo
    prompt_in: TextIO
    prompt_out: TextIO
    platform: str
    clock: Callable[[], float]
    shown: str = "codex"  # codex as a hint names it (its full path when not on PATH)
    installer: str = "codex-install"  # codex-install as a hint names it (see self_command)

    def read_state(self) -> CredentialState:
        return read_credential_state(self.paths.codex_home, env=self.env, now=self.clock())

    def child_env(self) -> dict[str, str]:
        """codex must write auth.json where we read it back, even with --codex-home; it gets
        no token or key in its environment (the key goes on stdin)."""
        return {**without_secrets(self.env), "CODEX_HOME": str(self.paths.codex_home)}


def first_sign_in(
    paths: Paths,
    *,
    codex: Path,
    env: Mapping[str, str],
    interactive: bool | None = None,
    no_login: bool = False,
    run: Runner = subprocess.run,
    echo: Echo | None = None,
    prompt_in: TextIO | None = None,
    prompt_out: TextIO | None = None,
    platform: str = sys.platform,
    clock: Callable[[], float] = time.time,
    isatty: Callable[[int], bool] | None = None,
    shown: Path | None = None,
) -> SignInResult:
    """Run whichever §10 branch applies and report it; prints progress through ``echo``
    (stderr by default). ``interactive=None`` detects it (TTYs, CODEX_NON_INTERACTIVE)."""
    if interactive is None:
        interactive = is_interactive(env, stream_isatty if isatty is None else isatty)
    flow = _Flow(
        paths,
        codex,
        env,
        run,
        say=echo if echo is not None else _stderr_line,
        prompt_in=sys.stdin if prompt_in is None else prompt_in,
        prompt_out=sys.stderr if prompt_out is None else prompt_out,
        platform=platform,
        clock=clock,
        shown="codex" if shown is None else shlex.quote(str(shown)),
        installer=self_command(env, sys.argv[0]),
    )
    result = _sign_in(flow, interactive=interactive, no_login=no_login)
    # codex's own output and auth.json's contents end up in messages: one escaped line each.
    result = replace(result, message=printable(result.message))
    if result.state != "skipped":
        flow.say(result.message)
    return result


def api_key_from_env(env: Mapping[str, str]) -> ApiKey | None:
    """(variable name, key) of the first API key set in the environment."""
    for name in API_KEY_VARS:
        value = env.get(name, "").strip()
        if value:
            return name, value
    return None


def has_local_browser(env: Mapping[str, str], platform: str = sys.platform) -> bool:
    """False in an SSH session, or on Linux with no graphical display: a browser opened there
    would not be in front of the user, so the device-code flow is the one that works."""
    if env.get("SSH_CONNECTION") or env.get("SSH_TTY"):
        return False
    if platform.startswith("linux"):
        return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))
    return True


def login_command(codex: Path, env: Mapping[str, str], platform: str = sys.platform) -> list[str]:
    argv = [str(codex), "login"]
    if not has_local_browser(env, platform):
        argv.append("--device-auth")
    return argv


def describe(state: CredentialState) -> str | None:
    """Who is signed in, for one line of output (a ``CredentialState``)."""
    if state.kind == "apikey":
        return f"API key ***{state.api_key_last4}" if state.api_key_last4 else "API key"
    if state.kind == "chatgpt":
        # Both come from the id_token: remote text, escaped and cut like any other.
        email = printable(state.email, _EMAIL_MAX) if state.email else None
        if email and state.plan:
            return f"{email} ({printable(state.plan, _PLAN_MAX)} plan)"
        return email or "a ChatGPT account"
    return None


def _sign_in(flow: _Flow, *, interactive: bool, no_login: bool) -> SignInResult:
    try:
        state = flow.read_state()
    except CodexInstallError as e:
        return SignInResult("failed", None, f"Could not read the Codex sign-in: {e}")
    who = describe(state)
    if who is not None:
        return _signed_in("signed_in", who)
    key = api_key_from_env(flow.env)
    route = _route(
        no_login=no_login,
        forced=non_interactive_forced(flow.env),
        interactive=interactive,
        has_key=key is not None,
    )
    poison = (state.reason or _DEFAULT_POISON_REASON) if state.kind == "poisoned" else None
    if route in ("skip", "instructions"):
        return _not_signed_in(flow, route, poison)
    if poison is not None:
        flow.say(printable(poison))
    if route == "key" and key is not None:
        return _api_key_login(flow, key)
    return _offer_login(flow, key, poisoned=poison is not None)


def _not_signed_in(flow: _Flow, route: _Route, poison: str | None) -> SignInResult:
    """Nobody will sign in now: say why (the poison reason, if any) and how to do it later."""
    how = how_to_sign_in(flow.shown, flow.installer)
    if route == "skip":
        if poison is not None:
            return SignInResult("poisoned", None, poison)
        return SignInResult("skipped", None, f"Sign-in skipped. {how}.")
    if poison is not None:
        return SignInResult(
            "poisoned", None, f"{poison} For CI, {ci_how(flow.shown, flow.installer)}."
        )
    return SignInResult("instructions", None, f"Codex is installed but not signed in. {how}.")


def _route(*, no_login: bool, forced: bool, interactive: bool, has_key: bool) -> _Route:
    """SPEC §6: --no-login, and CODEX_NON_INTERACTIVE=1 unless an API key is in the
    environment, skip; with nobody to ask, a key is used, else how to sign in is printed."""
    if no_login or (forced and not has_key):
        return "skip"
    if forced or not interactive:
        return "key" if has_key else "instructions"
    return "ask"


def _offer_login(flow: _Flow, key: ApiKey | None, *, poisoned: bool) -> SignInResult:
    from codex_install.auth.codexconfig import read_codex_config

    browser = has_local_browser(flow.env, flow.platform)
    forced = read_codex_config(flow.paths.codex_home).forced_login_method
    choice = ask_choice(key, browser, flow.prompt_in, flow.prompt_out, forced=forced)
    if choice == "no":
        return SignInResult(
            "poisoned" if poisoned else "declined",
            None,
            # A person chose "not now" at the prompt: the one command for later, not the CI ways.
            f"Not signed in. To sign in later, run `{flow.shown} login` "
            f"(`{flow.shown} login --device-auth` without a browser here).",
        )
    if choice == "key":
        typed = key if key is not None else _read_key(flow.prompt_in, flow.prompt_out)
        if typed is None:
            return SignInResult(
                "declined", None, f"Not signed in: no API key was entered. {_retry(flow)}"
            )
        return _api_key_login(flow, typed)
    return _interactive_login(flow, device=choice == "device")


def menu(
    key: ApiKey | None, browser: bool, forced: str | None = None
) -> tuple[list[tuple[Choice, str]], int]:
    """The numbered choices (pure) and the default's number: the browser where one opens in
    front of the user, the device code elsewhere (SSH, no display). Codex's
    ``forced_login_method`` ("chatgpt" or "api") leaves out the ways it would refuse."""
    key_label = (
        f"Use the API key in ${key[0]}" if key is not None else "Paste an API key (not shown)"
    )
    chatgpt: list[tuple[Choice, str]] = [
        ("browser", "Sign in with ChatGPT in your browser (opens your browser)"),
        ("device", "Sign in with ChatGPT by device code (shows a code to enter elsewhere)"),
    ]
    api: list[tuple[Choice, str]] = [("key", key_label)]
    ways = chatgpt if forced == "chatgpt" else api if forced == "api" else chatgpt + api
    options = [*ways, ("no", "Not now")]
    default = "browser" if browser else "device"
    return options, next((n for n, (c, _) in enumerate(options, 1) if c == default), 1)


def ask_choice(
    key: ApiKey | None,
    browser: bool,
    prompt_in: TextIO,
    prompt_out: TextIO,
    *,
    forced: str | None = None,
) -> Choice:
    """Codex's own three ways to sign in, as a numbered prompt; Enter takes the default, EOF
    (nobody there after all) is "not now"; y/n and k are still understood."""
    options, default = menu(key, browser, forced)
    offered = {choice for choice, _ in options}
    prompt_out.write("Sign in to Codex:\n")
    for number, (_, label) in enumerate(options, 1):
        prompt_out.write(f"  {number}) {label}\n")
    for _ in range(_PROMPT_TRIES):
        prompt_out.write(f"Choose 1-{len(options)} [{default}]: ")
        prompt_out.flush()
        line = prompt_in.readline()
        if not line:
            prompt_out.write("\n")
            return "no"
        answer = line.strip().lower()
        words: dict[str, Choice] = {"y": options[default - 1][0], "yes": options[default - 1][0]}
        words.update({"n": "no", "no": "no"})
        if "key" in offered:
            words.update({"k": "key", "key": "key"})
        if answer == "":
            return options[default - 1][0]
        if answer in words:
            return words[answer]
        if answer.isdigit() and 1 <= int(answer) <= len(options):
            return options[int(answer) - 1][0]
        prompt_out.write(f"Please answer a number from 1 to {len(options)}.\n")
    return "no"


def _read_key(prompt_in: TextIO, prompt_out: TextIO) -> ApiKey | None:
    """An API key typed in, without echo on a terminal (getpass reads /dev/tty, which a
    process without a controlling terminal lacks: this reads the stream the prompt uses)."""
    with _echo_off(prompt_in):
        # Echo goes off before the prompt shows: a key typed (or pasted) at once is not echoed.
        prompt_out.write("API key (input is hidden): ")
        prompt_out.flush()
        line = prompt_in.readline()
    prompt_out.write("\n")
    prompt_out.flush()
    value = line.strip()
    return ("the key you entered", value) if value else None


@contextlib.contextmanager
def _echo_off(stream: TextIO) -> Iterator[None]:
    try:
        fd = stream.fileno()
        is_tty = os.isatty(fd)
    except (AttributeError, OSError, ValueError):
        is_tty = False
    if not is_tty:
        yield
        return
    import termios  # POSIX only, as the installer is

    old = termios.tcgetattr(fd)
    new = list(old)
    new[3] &= ~termios.ECHO
    # TCSADRAIN, never TCSAFLUSH: what the user typed ahead is the answer, not noise.
    termios.tcsetattr(fd, termios.TCSADRAIN, new)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, old)


def _retry(flow: _Flow) -> str:
    return (
        f"Codex is installed; to try again, run `{flow.shown} login` or `{flow.installer} login`."
    )


def _api_key_login(flow: _Flow, key: ApiKey) -> SignInResult:
    name, secret = key
    flow.say(
        f"Signing in to Codex with {name}…"
        if name.startswith("the ")
        else f"Signing in to Codex with the API key in ${name}…"
    )
    try:
        proc = flow.run(
            [str(flow.codex), "login", "--with-api-key"],
            input=secret + "\n",
            env=flow.child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            timeout=LOGIN_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as e:
        message = f"Could not run codex login: {e}. {_retry(flow)}"
        return SignInResult("failed", None, _scrub(message, secret))
    if proc.returncode != 0:
        detail = printable(_last_line(proc.stderr) or _last_line(proc.stdout), _DETAIL_MAX)
        message = f"codex login --with-api-key failed (exit {proc.returncode})"
        message = f"{message}: {detail}" if detail else message
        return SignInResult("failed", None, _scrub(f"{message}. {_retry(flow)}", secret))
    return _verify(flow, "api_key_login", expect_last4=secret[-4:], secret=secret)


def _interactive_login(flow: _Flow, *, device: bool | None = None) -> SignInResult:
    argv = login_command(flow.codex, flow.env, flow.platform)
    if device is not None:
        argv = [str(flow.codex), "login", *(["--device-auth"] if device else [])]
    try:
        # codex talks to the user on the terminal; its stdout goes to our stderr so that a
        # `--json` install keeps exactly one JSON object on stdout.
        proc = flow.run(argv, env=flow.child_env(), stdout=_STDERR_FD, check=False)
    except (OSError, subprocess.SubprocessError, ValueError) as e:
        return SignInResult("failed", None, f"Could not run codex login: {e}. {_retry(flow)}")
    if proc.returncode != 0:
        shown = " ".join(["codex", *argv[1:]])
        return SignInResult(
            "failed", None, f"`{shown}` failed (exit {proc.returncode}). {_retry(flow)}"
        )
    return _verify(flow, "login_ran")


def _verify(
    flow: _Flow,
    success: SignInState,
    *,
    expect_last4: str | None = None,
    secret: str | None = None,
) -> SignInResult:
    """Trust auth.json, not codex's exit status: sign-in counts only once it is on disk. With
    the credentials in the OS keyring (``cli_auth_credentials_store``), Codex is asked instead."""
    if credentials_store(str(flow.paths.codex_home), ()) != FILE_STORE:
        return _verify_with_codex(flow, success)
    try:
        state = flow.read_state()
    except CodexInstallError as e:
        message = f"codex login finished but auth.json is unreadable: {e}. {_retry(flow)}"
        return SignInResult("failed", None, _scrub(message, secret))
    who = describe(state)
    if who is None or (expect_last4 is not None and state.api_key_last4 != expect_last4):
        return SignInResult(
            "failed",
            None,
            f"codex login finished but {flow.paths.auth_file} has no usable sign-in. "
            + _retry(flow),
        )
    return _signed_in(success, who)


def _verify_with_codex(flow: _Flow, success: SignInState) -> SignInResult:
    """``codex login status`` (exit 0: signed in), under a deadline: a locked keyring can hang."""
    argv = [str(flow.codex), "login", "status"]
    try:
        proc = flow.run(
            argv,
            env=flow.child_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=LOGIN_STATUS_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError, ValueError) as e:
        return SignInResult("failed", None, f"Could not ask `codex login status`: {e}")
    if proc.returncode != 0:
        return SignInResult(
            "failed", None, "codex login finished but `codex login status` says not signed in."
        )
    return _signed_in(success, "the credentials Codex keeps in the OS keyring")


def _signed_in(state: SignInState, who: str) -> SignInResult:
    return SignInResult(state, who, f"Signed in to Codex as {who}.")


def _scrub(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text


def _last_line(text: str | None) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _stderr_line(line: str) -> None:
    sys.stderr.write(f"{line}\n")
    sys.stderr.flush()

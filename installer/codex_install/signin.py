"""The first sign-in (SPEC §10): the last step of ``codex-install``, ``codex-install login`` on
its own, and the launcher's offer when it finds no usable credentials.

Every branch ends in a ``SignInResult``; "not signed in" is a result, never an exception, so an
install still succeeds without credentials. Sign-in itself is always done by the installed
``codex login`` (which owns auth.json); afterwards auth.json is read back to verify it.

An API key only ever travels on codex's stdin: never on a command line, never printed — output
that codex prints is scrubbed of it before it is shown.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Mapping
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

_INTERACTIVE_HOW = "run `codex login` (`codex login --device-auth` on a machine without a browser)"
_CI_HOW = (
    "set OPENAI_API_KEY and run `codex-install login`, "
    "or pipe the key: printenv OPENAI_API_KEY | codex login --with-api-key"
)
HOW_TO_SIGN_IN = f"To sign in, {_INTERACTIVE_HOW}; for CI, {_CI_HOW}."
INSTRUCTIONS = "Codex is installed but not signed in. " + HOW_TO_SIGN_IN
_DEFAULT_POISON_REASON = "Your saved Codex sign-in no longer works."
_EMAIL_MAX, _PLAN_MAX, _DETAIL_MAX = 120, 40, 200

# fd 2 itself, not sys.stderr: a replaced sys.stderr (click's test runner, pytest) has no fd.
_STDERR_FD = 2

Runner = Callable[..., "subprocess.CompletedProcess[str]"]
Echo = Callable[[str], None]
ApiKey = tuple[str, str]  # (variable name, key)
# What to do when nobody is signed in: skip quietly, use the key, print how, or ask.
_Route = Literal["skip", "key", "instructions", "ask"]


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
        return _not_signed_in(route, poison)
    if poison is not None:
        flow.say(printable(poison))
    if route == "key" and key is not None:
        return _api_key_login(flow, key)
    return _offer_login(flow, key, poisoned=poison is not None)


def _not_signed_in(route: _Route, poison: str | None) -> SignInResult:
    """Nobody will sign in now: say why (the poison reason, if any) and how to do it later."""
    if route == "skip":
        if poison is not None:
            return SignInResult("poisoned", None, poison)
        return SignInResult("skipped", None, "Sign-in skipped. " + HOW_TO_SIGN_IN)
    if poison is not None:
        return SignInResult("poisoned", None, f"{poison} For CI, {_CI_HOW}.")
    return SignInResult("instructions", None, INSTRUCTIONS)


def _route(*, no_login: bool, forced: bool, interactive: bool, has_key: bool) -> _Route:
    """SPEC §6: --no-login, and CODEX_NON_INTERACTIVE=1 unless an API key is in the
    environment, skip; with nobody to ask, a key is used, else how to sign in is printed."""
    if no_login or (forced and not has_key):
        return "skip"
    if forced or not interactive:
        return "key" if has_key else "instructions"
    return "ask"


def _offer_login(flow: _Flow, key: ApiKey | None, *, poisoned: bool) -> SignInResult:
    choice = _ask(key, has_local_browser(flow.env, flow.platform), flow.prompt_in, flow.prompt_out)
    if choice == "key" and key is not None:
        return _api_key_login(flow, key)
    if choice == "no":
        return SignInResult(
            "poisoned" if poisoned else "declined", None, "Not signed in. " + HOW_TO_SIGN_IN
        )
    return _interactive_login(flow)


def _ask(
    key: ApiKey | None, browser: bool, prompt_in: TextIO, prompt_out: TextIO
) -> Literal["login", "key", "no"]:
    how = "opens your browser" if browser else "shows a code to enter in a browser elsewhere"
    options = "[Y/n]" if key is None else f"[Y/n, or k to use the API key in ${key[0]}]"
    prompt_out.write(f"Sign in to Codex with your ChatGPT account now ({how})? {options} ")
    prompt_out.flush()
    answer = prompt_in.readline()
    if not answer:  # EOF: nobody is there to answer after all
        prompt_out.write("\n")
        return "no"
    answer = answer.strip().lower()
    if answer in {"", "y", "yes"}:
        return "login"
    if answer in {"k", "key"} and key is not None:
        return "key"
    return "no"


def _api_key_login(flow: _Flow, key: ApiKey) -> SignInResult:
    name, secret = key
    flow.say(f"Signing in to Codex with the API key in ${name}…")
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
        return SignInResult("failed", None, _scrub(f"Could not run codex login: {e}", secret))
    if proc.returncode != 0:
        detail = printable(_last_line(proc.stderr) or _last_line(proc.stdout), _DETAIL_MAX)
        message = f"codex login --with-api-key failed (exit {proc.returncode})"
        return SignInResult(
            "failed", None, _scrub(f"{message}: {detail}" if detail else message, secret)
        )
    return _verify(flow, "api_key_login", expect_last4=secret[-4:], secret=secret)


def _interactive_login(flow: _Flow) -> SignInResult:
    argv = login_command(flow.codex, flow.env, flow.platform)
    try:
        # codex talks to the user on the terminal; its stdout goes to our stderr so that a
        # `--json` install keeps exactly one JSON object on stdout.
        proc = flow.run(argv, env=flow.child_env(), stdout=_STDERR_FD, check=False)
    except (OSError, subprocess.SubprocessError, ValueError) as e:
        return SignInResult("failed", None, f"Could not run codex login: {e}")
    if proc.returncode != 0:
        return SignInResult(
            "failed", None, f"`{' '.join(['codex', *argv[1:]])}` failed (exit {proc.returncode})."
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
        message = f"codex login finished but auth.json is unreadable: {e}"
        return SignInResult("failed", None, _scrub(message, secret))
    who = describe(state)
    if who is None or (expect_last4 is not None and state.api_key_last4 != expect_last4):
        return SignInResult(
            "failed",
            None,
            f"codex login finished but {flow.paths.auth_file} has no usable sign-in.",
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

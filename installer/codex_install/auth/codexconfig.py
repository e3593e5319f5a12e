"""What Codex's ``$CODEX_HOME/config.toml`` (and ``-c key=value`` on its command line) says about
sign-in: ``forced_login_method``, ``forced_chatgpt_workspace_id`` and ``chatgpt_base_url``
(Codex 0.171.0's ``Config``, read as it reads them: top-level keys only, a ``-c`` value parsed
as TOML else taken as a literal string, the last one winning).

A value Codex would refuse (``forced_login_method = "CHATGPT"``, a workspace id that is a
number) is left unset here, with a note saying so: Codex's app-server answers as if it were
unset too (measured), and `codex` itself reports the broken config when it starts.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from codex_install.auth.credstore import CONFIG_FILE, RESTRICTION_KEYS, config_overrides
from codex_install.auth.quick import CONFIG_CAP
from codex_install.fs import UnreadableFileError, read_regular

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

LOGIN_METHOD_KEY, WORKSPACE_KEY = RESTRICTION_KEYS
BASE_URL_KEY = "chatgpt_base_url"
LOGIN_METHODS = ("chatgpt", "api")
# The auth modes that are a ChatGPT sign-in (Codex's AuthMode::has_chatgpt_account).
CHATGPT_MODES = frozenset({"chatgpt", "chatgptAuthTokens"})
DEFAULT_CHATGPT_BASE_URL = "https://chatgpt.com/backend-api/"
_KEYS = (LOGIN_METHOD_KEY, WORKSPACE_KEY, BASE_URL_KEY)


@dataclass(frozen=True)
class CodexConfig:
    forced_login_method: str | None = None  # "chatgpt" or "api"
    forced_workspace_ids: tuple[str, ...] = ()  # empty: any workspace
    chatgpt_base_url: str = DEFAULT_CHATGPT_BASE_URL
    notes: tuple[str, ...] = ()  # why a value was left unset, one line each


def read_codex_config(codex_home: Path, args: Sequence[str] = ()) -> CodexConfig:
    """config.toml (a missing, unreadable or malformed one is Codex's defaults, with a note),
    then the ``-c`` overrides in ``args``."""
    values: dict[str, object] = {}
    notes: list[str] = []
    path = codex_home / CONFIG_FILE
    try:
        raw = read_regular(path, CONFIG_CAP, what="config file")
        document = tomllib.loads(raw.decode("utf-8")) if raw is not None else {}
    except (UnreadableFileError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as e:
        notes.append(f"{path} ignored: {_first_line(e)}")
        document = {}
    values.update({key: document[key] for key in _KEYS if key in document})
    values.update(_overrides(args))
    return config_from(values, notes)


def config_from(values: Mapping[str, object], notes: Sequence[str] = ()) -> CodexConfig:
    """Pure: the settings of a parsed TOML document's top level."""
    said = list(notes)
    method = _login_method(values.get(LOGIN_METHOD_KEY), said)
    ids = _workspace_ids(values.get(WORKSPACE_KEY), said)
    base = _base_url(values.get(BASE_URL_KEY), said)
    return CodexConfig(
        forced_login_method=method,
        forced_workspace_ids=ids,
        chatgpt_base_url=base or DEFAULT_CHATGPT_BASE_URL,
        notes=tuple(said),
    )


def _login_method(method: object, said: list[str]) -> str | None:
    if method is not None and method not in LOGIN_METHODS:
        said.append(f"{LOGIN_METHOD_KEY} = {method!r} is not one Codex takes; ignored")
        return None
    return method if isinstance(method, str) else None


def _workspace_ids(workspaces: object, said: list[str]) -> tuple[str, ...]:
    if isinstance(workspaces, str):
        return (workspaces,) if workspaces else ()
    if isinstance(workspaces, list) and all(isinstance(w, str) for w in workspaces):
        return tuple(w for w in workspaces if w)
    if workspaces is not None:
        said.append(f"{WORKSPACE_KEY} is neither a string nor a list of strings; ignored")
    return ()


def _base_url(base: object, said: list[str]) -> str | None:
    if base is not None and not isinstance(base, str):
        said.append(f"{BASE_URL_KEY} is not a string; ignored")
        return None
    return base


def _overrides(args: Sequence[str]) -> dict[str, object]:
    """Codex's ``-c key=value`` for our keys, in order (the last one wins); a value that is not
    TOML is the literal string, as Codex takes it."""
    found: dict[str, object] = {}
    for key in _KEYS:
        for raw in config_overrides(args, key):
            try:
                found[key] = tomllib.loads(f"v = {raw}")["v"]
            except (tomllib.TOMLDecodeError, RecursionError):
                found[key] = raw.strip()
    return found


def _first_line(err: BaseException) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def restriction(config: CodexConfig, mode: str, account_id: str | None) -> str | None:
    """Pure: why these credentials are not allowed by the config (one line), or None. Codex
    0.171.0 answers such credentials as signed out everywhere (measured): API-key modes under
    ``forced_login_method = "chatgpt"``, ChatGPT ones under ``"api"``, and a ChatGPT account
    (auth.json's ``tokens.account_id``) that is none of the forced workspaces."""
    chatgpt = mode in CHATGPT_MODES
    if config.forced_login_method == "chatgpt" and not chatgpt:
        return (
            f'API key login is disabled by {LOGIN_METHOD_KEY} = "chatgpt" in config.toml; '
            "sign in with ChatGPT"
        )
    if config.forced_login_method == "api" and chatgpt:
        return (
            f'ChatGPT login is disabled by {LOGIN_METHOD_KEY} = "api" in config.toml; '
            "sign in with an API key"
        )
    if chatgpt and config.forced_workspace_ids and account_id not in config.forced_workspace_ids:
        allowed = ", ".join(config.forced_workspace_ids)
        return (
            f"login is restricted to workspace(s) {allowed} by {WORKSPACE_KEY} in config.toml, "
            f"and auth.json is signed in to {account_id or 'no workspace'}; sign in again"
        )
    return None

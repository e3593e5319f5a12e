"""npm registry discovery for ``@openai/codex`` (SPEC §4): a pure function of
(``--npm-registry``, environment, project and user ``.npmrc`` texts, ``npm config get`` output) —
:func:`discover` — behind a thin I/O edge (:func:`read_npmrc_files`, :func:`run_npm`).

Precedence, as npm applies it to a scoped package: the flag; then ``@openai:registry`` from the
environment, the project ``.npmrc`` or the user ``.npmrc``; then ``registry`` from the same
places; then ``npm config get`` (which also sees the global npmrc and npm's built-in default).
The credentials for the chosen registry come from ``//host/path/:_authToken`` (or ``:_auth``)
keys, matched the way npm-registry-fetch walks up the registry's path.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from codex_install.errors import UsageError, hold_secret
from codex_install.fs import UnreadableFileError, read_regular
from codex_install.http.client import WEB_SCHEMES, url_problem, with_scheme

PACKAGE = "@openai/codex"
SCOPE = "@openai"
# npm-package-arg's escapedName: the scope's slash is encoded, lower-case, as npm requests it.
ESCAPED_NAME = "@openai%2fcodex"
SCOPED_KEY = f"{SCOPE}:registry"

NpmRunner = Callable[[Sequence[str], Mapping[str, str], Path, float], str | None]


@dataclass(frozen=True)
class Registry:
    """The registry to use, where that choice came from, and its credentials (never shown)."""

    url: str  # always ends with "/"
    origin: str  # e.g. "--npm-registry", "registry in the user .npmrc"
    authorization: str | None = field(default=None, repr=False)
    # How npm would reach this registry: its TLS and proxy settings (see network_for).
    network: NpmNetwork = field(default_factory=lambda: NpmNetwork())

    @property
    def packument_url(self) -> str:
        return self.url + ESCAPED_NAME

    @property
    def display(self) -> str:
        """The URL for messages: a ``user:password@`` in it is credentials, so it is dropped."""
        parts = urlsplit(self.url)
        return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


@dataclass(frozen=True)
class Layer:
    """One npm configuration source, highest precedence first in a list of layers."""

    name: str
    values: Mapping[str, str]
    path: Path | None = None  # the file, for messages about a setting in it

    @property
    def where(self) -> str:
        return f"{self.name} ({self.path})" if self.path is not None else self.name


_ENV_REF = re.compile(r"(?<!\\)(\\*)\$\{([^${}?]+)(\?)?\}")


def expand_env(text: str, env: Mapping[str, str], *, secret: bool = False) -> str:
    """``${VAR}`` as npm expands it: unset stays literal, ``${VAR?}`` becomes empty, and an odd
    number of backslashes before ``$`` escapes the reference. ``secret``: each value put in
    is one no output may show (a registry URL or credential): messages show the ``${VAR}``
    text instead (errors.hold_secret)."""

    def replace(m: re.Match[str]) -> str:
        escapes, name, optional = m.group(1), m.group(2), m.group(3)
        if len(escapes) % 2:
            return m.group(0)[(len(escapes) + 1) // 2 :]
        fallback = "" if optional else "${" + name + "}"
        value = env.get(name, fallback)
        if secret:
            hold_secret(value, m.group(0)[len(escapes) :])  # shown as the ${VAR} it came from
        return escapes[: len(escapes) // 2] + value

    return _ENV_REF.sub(replace, text)


def _ini_value(raw: str) -> str:
    """A value as the ``ini`` package reads it: quoted verbatim, else cut at ``;``/``#``."""
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return _quoted(raw)
    out: list[str] = []
    escaped = False
    for ch in raw:
        if escaped:
            out.append(ch if ch in "\\;#" else "\\" + ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in ";#":
            break
        else:
            out.append(ch)
    if escaped:
        out.append("\\")
    return "".join(out).strip()


def _quoted(raw: str) -> str:
    """A quoted ini value: JSON rules for double quotes (when they parse), verbatim otherwise."""
    if raw[0] == '"':
        try:
            value = json.loads(raw)
        except ValueError:
            return raw[1:-1]
        return value if isinstance(value, str) else raw[1:-1]
    return raw[1:-1]


# The ``key[]=`` arrays npm reads for settings we apply, and how their items join into one value
# (a PEM bundle; npm's comma list).
_ARRAYS = {"ca": "\n", "noproxy": ","}


def parse_npmrc(text: str, env: Mapping[str, str]) -> dict[str, str]:
    """Top-level ``key=value`` pairs of an ``.npmrc``, keys and values ``${VAR}``-expanded.

    Comment lines and ``[section]`` contents are skipped, and so are ``key[]`` arrays but for
    ``ca[]`` and ``noproxy[]`` (joined into one value); a later duplicate wins, as in npm.
    """
    values: dict[str, str] = {}
    arrays: set[str] = set()
    in_section = False
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped[0] in ";#":
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            in_section = True
            continue
        if in_section:
            continue
        key, sep, raw = stripped.partition("=")
        key = expand_env(_ini_value(key), env)
        value = expand_env(_ini_value(raw), env, secret=_holds_secret(key)) if sep else "true"
        _assign(values, arrays, key, value)
    return values


_SECRET_KEYS = ("registry", "_authtoken", "_auth", "_password", "username", "proxy")


def _holds_secret(key: str) -> bool:
    """Keys whose ``${VAR}`` values are credentials or carry them (a token in a registry URL's
    path, a proxy's password): never shown."""
    return key.lower().endswith(_SECRET_KEYS)


def _assign(values: dict[str, str], arrays: set[str], key: str, value: str) -> None:
    if key.endswith("[]") and key[:-2] in _ARRAYS:
        key = key[:-2]
        # As the ini package builds it: an item after a plain value starts a new list.
        joined = values.get(key) if key in arrays else None
        values[key] = value if joined is None else joined + _ARRAYS[key] + value
        arrays.add(key)
    elif key and not key.endswith("[]"):
        values[key] = value
        arrays.discard(key)


def env_layer(env: Mapping[str, str]) -> dict[str, str]:
    """``npm_config_*`` variables as npm maps them: case-insensitive prefix, inner ``_`` → ``-``,
    lower-cased key, empty values ignored. The lower-case spelling (what npm itself exports to
    scripts) wins over the upper-case one."""
    values: dict[str, str] = {}
    for name in sorted(env, key=lambda n: n.startswith("npm_config_")):
        if name.lower().startswith("npm_config_") and env[name] != "":
            rest = name[len("npm_config_") :]
            key = (rest[:1] + rest[1:].replace("_", "-")).lower()
            values[key] = env[name]
    return values


def parse_npm_config_output(text: str | None) -> dict[str, str]:
    """Output of ``npm config get registry @openai:registry``: ``key=value`` lines (npm ≥ 7),
    or just the value for one key (older npm). ``undefined`` means unset."""
    values: dict[str, str] = {}
    for line in (text or "").splitlines():
        line = line.strip()
        key, sep, value = line.partition("=")
        if sep and key in ("registry", SCOPED_KEY):
            pair = (key, value.strip())
        elif line.startswith(("http://", "https://")):
            pair = ("registry", line)
        else:
            continue
        if pair[1] and pair[1] != "undefined":
            values.setdefault(*pair)
    return values


def normalize_registry(url: str, origin: str) -> str:
    """The registry URL ending in "/"; a UsageError (exit 2) naming it when it is no usable
    http(s) URL."""
    text = url.strip()
    problem = url_problem(text, WEB_SCHEMES)
    if problem is not None:
        raise UsageError(f"npm registry {url!r} (from {origin}) is not an http(s) URL: {problem}")
    return text if text.endswith("/") else text + "/"


def _auth_key_prefixes(registry_url: str) -> list[str]:
    """``//host/a/b/`` → ``//host/a/b/``, ``//host/a/b``, ``//host/a/``, … ``//host/`` — the
    keys npm-registry-fetch tries, most specific first."""
    parts = urlsplit(registry_url)
    key = f"//{parts.netloc.rpartition('@')[2]}{parts.path or '/'}"
    keys: list[str] = []
    while len(key) > len("//"):
        keys.append(key)
        key = re.sub(r"([^/]+|/)$", "", key)
    return keys


def authorization_for(registry_url: str, layers: Sequence[Layer]) -> str | None:
    """The ``Authorization`` header npm would send to ``registry_url``, if any: for the most
    specific ``//host/path/:`` prefix that has credentials, ``_authToken`` (bearer), else
    ``_auth`` (base64 ``user:password``), else ``username`` + ``_password`` (base64)."""
    merged: dict[str, _Setting] = {}
    for layer in reversed(layers):  # higher-precedence layers override
        merged.update({k.lower(): (v, layer.name) for k, v in layer.values.items()})
    for prefix in _auth_key_prefixes(registry_url):
        found = _credentials(merged, prefix.lower())
        if found:
            return found
    return None


_Setting = tuple[str, str]  # (value, the layer it comes from)


def _credentials(values: Mapping[str, _Setting], prefix: str) -> str | None:
    token = _secret(values, prefix, "_authToken")
    if token:
        return f"Bearer {token[0]}"
    basic = _secret(values, prefix, "_auth")
    if basic:
        return f"Basic {basic[0]}"
    username = values.get(f"{prefix}:username", ("", ""))[0]
    password = _secret(values, prefix, "_password")
    if username and password:
        try:
            # .npmrc holds the password base64-encoded; the header encodes user:password.
            plain = base64.b64decode(password[0], validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError) as err:
            raise UsageError(
                f"the {prefix}:_password in {password[1]} is not base64 (npm stores it encoded)"
            ) from err
        pair = base64.b64encode(f"{username}:{plain}".encode()).decode("ascii")
        return f"Basic {pair}"
    return None


def _secret(values: Mapping[str, _Setting], prefix: str, name: str) -> _Setting | None:
    """The credential setting ``prefix:name``, if set; one that cannot travel in an HTTP header
    is a UsageError naming the setting and where it is, never echoing it."""
    found = values.get(f"{prefix}:{name.lower()}")
    if not found or not found[0]:
        return None
    if all(" " <= c <= "~" for c in found[0]):
        return found
    raise UsageError(
        f"the {prefix}:{name} in {found[1]} is not a valid credential: it holds a line break, "
        "a control character or a character that is not ASCII",
        hint=f"set {name} to the credential alone",
    )


# --- npm's network settings for the registry (pure) ---


@dataclass(frozen=True)
class Setting:
    """One npm setting as found: its key as written, its value and where it came from."""

    key: str
    value: str = field(repr=False)  # a proxy URL may carry credentials
    where: str


@dataclass(frozen=True)
class NpmNetwork:
    """How npm would reach one registry: the CAs it trusts instead of the defaults (``cafile``
    beats ``ca``; a registry-scoped one beats a global one), whether it verifies at all
    (``strict-ssl``), its client certificate and the proxy it would use (None: direct)."""

    cafile: Setting | None = None
    ca: Setting | None = None
    unverified: Setting | None = None  # strict-ssl=false
    certfile: Setting | None = None
    keyfile: Setting | None = None
    proxy: Setting | None = None


def _merged(layers: Sequence[Layer]) -> dict[str, Setting]:
    merged: dict[str, Setting] = {}
    for layer in reversed(layers):  # higher-precedence layers override
        merged.update({k.lower(): Setting(k, v, layer.where) for k, v in layer.values.items()})
    return merged


def _first(merged: Mapping[str, Setting], keys: Sequence[str]) -> Setting | None:
    for key in keys:
        found = merged.get(key)
        if found is not None and found.value:
            return found
    return None


def network_for(registry_url: str, layers: Sequence[Layer], env: Mapping[str, str]) -> NpmNetwork:
    """The network settings npm applies to ``registry_url``, from the config ``layers`` and the
    environment's proxy variables (npm's own precedence: see :func:`npm_proxy`)."""
    merged = _merged(layers)
    scoped = [p.lower() for p in _auth_key_prefixes(registry_url)]
    trust = _first(merged, [f"{p}:{k}" for p in scoped for k in ("cafile", "ca")])
    trust = trust or _first(merged, ["cafile", "ca"])
    is_cafile = trust is not None and trust.key.lower().endswith("cafile")
    strict = merged.get("strict-ssl")
    return NpmNetwork(
        cafile=trust if is_cafile else None,
        ca=None if is_cafile else trust,
        unverified=strict if strict is not None and strict.value.lower() == "false" else None,
        certfile=_scoped_or_global(merged, scoped, "certfile"),
        keyfile=_scoped_or_global(merged, scoped, "keyfile"),
        proxy=npm_proxy(registry_url, merged, env),
    )


def _scoped_or_global(
    merged: Mapping[str, Setting], scoped: Sequence[str], key: str
) -> Setting | None:
    return _first(merged, [f"{p}:{key}" for p in scoped]) or _first(merged, [key])


def npm_proxy(url: str, config: Mapping[str, Setting], env: Mapping[str, str]) -> Setting | None:
    """The proxy npm uses for ``url`` (npm-registry-fetch, @npmcli/agent): ``https-proxy``,
    else ``proxy``, for either scheme; without them the environment's ``HTTPS_PROXY`` for an
    https URL, ``HTTPS_PROXY``/``HTTP_PROXY``/``PROXY`` for an http one. None when nothing is
    set or ``noproxy`` (else ``NO_PROXY``) matches the host."""
    given = _first(config, ["https-proxy", "proxy"])
    if given is not None and given.value.lower() in ("false", "null"):
        given = None  # npm's explicit "no proxy": the environment's stands
    found = given or _environment_proxy(urlsplit(url).scheme, env)
    no_proxy = _first(config, ["noproxy"])
    exempt = no_proxy.value if no_proxy is not None else _env_value(env, "no_proxy")[1]
    if found is None or npm_no_proxy(urlsplit(url).hostname or "", exempt or ""):
        return None
    return found


def _environment_proxy(scheme: str, env: Mapping[str, str]) -> Setting | None:
    names = ("https_proxy",) if scheme == "https" else ("https_proxy", "http_proxy", "proxy")
    for name in names:
        spelled, value = _env_value(env, name)
        if value:  # host:port is an http:// proxy, as for every other tool reading it
            return Setting(spelled, with_scheme(value), f"the environment ({spelled})")
    return None


def _env_value(env: Mapping[str, str], name: str) -> tuple[str, str | None]:
    """A variable npm reads case-insensitively (the lower-case spelling first)."""
    for spelled in sorted((k for k in env if k.lower() == name), reverse=True):
        if env[spelled]:
            return spelled, env[spelled]
    return name, None


def npm_no_proxy(host: str, no_proxy: str) -> bool:
    """@npmcli/agent's match: an entry's dot-separated labels are the host's last labels
    (``corp.example`` and ``.corp.example`` both exempt ``npm.corp.example``); no ports."""
    labels = host.lower().split(".")[::-1]
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        wanted = [p for p in entry.split(".") if p][::-1]
        if wanted and labels[: len(wanted)] == wanted:
            return True
    return False


def discover(
    flag: str | None,
    env: Mapping[str, str],
    project_npmrc: str | None,
    user_npmrc: str | None,
    npm_output: str | None,
    *,
    paths: tuple[Path | None, Path | None] = (None, None),
) -> Registry | None:
    """The registry for ``@openai/codex`` and its credentials; None when nothing is configured.

    The flag is an explicit choice for this tool and beats everything; otherwise a scoped
    ``@openai:registry`` in any layer beats a plain ``registry`` in any layer, as in npm.
    ``paths`` (the project and user .npmrc files) name where a setting is in messages.
    """
    layers = [
        Layer("the environment", env_layer(env)),
        Layer("the project .npmrc", parse_npmrc(project_npmrc or "", env), paths[0]),
        Layer("the user .npmrc", parse_npmrc(user_npmrc or "", env), paths[1]),
        Layer("`npm config get`", parse_npm_config_output(npm_output)),
    ]
    chosen: tuple[str, str] | None = (flag, "--npm-registry") if flag else None
    for key in (SCOPED_KEY, "registry"):
        for layer in layers:
            if chosen is None and layer.values.get(key):
                chosen = (layer.values[key], f"{key} in {layer.name}")
    if chosen is None:
        return None
    url = normalize_registry(*chosen)
    return Registry(
        url=url,
        origin=chosen[1],
        authorization=authorization_for(url, layers),
        network=network_for(url, layers, env),
    )


# --- I/O edge ---


def run_npm(argv: Sequence[str], env: Mapping[str, str], cwd: Path, timeout: float) -> str | None:
    """stdout of an npm command, or None when it fails or hangs (npm is only a hint here)."""
    try:
        proc = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def project_dir(cwd: Path) -> Path:
    """npm's local prefix: the nearest directory up from ``cwd`` with a package.json or
    node_modules, else ``cwd`` itself."""
    for candidate in (cwd, *cwd.parents):
        try:
            if (candidate / "package.json").is_file() or (candidate / "node_modules").is_dir():
                return candidate
        except OSError:  # an unreadable parent ends the walk, as it would for npm
            break
    return cwd


def user_npmrc_path(env: Mapping[str, str]) -> Path:
    for name in ("npm_config_userconfig", "NPM_CONFIG_USERCONFIG"):
        if env.get(name):
            return Path(env[name]).expanduser()
    return Path(env.get("HOME") or Path.home()) / ".npmrc"


NPMRC_CAP = 1 << 20  # an .npmrc is a few lines; a bigger one is a mistake or an attack


def _read(path: Path) -> str | None:
    """The text of one .npmrc (None when there is none): a regular file read without blocking
    and never past NPMRC_CAP, else one line (exit 2) — a FIFO or a symlink to /dev/zero in a
    checkout must neither hang nor exhaust an install."""
    try:
        data = read_regular(path, NPMRC_CAP, what=".npmrc")
    except UnreadableFileError as err:
        raise UsageError(err.message, hint="fix or remove it, or pass --npm-registry") from err
    return None if data is None else data.decode("utf-8", errors="replace")


def npmrc_present(path: Path | None) -> bool:
    """Whether there is something at ``path`` (looked at, never opened)."""
    return path is not None and os.path.lexists(path)


def npmrc_locations(env: Mapping[str, str], cwd: Path | None) -> tuple[Path | None, Path]:
    """(project .npmrc, user .npmrc); no project one when it *is* the user one (a project at
    $HOME), as npm does, or when there is no working directory."""
    user = user_npmrc_path(env)
    if cwd is None:
        return None, user
    project = project_dir(cwd) / ".npmrc"
    try:
        same = project.resolve() == user.resolve()
    except (OSError, RuntimeError):  # symlink loops
        same = False
    return (None if same else project), user


def read_npmrc_files(env: Mapping[str, str], cwd: Path | None) -> tuple[str | None, str | None]:
    """(project .npmrc text, user .npmrc text), each None when absent (see npmrc_locations);
    read only once the npm source is used (registry.py)."""
    project, user = npmrc_locations(env, cwd)
    return (_read(project) if project is not None else None), _read(user)


def working_dir() -> Path | None:
    try:
        return Path(os.getcwd())
    except OSError:  # the directory was deleted under us
        return None

"""The npm source (SPEC §4): the per-platform versions of ``@openai/codex`` on the registry npm
itself is configured with.

Two halves:

* **Registry discovery**, a pure function of (``--npm-registry``, environment, project and user
  ``.npmrc`` texts, ``npm config get`` output) — :func:`discover` — behind a thin I/O edge
  (:func:`read_npmrc_files`, :func:`run_npm`). Precedence, as npm applies it to a scoped
  package: the flag; then ``@openai:registry`` from the environment, the project ``.npmrc`` or
  the user ``.npmrc``; then ``registry`` from the same places; then ``npm config get`` (which
  also sees the global npmrc and npm's built-in default). The credentials for the chosen
  registry come from ``//host/path/:_authToken`` (or ``:_auth``) keys, matched the way
  npm-registry-fetch walks up the registry's path.
* **Resolution**: the abbreviated packument → ``dist-tags.latest`` (or the pinned version) → the
  platform version ``<ver>-<npm-platform>`` → a :class:`Selection` of its tarball, verified by
  ``dist.integrity`` (:func:`select_from_packument` is pure).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urljoin, urlsplit

from codex_install.errors import (
    NetworkError,
    NotFoundError,
    UsageError,
    VerificationError,
)
from codex_install.models import Asset, Selection
from codex_install.netpolicy import (
    RETRYABLE_HTTP_STATUS,
    TLS_HINT,
    RetryPolicy,
    parse_retry_after,
    tls_verification_failed,
)
from codex_install.platforms import NPM_PLATFORMS
from codex_install.versions import VersionSpec, parse_version

if TYPE_CHECKING:
    import httpx

PACKAGE = "@openai/codex"
SCOPE = "@openai"
# npm-package-arg's escapedName: the scope's slash is encoded, lower-case, as npm requests it.
ESCAPED_NAME = "@openai%2fcodex"
# What npm sends for installs: the abbreviated ("corgi") document, full JSON as a fallback.
ACCEPT = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"
NPM_TIMEOUT = 10.0
PACKUMENT_LIMIT = 64 << 20
SCOPED_KEY = f"{SCOPE}:registry"

# The npm platform packages carry one build per platform; for Linux it is the static musl one.
VENDOR_TARGETS: dict[str, str] = {
    "darwin-arm64": "aarch64-apple-darwin",
    "darwin-x64": "x86_64-apple-darwin",
    "linux-arm64": "aarch64-unknown-linux-musl",
    "linux-x64": "x86_64-unknown-linux-musl",
}

Notice = Callable[[str], None]
NpmRunner = Callable[[Sequence[str], Mapping[str, str], Path, float], str | None]
Which = Callable[[str, str | None], str | None]
Resolver = Callable[[VersionSpec, str], Selection]


# --------------------------------------------------------------------------------------------
# Registry discovery (pure)


@dataclass(frozen=True)
class Registry:
    """The registry to use, where that choice came from, and its credentials (never shown)."""

    url: str  # always ends with "/"
    origin: str  # e.g. "--npm-registry", "registry in the user .npmrc"
    authorization: str | None = field(default=None, repr=False)

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


_ENV_REF = re.compile(r"(?<!\\)(\\*)\$\{([^${}?]+)(\?)?\}")


def expand_env(text: str, env: Mapping[str, str]) -> str:
    """``${VAR}`` as npm expands it: unset stays literal, ``${VAR?}`` becomes empty, and an odd
    number of backslashes before ``$`` escapes the reference."""

    def replace(m: re.Match[str]) -> str:
        escapes, name, optional = m.group(1), m.group(2), m.group(3)
        if len(escapes) % 2:
            return m.group(0)[(len(escapes) + 1) // 2 :]
        fallback = "" if optional else "${" + name + "}"
        return escapes[: len(escapes) // 2] + env.get(name, fallback)

    return _ENV_REF.sub(replace, text)


def _ini_value(raw: str) -> str:
    """A value as the ``ini`` package reads it: quoted verbatim, else cut at ``;``/``#``."""
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        if raw[0] == '"':
            try:
                value = json.loads(raw)
            except ValueError:
                return raw[1:-1]
            return value if isinstance(value, str) else raw[1:-1]
        return raw[1:-1]
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


def parse_npmrc(text: str, env: Mapping[str, str]) -> dict[str, str]:
    """Top-level ``key=value`` pairs of an ``.npmrc``, keys and values ``${VAR}``-expanded.

    Comment lines, ``[section]`` contents and ``key[]`` arrays are not registry settings and
    are skipped; a later duplicate wins, as in npm.
    """
    values: dict[str, str] = {}
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
        key = _ini_value(key)
        if not key or key.endswith("[]"):
            continue
        values[expand_env(key, env)] = expand_env(_ini_value(raw), env) if sep else "true"
    return values


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
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"npm registry {url!r} (from {origin}) is not an http(s) URL")
    return url.strip() if url.strip().endswith("/") else url.strip() + "/"


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
    """The ``Authorization`` header npm would send to ``registry_url``, if any."""
    merged: dict[str, str] = {}
    for layer in reversed(layers):  # higher-precedence layers override
        merged.update(layer.values)
    lowered = {k.lower(): v for k, v in merged.items()}
    for prefix in _auth_key_prefixes(registry_url):
        token = lowered.get(f"{prefix}:_authtoken".lower())
        if token:
            return f"Bearer {token}"
        basic = lowered.get(f"{prefix}:_auth".lower())
        if basic:
            return f"Basic {basic}"
    return None


def discover(
    flag: str | None,
    env: Mapping[str, str],
    project_npmrc: str | None,
    user_npmrc: str | None,
    npm_output: str | None,
) -> Registry | None:
    """The registry for ``@openai/codex`` and its credentials; None when nothing is configured.

    The flag is an explicit choice for this tool and beats everything; otherwise a scoped
    ``@openai:registry`` in any layer beats a plain ``registry`` in any layer, as in npm.
    """
    layers = [
        Layer("the environment", env_layer(env)),
        Layer("the project .npmrc", parse_npmrc(project_npmrc or "", env)),
        Layer("the user .npmrc", parse_npmrc(user_npmrc or "", env)),
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
    return Registry(url=url, origin=chosen[1], authorization=authorization_for(url, layers))


# --------------------------------------------------------------------------------------------
# Packument → Selection (pure)


def vendor_target(target: str) -> tuple[str, str]:
    """(npm platform, the target triple its tarball holds under ``package/vendor/``)."""
    platform = NPM_PLATFORMS.get(target)
    if platform is None or VENDOR_TARGETS.get(platform) != target:
        holds = f" (the {platform} package holds {VENDOR_TARGETS[platform]})" if platform else ""
        raise NotFoundError(
            f"{PACKAGE} on npm has no build for {target}{holds}",
            hint="use another --target or --source github",
        )
    return platform, target


def _malformed(registry: Registry, what: str) -> NetworkError:
    return NetworkError(f"malformed {PACKAGE} metadata from {registry.display}: {what}")


def parse_integrity(sri: str, registry: Registry, version: str) -> str | None:
    """The one SRI hash to check: the sha512 one, else sha1; None when the string has neither.
    An SRI string may list several hashes separated by spaces."""
    found: dict[str, str] = {}
    for token in sri.split():
        algo, _, b64 = token.partition("-")
        b64 = b64.split("?", 1)[0]  # SRI options
        size = {"sha512": 64, "sha1": 20}.get(algo.lower())
        if size is None:
            continue
        try:
            raw = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError) as err:
            raise _malformed(registry, f"{version}: bad integrity {token[:20]}…") from err
        if len(raw) != size:
            raise _malformed(registry, f"{version}: bad {algo} integrity length")
        found.setdefault(algo.lower(), f"{algo.lower()}-{b64}")
    return found.get("sha512") or found.get("sha1")


@dataclass(frozen=True)
class NpmChoice:
    selection: Selection
    notices: tuple[str, ...] = ()


def select_from_packument(
    data: Any, spec: VersionSpec, target: str, registry: Registry
) -> NpmChoice:
    """Pick the platform version's tarball from a packument (abbreviated or full)."""
    platform, vendor = vendor_target(target)
    if not isinstance(data, dict):
        raise _malformed(registry, "not a JSON object")
    versions = data.get("versions")
    if not isinstance(versions, dict):
        raise _malformed(registry, "no versions object")
    version = spec.version
    if version is None:
        tags = data.get("dist-tags")
        latest = tags.get("latest") if isinstance(tags, dict) else None
        if not isinstance(latest, str):
            raise _malformed(registry, "no dist-tags.latest")
        try:
            version = parse_version(latest).version
        except UsageError as err:
            raise _malformed(registry, f"dist-tags.latest is {latest[:40]!r}") from err
        if version is None:
            raise _malformed(registry, f"dist-tags.latest is {latest[:40]!r}")
    wanted = f"{version}-{platform}"
    entry = versions.get(wanted)
    if entry is None:
        base = "" if version in versions else f"; codex {version} is not published there at all"
        raise NotFoundError(f"{PACKAGE}@{wanted} not found on {registry.display}{base}")
    dist = entry.get("dist") if isinstance(entry, dict) else None
    if not isinstance(dist, dict):
        raise _malformed(registry, f"{wanted} has no dist object")
    tarball = dist.get("tarball")
    if not isinstance(tarball, str) or not tarball:
        raise _malformed(registry, f"{wanted} has no dist.tarball")
    url = urljoin(registry.url, tarball)
    if urlsplit(url).scheme not in ("http", "https"):
        raise _malformed(registry, f"{wanted} dist.tarball is not an http(s) URL")
    integrity, notices = _integrity(dist, registry, wanted)
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    if not name.endswith(".tgz") or "/" in name:
        name = f"codex-{wanted}.tgz"
    selection = Selection(
        version=version,
        target=target,
        layout="package",
        # dist.unpackedSize is the unpacked size; a packument gives no tarball size to check.
        archive=Asset(name=name, url=url, size=None),
        integrity=integrity,
        npm_subdir=f"package/vendor/{vendor}/",
        source="npm",
        extra={"npm_spec": f"{PACKAGE}@{wanted}", "registry": registry.display},
    )
    return NpmChoice(selection, notices)


def _integrity(
    dist: dict[str, Any], registry: Registry, wanted: str
) -> tuple[str, tuple[str, ...]]:
    sri = dist.get("integrity")
    if isinstance(sri, str) and sri.strip():
        chosen = parse_integrity(sri, registry, wanted)
        if chosen is None:
            raise VerificationError(
                f"{PACKAGE}@{wanted}: dist.integrity uses no supported hash (sha512, sha1)"
            )
        notices = () if chosen.startswith("sha512-") else (_sha1_notice(wanted),)
        return chosen, notices
    shasum = dist.get("shasum")
    if isinstance(shasum, str) and re.fullmatch(r"[0-9a-fA-F]{40}", shasum):
        b64 = base64.b64encode(bytes.fromhex(shasum)).decode()
        return f"sha1-{b64}", (_sha1_notice(wanted),)
    raise VerificationError(
        f"{PACKAGE}@{wanted} publishes no dist.integrity or shasum; refusing to install "
        "unverified bytes"
    )


def _sha1_notice(wanted: str) -> str:
    return (
        f"note: {PACKAGE}@{wanted} has no sha512 dist.integrity; verifying the tarball with its "
        "sha1 shasum (weaker)"
    )


# --------------------------------------------------------------------------------------------
# I/O edge


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


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def read_npmrc_files(
    env: Mapping[str, str], cwd: Path | None
) -> tuple[str | None, str | None]:
    """(project .npmrc text, user .npmrc text); the project one is skipped when it *is* the
    user one (a project at $HOME), as npm does, or when there is no working directory."""
    user = user_npmrc_path(env)
    if cwd is None:
        return None, _read(user)
    project = project_dir(cwd) / ".npmrc"
    try:
        same = project.resolve() == user.resolve()
    except (OSError, RuntimeError):  # symlink loops
        same = False
    return (None if same else _read(project)), _read(user)


def _working_dir() -> Path | None:
    try:
        return Path(os.getcwd())
    except OSError:  # the directory was deleted under us
        return None


def resolver_factory(
    env: Mapping[str, str],
    registry_flag: str | None,
    *,
    notice: Notice = lambda _msg: None,
    cwd: Path | None = None,
    runner: NpmRunner = run_npm,
    which: Which = lambda name, path: shutil.which(name, path=path),
    policy: RetryPolicy = RetryPolicy(attempts=4),
    sleep: Callable[[float], None] = time.sleep,
) -> Callable[[httpx.Client], Resolver] | None:
    """None when no registry is configured; else ``make(client) -> resolver(spec, target)``.

    ``npm config get`` costs a Node start (~0.3 s), so it only runs when the npm source is
    actually used (``--source npm`` or a fallback), never on an ordinary GitHub install.
    """
    here = cwd or _working_dir()
    project, user = read_npmrc_files(env, here)
    problem: UsageError | None = None
    try:
        static = discover(registry_flag, env, project, user, None)
    except UsageError as err:
        # A bad registry setting must not break GitHub installs; it is reported if npm is used.
        static, problem = None, err
    npm = None if static is not None or problem else which("npm", env.get("PATH"))
    if static is None and problem is None and npm is None:
        return None

    def registry() -> Registry:
        if problem is not None:
            raise problem
        if static is not None:
            return static
        assert npm is not None
        argv = [npm, "config", "get", "registry", SCOPED_KEY]
        output = runner(argv, env, here or Path(env.get("HOME") or "/"), NPM_TIMEOUT)
        found = discover(registry_flag, env, project, user, output)
        if found is None:
            raise UsageError(
                "no npm registry is configured and `npm config get registry` gave none",
                hint="pass --npm-registry URL",
            )
        return found

    def make(client: httpx.Client) -> Resolver:
        def resolve(spec: VersionSpec, target: str) -> Selection:
            vendor_target(target)  # refuse an impossible target before any request
            reg = registry()
            _authorize(client, reg)
            data = fetch_packument(client, reg, policy=policy, sleep=sleep)
            choice = select_from_packument(data, spec, target, reg)
            for line in choice.notices:
                notice(line)
            return choice.selection

        return resolve

    return make


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.rpartition("@")[2].lower()


def _authorize(client: httpx.Client, registry: Registry) -> None:
    """Send the registry's credentials on every request to the registry's origin (packument
    and, when it lives there, the tarball), and to no other host.

    A request hook on the shared client rather than a header: install.py downloads the tarball
    with this client, and the hook also runs on each redirect hop, where httpx has already
    dropped ``Authorization`` for a cross-origin target and this check keeps it dropped.
    """
    if registry.authorization is None:
        return
    origin = _origin(registry.url)
    value = registry.authorization

    def add_auth(request: httpx.Request) -> None:
        if _origin(str(request.url)) == origin and "authorization" not in request.headers:
            request.headers["Authorization"] = value

    hooks = client.event_hooks
    hooks["request"] = [*hooks.get("request", []), add_auth]
    client.event_hooks = hooks


def fetch_packument(
    client: httpx.Client,
    registry: Registry,
    *,
    policy: RetryPolicy = RetryPolicy(attempts=4),
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """GET the abbreviated packument, retrying transient failures; parsed JSON."""
    import httpx

    url = registry.packument_url
    host = urlsplit(registry.display).netloc
    attempt = 0
    connected = False
    while True:
        attempt += 1
        retry_after: float | None = None
        try:
            with client.stream("GET", url, headers={"Accept": ACCEPT}) as response:
                connected = True
                status = response.status_code
                if status == 200:
                    return _parse_json(_read_limited(response, registry), registry)
                if status in (404, 410):
                    raise NotFoundError(
                        f"{PACKAGE} not found on the npm registry {registry.display} "
                        f"(HTTP {status}; registry from {registry.origin})"
                    )
                if status in (401, 403):
                    creds = "its credentials were refused" if registry.authorization else (
                        "it needs credentials"
                    )
                    raise NetworkError(
                        f"the npm registry {registry.display} answered HTTP {status}: {creds}",
                        hint=f"check the //{host}/:_authToken line in your .npmrc",
                    )
                if status not in RETRYABLE_HTTP_STATUS:
                    raise NetworkError(
                        f"the npm registry {registry.display} answered HTTP {status}"
                    )
                last = f"HTTP {status}"
                retry_after = parse_retry_after(response.headers.get("retry-after"))
        except httpx.TimeoutException:
            last = f"timed out talking to {host}"
        except httpx.TransportError as err:
            last = f"cannot connect to {host} ({_first_line(err)})"
            if tls_verification_failed(err):
                raise NetworkError(
                    f"cannot fetch {PACKAGE} from the npm registry {registry.display}: {last}",
                    hint=TLS_HINT,
                    connection_level=True,
                ) from err
        if attempt >= policy.attempts:
            raise NetworkError(
                f"cannot fetch {PACKAGE} from the npm registry {registry.display} after {attempt} "
                f"attempts: {last}",
                connection_level=not connected,
            )
        sleep(policy.delay(attempt, retry_after))


def _read_limited(response: httpx.Response, registry: Registry) -> bytes:
    parts: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > PACKUMENT_LIMIT:
            raise _malformed(registry, f"larger than {PACKUMENT_LIMIT >> 20} MiB")
        parts.append(chunk)
    return b"".join(parts)


def _parse_json(body: bytes, registry: Registry) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:  # too deeply nested
        raise _malformed(registry, "not JSON") from err


def _first_line(err: BaseException) -> str:
    return (str(err) or type(err).__name__).splitlines()[0][:200]


__all__ = [
    "NpmChoice",
    "Registry",
    "authorization_for",
    "discover",
    "expand_env",
    "fetch_packument",
    "parse_npmrc",
    "resolver_factory",
    "select_from_packument",
]

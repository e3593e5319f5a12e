"""Release manifests (SPEC §7): ``manifests/codex-<ver>.toml``, one pinned release per file.

The model, its TOML form and its validation are pure. Reading and writing files happens only in
:func:`load_manifest`, :func:`write_manifest` and :func:`shipped_manifest`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from codex_install.errors import FilesystemError, UsageError, shown_url
from codex_install.fs import UnreadableFileError, atomic_write_text, read_regular
from codex_install.models import (
    ASSET_KEYS,
    LAYOUTS,
    Asset,
    Layout,
    Manifest,
    ManifestAsset,
    sort_key,
)
from codex_install.platforms import KNOWN_TARGETS
from codex_install.verify import asset_drift, is_sri
from codex_install.versions import TAG_PREFIX, parse_version

if TYPE_CHECKING:
    pass

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

SCHEMA = 1

_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_SRI_ALGORITHMS = ("sha256", "sha384", "sha512")
_NPM_SPEC_RE = re.compile(r"^(@[a-z0-9][\w.-]*/)?[a-z0-9][\w.-]*@[\w.+-]+$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+~@-]*$")
_URL_SCHEMES = ("https://", "http://", "file://")
# RFC 3986's characters (unreserved, reserved, and % only before two hex digits) less the
# single quote: a url is pasted into Ruby, TOML, shell and Markdown, where quotes, backslashes,
# whitespace and controls end strings or lines. Non-ASCII must come percent-encoded.
_URL_RE = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&()*+,;=]|%[0-9A-Fa-f]{2})+$")
MAX_URL = 8192
_MANIFEST_KEYS = ("schema", "version", "tag", "assets")
# TOML key order of one [[assets]] table; optional keys are left out when None.
_ASSET_KEYS = ASSET_KEYS
_REQUIRED_ASSET_KEYS = ("target", "layout", "name", "size", "sha256")
# Within one layout the installer prefers zstd (smaller) over gzip; npm tarballs come last.


def preferred_asset(manifest: Manifest, target: str, layout: Layout | None = None) -> ManifestAsset:
    """The preferred asset for ``target``: package before legacy, .tar.zst before .tar.gz."""
    found = manifest.assets_for(target, layout)
    if not found:
        what = f"{layout} archive" if layout else "archive"
        layouts: dict[str, set[str]] = {}
        for a in manifest.assets:
            layouts.setdefault(a.target, set()).add(a.layout)
        covered = ", ".join(f"{t} ({', '.join(sorted(k))})" for t, k in sorted(layouts.items()))
        raise UsageError(
            f"the manifest for Codex {manifest.version} has no {what} for {target}"
            f"; it covers {covered or 'nothing'}"
        )
    return found[0]


def build_manifest(version: str, assets: Iterable[ManifestAsset]) -> Manifest:
    """A schema-1 manifest for ``version`` (no ``rust-v`` prefix) with its tag filled in."""
    return Manifest(schema=SCHEMA, version=version, tag=TAG_PREFIX + version, assets=tuple(assets))


def manifest_filename(version: str) -> str:
    return f"codex-{version}.toml"


# --- TOML form ---


def render_manifest(manifest: Manifest) -> str:
    """The TOML text of ``manifest``: schema, version, tag, then one [[assets]] table each."""
    document = {
        "schema": manifest.schema,
        "version": manifest.version,
        "tag": manifest.tag,
        "assets": [a.to_table() for a in sorted(manifest.assets, key=sort_key)],
    }
    import tomli_w  # only rendering a manifest needs it, never reading one

    return tomli_w.dumps(document)


def parse_manifest(text: str, origin: str) -> Manifest:
    """Read a manifest's TOML text; ``origin`` names the file in error messages.

    Raises UsageError (exit 2) with one line for malformed TOML, an unknown schema, a missing or
    ill-typed field, or any problem :func:`validate_manifest` finds.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise _bad(origin, f"not valid TOML: {_one_line(str(err))}") from err
    except RecursionError as err:  # tomllib recurses per nesting level: hostile, not a crash
        raise _bad(origin, "not valid TOML: arrays or tables nested too deeply") from err

    schema = _schema(origin, data)
    _reject_unknown_keys(origin, "the top level", data, _MANIFEST_KEYS)
    version = _string(origin, data, "version", "")
    tag = _string(origin, data, "tag", "")
    raw_assets = data.get("assets")
    if raw_assets is None:
        raise _bad(origin, "missing [[assets]] tables")
    if not isinstance(raw_assets, list):
        raise _bad(origin, "'assets' must be an array of tables ([[assets]])")

    assets = tuple(_parse_asset(origin, i, raw) for i, raw in enumerate(raw_assets, 1))
    manifest = Manifest(schema=schema, version=version, tag=tag, assets=assets)
    problems = validate_manifest(manifest)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise _bad(origin, problems[0] + more)
    return manifest


def _schema(origin: str, data: Mapping[str, Any]) -> int:
    if "schema" not in data:
        raise _bad(origin, "missing key 'schema' (expected schema = 1)")
    schema = data["schema"]
    if type(schema) is not int or schema != SCHEMA:
        raise _bad(
            origin,
            f"unsupported manifest schema {schema!r}; this codex-install reads schema {SCHEMA}",
            hint="a newer codex-install may read it" if type(schema) is int else None,
        )
    return schema


def _parse_asset(origin: str, index: int, raw: object) -> ManifestAsset:
    where = f"[[assets]] #{index}"
    if not isinstance(raw, dict):
        raise _bad(origin, f"{where} must be a table")
    _reject_unknown_keys(origin, where, raw, _ASSET_KEYS)
    for key in _REQUIRED_ASSET_KEYS:
        if key not in raw:
            raise _bad(origin, f"{where} is missing key {key!r}")
    size = raw["size"]
    if type(size) is not int:
        raise _bad(origin, f"{where}: 'size' must be an integer, not {_toml_type(size)}")
    return ManifestAsset(
        target=_string(origin, raw, "target", where),
        layout=cast(Layout, _string(origin, raw, "layout", where)),
        name=_string(origin, raw, "name", where),
        url=_optional_str(origin, raw, "url", where),
        size=size,
        # Hand-edited manifests may paste upper-case hex; the value is the same digest.
        sha256=_string(origin, raw, "sha256", where).lower(),
        integrity=_optional_str(origin, raw, "integrity", where),
        npm_spec=_optional_str(origin, raw, "npm_spec", where),
    )


def _string(origin: str, table: Mapping[str, Any], key: str, where: str) -> str:
    if key not in table:
        raise _bad(origin, f"{where + ' is ' if where else ''}missing key {key!r}")
    value = table[key]
    if not isinstance(value, str):
        prefix = f"{where}: " if where else ""
        raise _bad(origin, f"{prefix}{key!r} must be a string, not {_toml_type(value)}")
    return value


def _optional_str(origin: str, table: Mapping[str, Any], key: str, where: str) -> str | None:
    return _string(origin, table, key, where) if key in table else None


def _reject_unknown_keys(
    origin: str, where: str, table: Mapping[str, Any], known: Sequence[str]
) -> None:
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise _bad(
            origin,
            f"unknown key {unknown[0]!r} in {where} (known keys: {', '.join(known)})",
        )


def _toml_type(value: object) -> str:
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        str: "a string",
        list: "an array",
        dict: "a table",
    }
    return names.get(type(value), type(value).__name__)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _bad(origin: str, problem: str, *, hint: str | None = None) -> UsageError:
    return UsageError(f"manifest {origin}: {problem}", hint=hint)


# --- validation (flit-style: a list of problems, never raises) ---


def validate_manifest(manifest: Manifest) -> list[str]:
    """Every problem with ``manifest`` as one line each; an empty list means it is valid."""
    problems: list[str] = []
    if manifest.schema != SCHEMA:
        problems.append(f"unsupported schema {manifest.schema!r} (expected {SCHEMA})")
    try:
        spec = parse_version(manifest.version)
    except UsageError:
        spec = None
    if spec is None or spec.version != manifest.version:
        problems.append(
            f"version {manifest.version!r} is not a Codex version X.Y.Z[-alpha.N|-beta.N]"
        )
    elif manifest.tag != TAG_PREFIX + manifest.version:
        problems.append(
            f"tag {manifest.tag!r} does not match version {manifest.version!r} "
            f"(expected {TAG_PREFIX + manifest.version!r})"
        )
    if not manifest.assets:
        problems.append("no assets: a manifest pins at least one archive")
    seen: set[tuple[str, str, str]] = set()
    for asset in manifest.assets:
        problems.extend(validate_asset(asset))
        key = (asset.target, asset.layout, asset.name)
        if key in seen:
            problems.append(f"asset {asset.label} is listed twice")
        seen.add(key)
    return problems


def _bad_name(asset: ManifestAsset) -> str | None:
    if not _NAME_RE.match(asset.name):
        return f"name {asset.name!r} must be a plain file name (letters, digits, . _ + ~ @ -)"
    return None


def url_problem(url: str) -> str | None:
    """What is wrong with ``url`` as a url a manifest may pin (None: nothing). The one rule for
    every url entering a manifest: parsed from a file, pinned by ``manifest generate`` from a
    source's JSON, or mirrored by ``mirror sync``."""
    if not url.startswith(_URL_SCHEMES):
        return f"url {shown_url(url)!r} must start with https://, http:// or file://"
    if len(url) > MAX_URL:
        return f"url is longer than {MAX_URL} characters"
    if not _URL_RE.match(url):
        bad = next(
            (c for i, c in enumerate(url) if not _URL_RE.match(url[i : i + 3] if c == "%" else c)),
            "%",
        )
        return (
            f"url holds {bad!r}, which RFC 3986 does not allow in a url (percent-encode it): "
            f"{shown_url(url)!r}"
        )
    return None


def check_url(url: str, what: str) -> str:
    """``url`` if :func:`url_problem` finds nothing; else a UsageError (exit 2) naming ``what``."""
    problem = url_problem(url)
    if problem is not None:
        raise UsageError(f"{what}: {problem}; refusing it")
    return url


def _bad_source(asset: ManifestAsset) -> str | None:
    if asset.url is None and asset.npm_spec is None:
        return "needs a url (or an npm_spec for npm entries)"
    return url_problem(asset.url) if asset.url is not None else None


def _mismatch(value: str | None, pattern: re.Pattern[str], problem: str) -> str | None:
    return problem if value is not None and not pattern.match(value) else None


# Each check returns what is wrong with one field, or None (flit's validate.py shape).
_ASSET_CHECKS: tuple[Callable[[ManifestAsset], str | None], ...] = (
    lambda a: (
        None
        if a.target in KNOWN_TARGETS
        else f"unknown target {a.target!r} (known: {', '.join(KNOWN_TARGETS)})"
    ),
    lambda a: (
        None if a.layout in LAYOUTS else f"unknown layout {a.layout!r} (expected package or legacy)"
    ),
    _bad_name,
    lambda a: (
        None
        if type(a.size) is int and a.size >= 0
        else f"size must be a non-negative integer, not {a.size!r}"
    ),
    lambda a: _mismatch(
        a.sha256, _SHA256_RE, f"sha256 must be 64 lower-case hex digits, not {a.sha256!r}"
    ),
    _bad_source,
    lambda a: (
        None
        if a.integrity is None or is_sri(a.integrity, _SRI_ALGORITHMS)
        else f"integrity {a.integrity!r} is not an SRI hash like 'sha512-<base64>'"
    ),
    lambda a: _mismatch(
        a.npm_spec,
        _NPM_SPEC_RE,
        f"npm_spec {a.npm_spec!r} is not a package spec like '@openai/codex@0.169.0-linux-x64'",
    ),
)


def validate_asset(asset: ManifestAsset) -> list[str]:
    """Every problem of one entry, each prefixed with the entry's name."""
    where = f"asset {asset.name!r}"
    return [f"{where}: {problem}" for check in _ASSET_CHECKS if (problem := check(asset))]


# --- drift: what `manifest verify` and `install --manifest` compare ---


def remote_drift(asset: ManifestAsset, remote: Asset) -> list[str]:
    """A release source's claims about an archive versus the pin (SPEC §3: an error, never a
    warning, when they disagree)."""
    return asset_drift(asset, size=remote.size, sha256=remote.sha256, observed="remote")


def diff_manifests(pinned: Manifest, observed: Manifest) -> list[str]:
    """Differences between a pinned manifest and one regenerated from the source now."""
    problems: list[str] = []
    if (pinned.version, pinned.tag) != (observed.version, observed.tag):
        problems.append(
            f"release {observed.tag} ({observed.version}) is not the pinned "
            f"{pinned.tag} ({pinned.version})"
        )
    keyed = {(a.target, a.layout, a.name): a for a in observed.assets}
    pinned_keys = {(a.target, a.layout, a.name) for a in pinned.assets}
    for asset in pinned.assets:
        now = keyed.get((asset.target, asset.layout, asset.name))
        if now is None:
            problems.append(f"{asset.label}: no longer available")
            continue
        problems.extend(
            asset_drift(asset, size=now.size, sha256=now.sha256, integrity=now.integrity)
        )
        if now.url != asset.url:
            problems.append(f"{asset.label}: url is now {now.url!r}, pinned {asset.url!r}")
    for key, asset in keyed.items():
        if key not in pinned_keys:
            problems.append(f"{asset.label}: not in the pinned manifest")
    return problems


# --- I/O edges ---


MANIFEST_CAP = 4 << 20  # a manifest pins a dozen archives in a few KiB


def read_manifest_text(path: Path) -> str:
    """The text of the manifest file at ``path``: a regular file, read without blocking and
    never past MANIFEST_CAP; anything else is one line, exit 2."""
    try:
        data = read_regular(path, MANIFEST_CAP, what="manifest")
    except UnreadableFileError as err:
        raise UsageError(err.message) from err
    if data is None:
        raise UsageError(f"cannot read manifest {path}: No such file or directory")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise UsageError(f"manifest {path}: not UTF-8 text") from err


def load_manifest(path: Path) -> Manifest:
    """Read and parse the manifest file at ``path``."""
    return parse_manifest(read_manifest_text(path), str(path))


def write_manifest(manifest: Manifest, path: Path) -> None:
    """Write ``manifest`` atomically (readers see the old file or the new one)."""
    problems = validate_manifest(manifest)
    if problems:
        raise UsageError(f"refusing to write an invalid manifest to {path}: {problems[0]}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise FilesystemError(f"cannot create {path.parent}: {err.strerror or err}") from err
    atomic_write_text(path, render_manifest(manifest))

"""The mirror source: a static tree with ``channels/latest`` and ``releases/<ver>/release.json``
(GitHub-shaped JSON, relative URLs). ``file://`` trees work for air-gapped hosts."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from codex_install.errors import NetworkError, NotFoundError
from codex_install.http.client import check_url, redact
from codex_install.http.download import fetch_bytes
from codex_install.http.limits import RELEASE_JSON_CAP
from codex_install.http.retry import RetryPolicy
from codex_install.models import Release
from codex_install.sources.release import parse_release
from codex_install.versions import VersionSpec

if TYPE_CHECKING:
    import httpx


def normalize_base(base: str) -> str:
    """The mirror's base URL, ending in "/"; a plain path is a local tree."""
    if "://" not in base:
        return Path(base).resolve().as_uri() + "/"
    check_url(base, "the mirror URL")
    return base if base.endswith("/") else base + "/"


def release_json_url(base: str, spec: VersionSpec) -> str:
    base = normalize_base(base)
    if spec.version is None:
        return base + "channels/latest"
    return f"{base}releases/{spec.version}/release.json"


def fetch_release(
    client: httpx.Client | None,
    base: str,
    spec: VersionSpec,
    *,
    policy: RetryPolicy = RetryPolicy(attempts=4),
    sleep: Callable[[float], None] = time.sleep,
) -> Release:
    url = release_json_url(base, spec)
    root = normalize_base(base)
    try:
        label = url.removeprefix(root)  # the file a mirror admin looks for
        body, _ = fetch_bytes(
            client, url, label=label, policy=policy, sleep=sleep, limit=RELEASE_JSON_CAP
        )
    except NotFoundError as err:
        what = f"release {spec.version}" if spec.version else "the latest channel"
        raise NotFoundError(
            f"{what} not found on mirror {redact(root)} ({redact(url)} answered 404)",
            hint="is it a tree `codex-install mirror sync` wrote? "
            "It serves channels/latest and releases/<version>/release.json",
        ) from err
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:  # too deeply nested
        raise NetworkError(f"mirror returned malformed JSON at {url}") from err
    release = parse_release(data, base_url=url, source="mirror", origin=f"mirror ({url})")
    if spec.version is not None and release.version != spec.version:
        raise NetworkError(
            f"mirror release.json at {url} describes {release.version}, not {spec.version}"
        )
    return release

"""The mirror source: a static tree with ``channels/latest`` and ``releases/<ver>/release.json``
(GitHub-shaped JSON, relative URLs). ``file://`` trees work for air-gapped hosts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from codex_install.errors import NetworkError, NotFoundError, shown_url
from codex_install.http.client import check_url
from codex_install.http.limits import RELEASE_JSON_CAP
from codex_install.http.metadata import Doc
from codex_install.http.network import Failed, failure_error
from codex_install.models import Release
from codex_install.sources.release import parse_release
from codex_install.versions import VersionSpec

if TYPE_CHECKING:
    from codex_install.http.network import Network


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


def fetch_release(net: Network, base: str, spec: VersionSpec) -> Release:
    url = release_json_url(base, spec)
    root = normalize_base(base)
    label = url.removeprefix(root)  # the file a mirror admin looks for
    shown = shown_url(root)
    try:
        answer = net.get(Doc(url, label, RELEASE_JSON_CAP, expect=frozenset({404, 410})))
    except Failed as err:
        raise failure_error(
            err,
            label,
            url,
            seconds=net.plan.metadata_s,
            proxy=net.proxy_for(url),
            source=f"mirror {shown}",
        ) from err
    if answer.status != 200:
        what = f"release {spec.version}" if spec.version else "the latest channel"
        raise NotFoundError(
            f"{what} not found on mirror {shown} ({shown_url(url)} answered {answer.status})",
            hint="is it a tree `codex-install mirror sync` wrote? "
            "It serves channels/latest and releases/<version>/release.json",
        )
    try:
        data = json.loads(answer.body)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:  # too deeply nested
        raise NetworkError(f"mirror returned malformed JSON at {shown_url(url)}") from err
    release = parse_release(
        data, base_url=url, source="mirror", origin=f"mirror ({shown_url(url)})"
    )
    if spec.version is not None and release.version != spec.version:
        raise NetworkError(
            f"mirror release.json at {shown_url(url)} describes {release.version}, "
            f"not {spec.version}"
        )
    return release

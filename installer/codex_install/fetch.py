"""Verified downloads to files, for the distribution tools (mirror sync, manifests)."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from codex_install import assets
from codex_install.download import Digests, download
from codex_install.errors import FilesystemError
from codex_install.models import Asset

if TYPE_CHECKING:
    import httpx


def fetch_to_file(
    client: httpx.Client | None,
    asset: Asset,
    dest: Path,
    *,
    expected_sha256: str | None,
    integrity: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Digests:
    """Download ``asset`` next to ``dest``, verify it, then rename it into place (never a
    half-written or unverified file at ``dest``)."""
    tmp = dest.with_name(f".{dest.name}.part-{secrets.token_hex(4)}")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            extra: tuple[str, ...] = ()
            if integrity:
                extra = ("sha1",) if integrity.startswith("sha1-") else ("sha512",)
            digests = download(
                client,
                asset.url,
                f.write,
                expected_size=asset.size,
                label=asset.name,
                sleep=sleep,
                extra_hashes=extra,
            )
            f.flush()
            os.fsync(f.fileno())
        if expected_sha256 is not None:
            assets.check_sha256(asset.name, digests.sha256, expected_sha256)
        if integrity:
            assets.check_integrity(asset.name, integrity, digests.sha512, digests.sha1)
        os.replace(tmp, dest)
        return digests
    except OSError as err:
        raise FilesystemError(f"cannot write {dest}: {err.strerror or err}") from err
    finally:
        tmp.unlink(missing_ok=True)

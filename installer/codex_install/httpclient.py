"""The one place HTTP clients are made (proxies and SSL_CERT_FILE come from the environment)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codex_install import __version__

if TYPE_CHECKING:
    import httpx

USER_AGENT = f"codex-install/{__version__}"


def make_client(timeout: float = 30.0) -> httpx.Client:
    import httpx

    return httpx.Client(
        follow_redirects=True,
        timeout=httpx.Timeout(timeout, connect=15.0),
        headers={"User-Agent": USER_AGENT},
        trust_env=True,
    )

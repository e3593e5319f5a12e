"""The one place HTTP clients are made (proxies and SSL_CERT_FILE come from the environment)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from codex_install import __version__
from codex_install.errors import UsageError

if TYPE_CHECKING:
    import httpx

USER_AGENT = f"codex-install/{__version__}"


def make_client(timeout: float = 30.0) -> httpx.Client:
    import httpx

    try:
        return httpx.Client(
            follow_redirects=True,
            timeout=httpx.Timeout(timeout, connect=15.0),
            headers={"User-Agent": USER_AGENT},
            trust_env=True,
        )
    except (ImportError, ValueError, httpx.InvalidURL) as err:
        # httpx reads the proxy variables here: a malformed URL, an unknown scheme or a SOCKS
        # proxy (its extra is not installed) is a setting to fix, not a bug of ours.
        raise UsageError(
            f"cannot use the proxy set in the environment: {err}",
            hint="check HTTPS_PROXY, HTTP_PROXY and ALL_PROXY (an http:// proxy URL)",
        ) from err

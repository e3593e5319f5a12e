"""Codex releases in OCI registries (``oci://HOST[:PORT]/REPO``): read by the installer as a
source, written by ``mirror sync --output oci://…``. The distribution protocol on the project's
httpx client; see :mod:`.artifact` for the layout."""

from __future__ import annotations

from codex_install.sources.oci.reference import is_oci

__all__ = ["is_oci"]

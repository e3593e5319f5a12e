"""Release manifests (SPEC §7): the TOML document (``document``) and the manifests that ship
with codex-install (``shipped``). The values are ``models.Manifest`` and ``ManifestAsset``."""

from codex_install.manifest.document import (
    SCHEMA,
    build_manifest,
    check_url,
    diff_manifests,
    load_manifest,
    manifest_filename,
    parse_manifest,
    preferred_asset,
    remote_drift,
    render_manifest,
    url_problem,
    validate_asset,
    validate_manifest,
    write_manifest,
)
from codex_install.manifest.shipped import (
    MANIFEST_DIR_ENV,
    SHIPPED_PACKAGE_DIR,
    manifest_dirs,
    shipped_manifest,
    shipped_manifest_dirs,
    shipped_origin,
)
from codex_install.models import Manifest, ManifestAsset

__all__ = [
    "MANIFEST_DIR_ENV",
    "SCHEMA",
    "SHIPPED_PACKAGE_DIR",
    "Manifest",
    "ManifestAsset",
    "build_manifest",
    "check_url",
    "diff_manifests",
    "load_manifest",
    "manifest_dirs",
    "manifest_filename",
    "parse_manifest",
    "preferred_asset",
    "remote_drift",
    "render_manifest",
    "shipped_manifest",
    "shipped_manifest_dirs",
    "shipped_origin",
    "url_problem",
    "validate_asset",
    "validate_manifest",
    "write_manifest",
]

"""Homebrew cask and formula renderers (SPEC §8): pure functions of a manifest.

Homebrew unpacks .tar.gz itself (zstd would need a dependency), so both renderers pin the
``.tar.gz`` archive of the chosen layout for each of the four supported targets.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Template
from typing import Literal

from codex_install.errors import UsageError
from codex_install.manifest import Manifest, ManifestAsset, validate_manifest
from codex_install.models import Layout
from codex_install.platforms import SUPPORTED_TARGETS

Kind = Literal["cask", "formula"]

RELEASE_URL = "https://github.com/openai/codex/releases/download"
HOMEPAGE = "https://github.com/openai/codex"
DESC = "OpenAI's coding agent that runs in your terminal"

# The cask's sha256 keys for the four targets.
_CASK_SHA_KEYS: dict[str, str] = {
    "aarch64-apple-darwin": "arm",
    "x86_64-apple-darwin": "intel",
    "aarch64-unknown-linux-musl": "arm64_linux",
    "x86_64-unknown-linux-musl": "x86_64_linux",
}
CASK_TEMPLATE = Template("""\
cask "codex" do
  arch arm: "aarch64", intel: "x86_64"
  os macos: "apple-darwin", linux: "unknown-linux-musl"

  version "${version}"
  sha256 arm:          "${sha256_arm}",
         intel:        "${sha256_intel}",
         arm64_linux:  "${sha256_arm64_linux}",
         x86_64_linux: "${sha256_x86_64_linux}"

  url "${release_url}/rust-v#{version}/${archive}"
  name "Codex"
  desc "${desc}"
  homepage "${homepage}"

  livecheck do
    url :url
    regex(/^rust-v(\\d+(?:\\.\\d+)+)$$/i)
    strategy :github_latest
  end
${depends_on}
  binary ${binary}

  generate_completions_from_executable ${executable}, "completion", base_name: "codex"

  zap trash: "~/.codex"
end
""")

FORMULA_TEMPLATE = Template("""\
class Codex < Formula
  desc "${desc}"
  homepage "${homepage}"
  version "${version}"
  license "Apache-2.0"

  livecheck do
    url :stable
    regex(/^rust-v(\\d+(?:\\.\\d+)+)$$/i)
    strategy :github_latest
  end
${depends_on}
  on_macos do
    on_arm do
      url "${url_aarch64_apple_darwin}"
      sha256 "${sha256_aarch64_apple_darwin}"
    end
    on_intel do
      url "${url_x86_64_apple_darwin}"
      sha256 "${sha256_x86_64_apple_darwin}"
    end
  end

  on_linux do
    on_arm do
      url "${url_aarch64_unknown_linux_musl}"
      sha256 "${sha256_aarch64_unknown_linux_musl}"
    end
    on_intel do
      url "${url_x86_64_unknown_linux_musl}"
      sha256 "${sha256_x86_64_unknown_linux_musl}"
    end
  end

  def install
${install}
    generate_completions_from_executable(bin/"codex", "completion")
  end

  test do
    assert_match "codex-cli #{version}", shell_output("#{bin}/codex --version")
  end
end
""")

# The package layout keeps codex-path/ (its own rg) and codex-resources/ next to bin/codex, so
# the whole tree goes to libexec; the legacy layout is one binary and needs ripgrep from Homebrew.
_FORMULA_INSTALL_PACKAGE = """\
    libexec.install Dir["*"]
    bin.install_symlink libexec/"bin/codex\""""

_FORMULA_INSTALL_LEGACY = """\
    target = if OS.mac?
      Hardware::CPU.arm? ? "aarch64-apple-darwin" : "x86_64-apple-darwin"
    else
      Hardware::CPU.arm? ? "aarch64-unknown-linux-musl" : "x86_64-unknown-linux-musl"
    end
    bin.install "codex-#{target}" => "codex\""""


@dataclass(frozen=True)
class _LayoutStanzas:
    archive_pattern: str  # archive name with {target}
    cask_archive: str  # the same name with Homebrew's #{arch}-#{os} interpolation
    cask_binary: str
    cask_executable: str
    cask_depends_on: str
    formula_depends_on: str
    formula_install: str


_LAYOUTS: dict[str, _LayoutStanzas] = {
    "package": _LayoutStanzas(
        archive_pattern="codex-package-{target}.tar.gz",
        cask_archive="codex-package-#{arch}-#{os}.tar.gz",
        cask_binary='"bin/codex"',
        cask_executable='"bin/codex"',
        cask_depends_on="",
        formula_depends_on="",
        formula_install=_FORMULA_INSTALL_PACKAGE,
    ),
    "legacy": _LayoutStanzas(
        archive_pattern="codex-{target}.tar.gz",
        cask_archive="codex-#{arch}-#{os}.tar.gz",
        cask_binary='"codex-#{arch}-#{os}", target: "codex"',
        cask_executable='"codex-#{arch}-#{os}"',
        cask_depends_on='\n  depends_on formula: "ripgrep"\n',
        formula_depends_on='\n  depends_on "ripgrep"\n',
        formula_install=_FORMULA_INSTALL_LEGACY,
    ),
}


def archive_name(target: str, layout: Layout) -> str:
    """The GitHub .tar.gz archive Homebrew downloads for ``target`` in ``layout``."""
    return _stanzas(layout).archive_pattern.format(target=target)


def archive_url(version: str, target: str, layout: Layout) -> str:
    return f"{RELEASE_URL}/rust-v{version}/{archive_name(target, layout)}"


def homebrew_assets(
    manifest: Manifest, layout: Layout, kind: Kind = "cask"
) -> dict[str, ManifestAsset]:
    """The manifest's .tar.gz asset for each supported target, or one UsageError naming every
    missing archive."""
    problems = validate_manifest(manifest)
    if problems:
        raise UsageError(f"cannot render the Homebrew {kind}: {problems[0]}")
    found: dict[str, ManifestAsset] = {}
    missing: list[str] = []
    for target in SUPPORTED_TARGETS:
        name = archive_name(target, layout)
        asset = manifest.asset_named(name, target)
        if asset is None or asset.layout != layout:
            missing.append(name)
        else:
            found[target] = asset
    if missing:
        only_npm = all(a.is_npm for a in manifest.assets)
        raise UsageError(
            f"cannot render the Homebrew {kind} for Codex {manifest.version} ({layout} layout): "
            f"the manifest has no {', '.join(missing)}",
            hint=(
                "it only pins npm tarballs; Homebrew needs the GitHub .tar.gz archives"
                if only_npm
                else "generate the manifest with the .tar.gz archives of all four targets"
            ),
        )
    return found


def render_cask(manifest: Manifest, layout: Layout = "package") -> str:
    """The ``codex`` cask of SPEC §8 for ``layout``; deterministic for a given manifest."""
    assets = homebrew_assets(manifest, layout, "cask")
    stanzas = _stanzas(layout)
    return CASK_TEMPLATE.substitute(
        version=manifest.version,
        **{f"sha256_{_CASK_SHA_KEYS[t]}": assets[t].sha256 for t in SUPPORTED_TARGETS},
        release_url=RELEASE_URL,
        archive=stanzas.cask_archive,
        desc=DESC,
        homepage=HOMEPAGE,
        depends_on=stanzas.cask_depends_on,
        binary=stanzas.cask_binary,
        executable=stanzas.cask_executable,
    )


def render_formula(manifest: Manifest, layout: Layout = "package") -> str:
    """A ``Codex`` formula (for a tap) with one url+sha256 per OS/arch block."""
    assets = homebrew_assets(manifest, layout, "formula")
    stanzas = _stanzas(layout)
    per_target: dict[str, str] = {}
    for target in SUPPORTED_TARGETS:
        key = target.replace("-", "_")
        per_target[f"url_{key}"] = archive_url(manifest.version, target, layout)
        per_target[f"sha256_{key}"] = assets[target].sha256
    return FORMULA_TEMPLATE.substitute(
        desc=DESC,
        homepage=HOMEPAGE,
        version=manifest.version,
        depends_on=stanzas.formula_depends_on,
        install=stanzas.formula_install,
        **per_target,
    )


def render_homebrew(manifest: Manifest, *, kind: str = "cask", layout: str = "package") -> str:
    """Dispatch for the CLI: ``kind`` and ``layout`` are checked here, not trusted."""
    checked = _check_layout(layout)
    if kind == "cask":
        return render_cask(manifest, checked)
    if kind == "formula":
        return render_formula(manifest, checked)
    raise UsageError(f"unknown Homebrew kind {kind!r} (expected cask or formula)")


def _check_layout(layout: str) -> Layout:
    if layout == "package":
        return "package"
    if layout == "legacy":
        return "legacy"
    raise UsageError(f"unknown layout {layout!r} (expected package or legacy)")


def _stanzas(layout: str) -> _LayoutStanzas:
    return _LAYOUTS[_check_layout(layout)]

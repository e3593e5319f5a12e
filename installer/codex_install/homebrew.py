"""Homebrew cask and formula renderers (SPEC §8): pure functions of a manifest.

Homebrew unpacks .tar.gz itself (zstd would need a dependency), so both renderers pin the
``.tar.gz`` archive of the chosen layout for each of the four supported targets: the GitHub
``package`` or ``legacy`` archives, or — layout ``npm`` — the ``@openai/codex`` platform tarballs
on registry.npmjs.org (where Homebrew formulae for Node CLIs commonly download from), whose
``package/vendor/<target>/`` holds the same package layout. The urls are the ones the manifest
pins: a manifest of a mirror renders the mirror, never github.com urls with the mirror's digests.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from string import Template
from typing import Literal
from urllib.parse import urlsplit

from codex_install.errors import UsageError
from codex_install.manifest import Manifest, ManifestAsset, validate_manifest
from codex_install.platforms import NPM_PLATFORMS, SUPPORTED_TARGETS

Kind = Literal["cask", "formula"]
BrewLayout = Literal["package", "legacy", "npm"]
BREW_LAYOUTS: tuple[BrewLayout, ...] = ("package", "legacy", "npm")

RELEASE_URL = "https://github.com/openai/codex/releases/download"
NPM_TARBALL_URL = "https://registry.npmjs.org/@openai/codex/-"
HOMEPAGE = "https://github.com/openai/codex"
DESC = "OpenAI's coding agent that runs in your terminal"

# The cask's sha256 keys for the four targets.
_CASK_SHA_KEYS: dict[str, str] = {
    "aarch64-apple-darwin": "arm",
    "x86_64-apple-darwin": "intel",
    "aarch64-unknown-linux-musl": "arm64_linux",
    "x86_64-unknown-linux-musl": "x86_64_linux",
}
# Every value a template takes from a manifest (version, urls, digests, ``verified:``) goes in
# through ruby_string, already quoted; the only other substitutions are this module's own
# constants (the release url prefix, archive patterns, stanzas).
# Every cask zaps with ``rmdir`` as upstream does: ~/.codex holds the user's sessions and
# credentials, so it goes only once it is empty, never to the trash.
CASK_TEMPLATE = Template("""\
cask "codex" do
  arch arm: "aarch64", intel: "x86_64"
  os macos: "apple-darwin", linux: "unknown-linux-musl"

  version ${version}
  sha256 arm:          ${sha256_arm},
         intel:        ${sha256_intel},
         arm64_linux:  ${sha256_arm64_linux},
         x86_64_linux: ${sha256_x86_64_linux}

  url "${release_url}/rust-v#{version}/${archive}"
  name "Codex"
  desc ${desc}
  homepage ${homepage}

  livecheck do
    url :url
    regex(/^rust-v?(\\d+(?:\\.\\d+)+)$$/i)
    strategy :github_latest
  end
${depends_on}
  binary ${binary}

  generate_completions_from_executable ${executable}, "completion", base_name: "codex"

  zap rmdir: "~/.codex"
end
""")

FORMULA_TEMPLATE = Template("""\
class Codex < Formula
  desc ${desc}
  homepage ${homepage}
  version ${version}
  license "Apache-2.0"

  livecheck do
    url ${livecheck_url}
    regex(/^rust-v?(\\d+(?:\\.\\d+)+)$$/i)
    strategy :github_latest
  end
${depends_on}
  on_macos do
    on_arm do
      url ${url_aarch64_apple_darwin}
      sha256 ${sha256_aarch64_apple_darwin}
    end
    on_intel do
      url ${url_x86_64_apple_darwin}
      sha256 ${sha256_x86_64_apple_darwin}
    end
  end

  on_linux do
    on_arm do
      url ${url_aarch64_unknown_linux_musl}
      sha256 ${sha256_aarch64_unknown_linux_musl}
    end
    on_intel do
      url ${url_x86_64_unknown_linux_musl}
      sha256 ${sha256_x86_64_unknown_linux_musl}
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

# A cask whose archives are not the GitHub release's (npm tarballs, a mirror's): each target's
# url and sha256 go in on_macos/on_linux + on_arm/on_intel blocks, exactly as the manifest pins
# them, while ``arch`` and ``os`` still spell the triple for the binary's path. A url on another
# host than the homepage carries ``verified:`` (brew audit insists).
BLOCKS_CASK_TEMPLATE = Template("""\
cask "codex" do
  arch arm: "aarch64", intel: "x86_64"
  os macos: "apple-darwin", linux: "unknown-linux-musl"

  version ${version}

  on_macos do
    on_arm do
      sha256 ${sha256_aarch64_apple_darwin}
      url ${url_aarch64_apple_darwin}${verified}
    end
    on_intel do
      sha256 ${sha256_x86_64_apple_darwin}
      url ${url_x86_64_apple_darwin}${verified}
    end
  end

  on_linux do
    on_arm do
      sha256 ${sha256_aarch64_unknown_linux_musl}
      url ${url_aarch64_unknown_linux_musl}${verified}
    end
    on_intel do
      sha256 ${sha256_x86_64_unknown_linux_musl}
      url ${url_x86_64_unknown_linux_musl}${verified}
    end
  end

  name "Codex"
  desc ${desc}
  homepage ${homepage}

  livecheck do
    url :homepage
    regex(/^rust-v?(\\d+(?:\\.\\d+)+)$$/i)
    strategy :github_latest
  end
${depends_on}
  binary ${binary}

  generate_completions_from_executable ${executable}, "completion", base_name: "codex"

  zap rmdir: "~/.codex"
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

# Homebrew enters the tarball's single top-level directory (package/) before ``install`` runs.
_FORMULA_INSTALL_NPM = """\
    target = if OS.mac?
      Hardware::CPU.arm? ? "aarch64-apple-darwin" : "x86_64-apple-darwin"
    else
      Hardware::CPU.arm? ? "aarch64-unknown-linux-musl" : "x86_64-unknown-linux-musl"
    end
    libexec.install Dir["vendor/#{target}/*"]
    bin.install_symlink libexec/"bin/codex\""""


@dataclass(frozen=True)
class _LayoutStanzas:
    archive_pattern: str  # archive name with {target} (and {version}, {platform} for npm)
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
    "npm": _LayoutStanzas(
        archive_pattern="codex-{version}-{platform}.tgz",
        cask_archive="",  # each on_* block of the npm cask names its own url
        cask_binary='"package/vendor/#{arch}-#{os}/bin/codex", target: "codex"',
        cask_executable='"package/vendor/#{arch}-#{os}/bin/codex"',
        cask_depends_on="",
        formula_depends_on="",
        formula_install=_FORMULA_INSTALL_NPM,
    ),
}


def ruby_string(value: str) -> str:
    """``value`` as a double-quoted Ruby string literal that evaluates to exactly ``value`` and
    runs nothing: ``"`` and ``\\`` are escaped, ``#`` too (``#{…}``, ``#$x``, ``#@x`` would
    interpolate), and everything outside printable ASCII becomes a ``\\u{…}`` escape, so no
    newline, control or bidi character reaches the file."""
    out = ['"']
    for char in value:
        if char in '"\\#':
            out.append("\\" + char)
        elif " " <= char <= "~":
            out.append(char)
        elif 0xD800 <= ord(char) <= 0xDFFF:
            raise UsageError(f"cannot write {value!r} as Ruby: it holds a lone surrogate")
        else:
            out.append(f"\\u{{{ord(char):x}}}")
    out.append('"')
    return "".join(out)


def archive_name(target: str, layout: str, version: str = "") -> str:
    """The .tar.gz (or npm .tgz) archive Homebrew downloads for ``target`` in ``layout``."""
    return _stanzas(layout).archive_pattern.format(
        target=target, version=version, platform=NPM_PLATFORMS.get(target, "")
    )


def archive_url(version: str, target: str, layout: str) -> str:
    name = archive_name(target, layout, version)
    if layout == "npm":
        return f"{NPM_TARBALL_URL}/{name}"
    return f"{RELEASE_URL}/rust-v{version}/{name}"


def _pinned_archive(manifest: Manifest, target: str, layout: str) -> ManifestAsset | None:
    if layout == "npm":
        return next((a for a in manifest.assets_for(target) if a.is_npm), None)
    asset = manifest.asset_named(archive_name(target, layout), target)
    return asset if asset is not None and asset.layout == layout and not asset.is_npm else None


def _covers(manifest: Manifest, layout: str) -> bool:
    return all(_pinned_archive(manifest, t, layout) is not None for t in SUPPORTED_TARGETS)


def homebrew_assets(
    manifest: Manifest, layout: str, kind: Kind = "cask"
) -> dict[str, ManifestAsset]:
    """The manifest's archive for each supported target in ``layout``, or one UsageError
    naming every missing archive."""
    problems = validate_manifest(manifest)
    if problems:
        raise UsageError(f"cannot render the Homebrew {kind}: {problems[0]}")
    found: dict[str, ManifestAsset] = {}
    missing: list[str] = []
    for target in SUPPORTED_TARGETS:
        asset = _pinned_archive(manifest, target, layout)
        if asset is None:
            missing.append(archive_name(target, layout, manifest.version))
        else:
            found[target] = asset
    if missing:
        raise UsageError(
            f"cannot render the Homebrew {kind} for Codex {manifest.version} ({layout} layout): "
            f"the manifest has no {', '.join(missing)}",
            hint=_missing_hint(manifest, layout),
        )
    return found


def _missing_hint(manifest: Manifest, layout: str) -> str:
    if layout != "npm" and _covers(manifest, "npm"):
        return "it pins the npm tarballs of every target: render it with --layout npm"
    if layout == "npm":
        return "generate the manifest with --source npm"
    return "generate the manifest with the .tar.gz archives of all four targets"


def choose_layout(manifest: Manifest, layout: str | None) -> tuple[BrewLayout, str | None]:
    """The layout to render and, when it was not asked for, why it was picked.

    The default is the GitHub ``package`` layout; a manifest that cannot give it but pins the
    npm tarballs of all four targets (like one generated with ``--source npm``) renders ``npm``.
    """
    if layout is not None:
        return _check_layout(layout), None
    if not _covers(manifest, "package") and _covers(manifest, "npm"):
        return "npm", (
            f"the manifest for Codex {manifest.version} pins npm tarballs, not the GitHub "
            "package archives: rendering the npm layout (registry.npmjs.org urls)"
        )
    return "package", None


def pinned_urls(
    manifest: Manifest, assets: Mapping[str, ManifestAsset], layout: str
) -> dict[str, str]:
    """Each target's url as the manifest pins it (an npm entry without one: registry.npmjs.org)."""
    return {t: assets[t].url or archive_url(manifest.version, t, layout) for t in SUPPORTED_TARGETS}


def _on_github(version: str, urls: Mapping[str, str], layout: str) -> bool:
    """Whether the urls are the GitHub release's own, which the short cask spells out."""
    return layout != "npm" and all(
        url == archive_url(version, t, layout) for t, url in urls.items()
    )


def verified(urls: Iterable[str]) -> str | None:
    """The ``verified:`` value for urls on another host than the homepage's: their common
    ``host/path/`` prefix; None when they are on the homepage's host."""
    bare = [u.split("://", 1)[-1] for u in urls]
    if all(urlsplit(u).hostname == urlsplit(HOMEPAGE).hostname for u in urls):
        return None
    return posixpath.commonpath([posixpath.dirname(u) for u in bare]) + "/"


@dataclass(frozen=True)
class Pin:
    """What Homebrew downloads for one target: the url and its sha256."""

    url: str
    sha256: str


def _pins(manifest: Manifest, layout: str, kind: Kind) -> dict[str, Pin]:
    assets = homebrew_assets(manifest, layout, kind)
    urls = pinned_urls(manifest, assets, layout)
    return {t: Pin(urls[t], assets[t].sha256) for t in SUPPORTED_TARGETS}


def render_cask(manifest: Manifest, layout: str = "package") -> str:
    """The ``codex`` cask of SPEC §8 for ``layout``, with the urls the manifest pins;
    deterministic for a given manifest."""
    return cask_source(manifest.version, _pins(manifest, layout, "cask"), layout)


def render_formula(manifest: Manifest, layout: str = "package") -> str:
    """A ``Codex`` formula (for a tap) with one url+sha256 per OS/arch block."""
    return formula_source(manifest.version, _pins(manifest, layout, "formula"), layout)


def cask_source(version: str, pins: Mapping[str, Pin], layout: str) -> str:
    """The cask's text for values already checked (:func:`render_cask` checks them); each
    value goes in through :func:`ruby_string`."""
    stanzas = _stanzas(layout)
    urls = {t: pins[t].url for t in SUPPORTED_TARGETS}
    common = {
        "version": ruby_string(version),
        "desc": ruby_string(DESC),
        "homepage": ruby_string(HOMEPAGE),
        "depends_on": stanzas.cask_depends_on,
        "binary": stanzas.cask_binary,
        "executable": stanzas.cask_executable,
    }
    if _on_github(version, urls, layout):
        return CASK_TEMPLATE.substitute(
            **common,
            **{
                f"sha256_{_CASK_SHA_KEYS[t]}": ruby_string(pins[t].sha256)
                for t in SUPPORTED_TARGETS
            },
            release_url=RELEASE_URL,
            archive=stanzas.cask_archive,
        )
    where = verified(urls.values())
    return BLOCKS_CASK_TEMPLATE.substitute(
        **common,
        **_per_target(pins),
        verified=f",\n          verified: {ruby_string(where)}" if where else "",
    )


def formula_source(version: str, pins: Mapping[str, Pin], layout: str) -> str:
    """The formula's text for values already checked (:func:`render_formula` checks them);
    each value goes in through :func:`ruby_string`."""
    stanzas = _stanzas(layout)
    urls = {t: pins[t].url for t in SUPPORTED_TARGETS}
    return FORMULA_TEMPLATE.substitute(
        desc=ruby_string(DESC),
        homepage=ruby_string(HOMEPAGE),
        version=ruby_string(version),
        # github_latest needs a GitHub url: the stable url is one only on GitHub itself.
        livecheck_url=":stable" if _on_github(version, urls, layout) else ":homepage",
        depends_on=stanzas.formula_depends_on,
        install=stanzas.formula_install,
        **_per_target(pins),
    )


def _per_target(pins: Mapping[str, Pin]) -> dict[str, str]:
    values: dict[str, str] = {}
    for target in SUPPORTED_TARGETS:
        key = target.replace("-", "_")
        values[f"url_{key}"] = ruby_string(pins[target].url)
        values[f"sha256_{key}"] = ruby_string(pins[target].sha256)
    return values


def render_homebrew(manifest: Manifest, *, kind: str = "cask", layout: str = "package") -> str:
    """Dispatch for the CLI: ``kind`` and ``layout`` are checked here, not trusted."""
    checked = _check_layout(layout)
    if kind == "cask":
        return render_cask(manifest, checked)
    if kind == "formula":
        return render_formula(manifest, checked)
    raise UsageError(f"unknown Homebrew kind {kind!r} (expected cask or formula)")


def _check_layout(layout: str) -> BrewLayout:
    for known in BREW_LAYOUTS:
        if layout == known:
            return known
    raise UsageError(f"unknown layout {layout!r} (expected package, legacy or npm)")


def _stanzas(layout: str) -> _LayoutStanzas:
    return _LAYOUTS[_check_layout(layout)]

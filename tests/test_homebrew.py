"""Homebrew cask and formula renderers (SPEC §8) and the ``homebrew`` command."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from codex_install.cli import cli
from codex_install.errors import UsageError
from codex_install.homebrew import (
    archive_name,
    archive_url,
    choose_layout,
    render_cask,
    render_formula,
    render_homebrew,
)
from codex_install.manifest import (
    Manifest,
    ManifestAsset,
    build_manifest,
    load_manifest,
    render_manifest,
)
from codex_install.platforms import NPM_PLATFORMS, SUPPORTED_TARGETS

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_MANIFEST = GOLDEN / "codex-1.2.3.toml"
REPO = Path(__file__).resolve().parent.parent
RUBY = shutil.which("ruby")
needs_ruby = pytest.mark.skipif(RUBY is None, reason="ruby is not installed")

GITHUB_RENDERS = [
    ("cask", "package", "cask-package.rb"),
    ("cask", "legacy", "cask-legacy.rb"),
    ("formula", "package", "formula-package.rb"),
    ("formula", "legacy", "formula-legacy.rb"),
]
NPM_RENDERS = [("cask", "npm", "cask-npm.rb"), ("formula", "npm", "formula-npm.rb")]
RENDERS = GITHUB_RENDERS + NPM_RENDERS
NPM_URL = "https://registry.npmjs.org/@openai/codex/-"
_NPM_HEX = {t: d * 32 for t, d in zip(SUPPORTED_TARGETS, ("1a", "2b", "3c", "4d"), strict=True)}
PLATFORMS = {
    "macos-arm": "aarch64-apple-darwin",
    "macos-intel": "x86_64-apple-darwin",
    "linux-arm": "aarch64-unknown-linux-musl",
    "linux-intel": "x86_64-unknown-linux-musl",
}

# Stand-ins for Homebrew's DSLs: evaluate a rendered file once per platform and print, as JSON,
# what each platform would download and install. Catches wrong interpolation, not just syntax.
CASK_STUB = r"""
require "json"

class LivecheckStub
  attr_reader :out
  def initialize; @out = {}; end
  def url(value); @out["url"] = value.to_s; end
  def regex(value); @out["regex"] = value.source; end
  def strategy(value); @out["strategy"] = value.to_s; end
end

class CaskStub
  attr_reader :out
  def initialize(os, cpu); @os = os; @cpu = cpu; @out = {}; end
  def arch(arm: nil, intel: nil)
    return @arch if arm.nil?
    @arch = @cpu == :arm ? arm : intel
  end
  def os(macos: nil, linux: nil)
    return @os_name if macos.nil?
    @os_name = @os == :macos ? macos : linux
  end
  def version(value = nil)
    return @version if value.nil?
    @version = value
  end
  def sha256(value = nil, arm: nil, intel: nil, arm64_linux: nil, x86_64_linux: nil)
    keys = { "macos-arm" => arm, "macos-intel" => intel,
             "linux-arm" => arm64_linux, "linux-intel" => x86_64_linux }
    raise "sha256 set twice" if @out.key?("sha256")
    @out["sha256"] = value || keys.fetch("#{@os}-#{@cpu}")
  end
  def on_macos; yield if @os == :macos; end
  def on_linux; yield if @os == :linux; end
  def on_arm; yield if @cpu == :arm; end
  def on_intel; yield if @cpu == :intel; end
  def url(value, verified: nil)
    raise "url set twice" if @out.key?("url")
    raise "verified: #{verified} is not part of #{value}" if verified && !value.include?(verified)
    @out["url"] = value
    @out["verified"] = verified if verified
  end
  def name(value); @out["name"] = value; end
  def desc(value); @out["desc"] = value; end
  def homepage(value); @out["homepage"] = value; end
  def livecheck(&block)
    stub = LivecheckStub.new
    stub.instance_eval(&block)
    @out["livecheck"] = stub.out
  end
  def depends_on(**kw); (@out["depends_on"] ||= []) << kw; end
  def binary(source, target: nil); @out["binary"] = [source, target]; end
  def generate_completions_from_executable(*args, **kw); @out["completions"] = [args, kw]; end
  def zap(**kw); @out["zap"] = kw; end
end

$results = {}
def cask(token, &block)
  [[:macos, :arm], [:macos, :intel], [:linux, :arm], [:linux, :intel]].each do |os, cpu|
    stub = CaskStub.new(os, cpu)
    stub.instance_eval(&block)
    $results["#{os}-#{cpu}"] = stub.out.merge("token" => token, "version" => stub.version)
  end
end

load ARGV.fetch(0)
puts JSON.generate($results)
"""

FORMULA_STUB = r"""
require "json"

module OS
  def self.mac?; $os == :macos; end
end
module Hardware
  module CPU
    def self.arm?; $cpu == :arm; end
  end
end

class PathStub
  def initialize(name); @name = name; end
  def /(other); "#{@name}/#{other}"; end
  def to_s; @name; end
  def install(*args); $out["installs"] << [@name, *args]; end
  def install_symlink(*args); $out["symlinks"] << [@name, *args]; end
end

class Formula
  class << self
    %w[desc homepage license url sha256].each do |key|
      define_method(key) { |value| $out[key] = value }
    end
    def version(value = nil)
      return $out["version"] if value.nil?
      $out["version"] = value
    end
    def livecheck(&block); $out["livecheck"] = true; end
    def depends_on(value); $out["depends_on"] << value; end
    def on_macos; yield if $os == :macos; end
    def on_linux; yield if $os == :linux; end
    def on_arm; yield if $cpu == :arm; end
    def on_intel; yield if $cpu == :intel; end
    def test(&block); $out["test_block"] = block; end
  end

  def libexec; PathStub.new("libexec"); end
  def bin; PathStub.new("bin"); end
  def version; self.class.version; end
  def generate_completions_from_executable(*args, **kw); $out["completions"] = [args, kw]; end
  def shell_output(command); $out["ran"] = command; "codex-cli #{version}\n"; end
  def assert_match(expected, actual)
    raise "#{actual.inspect} does not match #{expected.inspect}" unless actual.include?(expected)
    $out["asserted"] = expected
  end
end

$VERBOSE = nil  # the same class body is loaded once per platform
results = {}
[[:macos, :arm], [:macos, :intel], [:linux, :arm], [:linux, :intel]].each do |os, cpu|
  $os, $cpu = os, cpu
  $out = { "installs" => [], "symlinks" => [], "depends_on" => [] }
  load ARGV.fetch(0)
  formula = Object.const_get("Codex").new
  Dir.chdir(ARGV.fetch(1)) { formula.install }
  formula.instance_eval(&$out.delete("test_block"))
  results["#{os}-#{cpu}"] = $out
end
puts JSON.generate(results)
"""


@pytest.fixture(scope="module")
def manifest() -> Manifest:
    return load_manifest(GOLDEN_MANIFEST)


def npm_manifest() -> Manifest:
    """The four npm platform tarballs of 1.2.3 (obviously fake, well-formed digests)."""
    assets = []
    for i, target in enumerate(SUPPORTED_TARGETS):
        name = f"codex-1.2.3-{NPM_PLATFORMS[target]}.tgz"
        assets.append(
            ManifestAsset(
                target=target,
                layout="package",
                name=name,
                url=f"{NPM_URL}/{name}",
                size=2000 + i,
                sha256=_NPM_HEX[target],
                integrity="sha512-" + "B" * 86 + "==",
                npm_spec=f"@openai/codex@1.2.3-{NPM_PLATFORMS[target]}",
            )
        )
    return build_manifest("1.2.3", assets)


def manifest_for(layout: str) -> Manifest:
    return npm_manifest() if layout == "npm" else load_manifest(GOLDEN_MANIFEST)


def _evaluate(
    stub: str, rendered: Path, tmp_path: Path, files: tuple[str, ...] = ()
) -> dict[str, Any]:
    assert RUBY is not None
    script = tmp_path / "stub.rb"
    script.write_text(stub, encoding="utf-8")
    workdir = tmp_path / "stage"
    workdir.mkdir()
    for name in files:  # what Homebrew would have unpacked, as empty files
        (workdir / name).parent.mkdir(parents=True, exist_ok=True)
        (workdir / name).touch()
    done = subprocess.run(
        [RUBY, str(script), str(rendered), str(workdir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize(("kind", "layout", "golden"), RENDERS)
def test_render_matches_the_golden_file(kind: str, layout: str, golden: str) -> None:
    manifest = manifest_for(layout)
    text = render_homebrew(manifest, kind=kind, layout=layout)
    if os.environ.get("UPDATE_GOLDEN"):
        (GOLDEN / golden).write_text(text, encoding="utf-8")
    assert text == (GOLDEN / golden).read_text(encoding="utf-8")
    assert render_homebrew(manifest, kind=kind, layout=layout) == text


@needs_ruby
@pytest.mark.parametrize("golden", [golden for _, _, golden in RENDERS])
def test_ruby_accepts_the_rendered_file(golden: str) -> None:
    assert RUBY is not None
    done = subprocess.run(
        [RUBY, "-c", str(GOLDEN / golden)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Syntax OK"


@needs_ruby
@pytest.mark.parametrize("layout", ["package", "legacy"])
def test_cask_downloads_the_pinned_archive_on_every_platform(
    manifest: Manifest, layout: str, tmp_path: Path
) -> None:
    rendered = GOLDEN / f"cask-{layout}.rb"
    results = _evaluate(CASK_STUB, rendered, tmp_path)
    assert sorted(results) == sorted(PLATFORMS)
    for platform, target in PLATFORMS.items():
        got = results[platform]
        pinned = manifest.asset_named(
            archive_name(target, "package" if layout == "package" else "legacy")
        )
        assert pinned is not None
        assert got["token"] == "codex"
        assert got["version"] == "1.2.3"
        assert got["url"] == pinned.url == archive_url("1.2.3", target, pinned.layout)
        assert got["sha256"] == pinned.sha256
        assert got["name"] == "Codex"
        assert got["homepage"] == "https://github.com/openai/codex"
        assert got["zap"] == {"rmdir": "~/.codex"}
        if layout == "package":
            assert got["binary"] == ["bin/codex", None]
            assert got["completions"] == [["bin/codex", "completion"], {"base_name": "codex"}]
            assert "depends_on" not in got
        else:
            assert got["binary"] == [f"codex-{target}", "codex"]
            assert got["completions"] == [[f"codex-{target}", "completion"], {"base_name": "codex"}]
            assert got["depends_on"] == [{"formula": "ripgrep"}]
        livecheck = got["livecheck"]
        assert (livecheck["url"], livecheck["strategy"]) == ("url", "github_latest")
        tag_re = re.compile(livecheck["regex"], re.IGNORECASE)
        match = tag_re.match("rust-v0.169.0")
        assert match is not None and match.group(1) == "0.169.0"
        assert tag_re.match("rust-v0.170.0-alpha.1") is None


@needs_ruby
@pytest.mark.parametrize("layout", ["package", "legacy"])
def test_formula_installs_codex_on_every_platform(
    manifest: Manifest, layout: str, tmp_path: Path
) -> None:
    results = _evaluate(FORMULA_STUB, GOLDEN / f"formula-{layout}.rb", tmp_path)
    assert sorted(results) == sorted(PLATFORMS)
    for platform, target in PLATFORMS.items():
        got = results[platform]
        pinned = manifest.asset_named(
            archive_name(target, "package" if layout == "package" else "legacy")
        )
        assert pinned is not None
        assert (got["url"], got["sha256"]) == (pinned.url, pinned.sha256)
        assert (got["version"], got["license"]) == ("1.2.3", "Apache-2.0")
        assert got["completions"] == [["bin/codex", "completion"], {}]
        assert got["ran"] == "bin/codex --version"
        assert got["asserted"] == "codex-cli 1.2.3"
        if layout == "package":
            assert got["installs"] == [["libexec", []]]
            assert got["symlinks"] == [["bin", "libexec/bin/codex"]]
            assert got["depends_on"] == []
        else:
            assert got["installs"] == [["bin", {f"codex-{target}": "codex"}]]
            assert got["depends_on"] == ["ripgrep"]


@needs_ruby
def test_npm_cask_downloads_each_platform_tarball_and_links_its_vendored_binary(
    tmp_path: Path,
) -> None:
    manifest = npm_manifest()
    results = _evaluate(CASK_STUB, GOLDEN / "cask-npm.rb", tmp_path)
    assert sorted(results) == sorted(PLATFORMS)
    for platform, target in PLATFORMS.items():
        got = results[platform]
        pinned = manifest.assets_for(target)[0]
        assert (got["token"], got["version"]) == ("codex", "1.2.3")
        assert got["url"] == pinned.url == archive_url("1.2.3", target, "npm")
        assert got["sha256"] == pinned.sha256
        executable = f"package/vendor/{target}/bin/codex"
        assert got["binary"] == [executable, "codex"]
        assert got["completions"] == [[executable, "completion"], {"base_name": "codex"}]
        assert got["livecheck"]["url"] == "homepage"
        assert got["livecheck"]["strategy"] == "github_latest"
        assert got["zap"] == {"rmdir": "~/.codex"}
        assert "depends_on" not in got


@needs_ruby
def test_npm_formula_installs_the_vendored_package_of_its_own_platform(tmp_path: Path) -> None:
    manifest = npm_manifest()
    # Homebrew runs `install` inside the tarball's package/ directory.
    unpacked = tuple(
        f"vendor/{t}/{f}" for t in SUPPORTED_TARGETS for f in ("bin/codex", "codex-package.json")
    )
    results = _evaluate(FORMULA_STUB, GOLDEN / "formula-npm.rb", tmp_path, unpacked)
    for platform, target in PLATFORMS.items():
        got = results[platform]
        pinned = manifest.assets_for(target)[0]
        assert (got["url"], got["sha256"]) == (pinned.url, pinned.sha256)
        assert got["installs"] == [
            ["libexec", [f"vendor/{target}/bin", f"vendor/{target}/codex-package.json"]]
        ]
        assert got["symlinks"] == [["bin", "libexec/bin/codex"]]
        assert got["asserted"] == "codex-cli 1.2.3"
        assert got["depends_on"] == []


@pytest.mark.parametrize(("kind", "layout", "golden"), RENDERS)
def test_rendered_files_name_no_host_but_github_and_npm(
    kind: str, layout: str, golden: str
) -> None:
    text = (GOLDEN / golden).read_text(encoding="utf-8")
    hosts = {"github.com", "registry.npmjs.org"} if layout == "npm" else {"github.com"}
    assert set(re.findall(r"https?://([^/\"]+)", text)) == hosts


def test_cask_has_every_stanza_of_the_spec(manifest: Manifest) -> None:
    cask = render_cask(manifest)
    for stanza in [
        'cask "codex" do',
        'arch arm: "aarch64", intel: "x86_64"',
        'os macos: "apple-darwin", linux: "unknown-linux-musl"',
        'version "1.2.3"',
        "sha256 arm:",
        "intel:",
        "arm64_linux:",
        "x86_64_linux:",
        'url "https://github.com/openai/codex/releases/download/rust-v#{version}/'
        'codex-package-#{arch}-#{os}.tar.gz"',
        'name "Codex"',
        "desc ",
        'homepage "https://github.com/openai/codex"',
        "livecheck do",
        "strategy :github_latest",
        'binary "bin/codex"',
        'generate_completions_from_executable "bin/codex", "completion"',
        'zap rmdir: "~/.codex"',
    ]:
        assert stanza in cask


# --- manifests Homebrew cannot use ---


def _without(manifest: Manifest, name: str) -> Manifest:
    return replace(manifest, assets=tuple(a for a in manifest.assets if a.name != name))


@pytest.mark.parametrize("layout", ["package", "legacy"])
@pytest.mark.parametrize("kind", ["cask", "formula"])
def test_missing_target_is_a_usage_error_naming_the_archive(
    manifest: Manifest, kind: str, layout: str
) -> None:
    missing = archive_name("x86_64-apple-darwin", "package" if layout == "package" else "legacy")
    with pytest.raises(UsageError) as info:
        render_homebrew(_without(manifest, missing), kind=kind, layout=layout)
    assert info.value.exit_code == 2
    assert str(info.value).startswith(
        f"cannot render the Homebrew {kind} for Codex 1.2.3 ({layout} layout): "
        f"the manifest has no {missing}"
    )


def test_every_missing_archive_is_named_at_once(manifest: Manifest) -> None:
    legacy_only = replace(
        manifest, assets=tuple(a for a in manifest.assets if a.layout == "legacy")
    )
    with pytest.raises(UsageError) as info:
        render_cask(legacy_only, "package")
    names = ", ".join(archive_name(t, "package") for t in SUPPORTED_TARGETS)
    assert f"the manifest has no {names}" in str(info.value)


def test_zstd_only_package_archives_are_not_enough(manifest: Manifest) -> None:
    zst = tuple(
        replace(a, name=a.name.replace(".tar.gz", ".tar.zst"))
        for a in manifest.assets
        if a.layout == "package" and not a.is_npm
    )
    with pytest.raises(UsageError, match="the manifest has no codex-package-aarch64-apple"):
        render_cask(replace(manifest, assets=zst))


def test_npm_only_manifest_rendered_as_package_points_to_the_npm_layout() -> None:
    with pytest.raises(UsageError, match=r"has no codex-package-.*render it with --layout npm"):
        render_formula(npm_manifest())


def test_npm_layout_needs_the_npm_tarball_of_every_target(manifest: Manifest) -> None:
    with pytest.raises(UsageError) as info:
        render_cask(manifest, "npm")  # it pins only linux-x64's tarball
    assert str(info.value) == (
        "cannot render the Homebrew cask for Codex 1.2.3 (npm layout): the manifest has no "
        "codex-1.2.3-darwin-arm64.tgz, codex-1.2.3-darwin-x64.tgz, codex-1.2.3-linux-arm64.tgz "
        "(generate the manifest with --source npm)"
    )


def test_layout_is_package_unless_only_npm_tarballs_are_pinned(manifest: Manifest) -> None:
    assert choose_layout(manifest, None) == ("package", None)
    assert choose_layout(manifest, "legacy") == ("legacy", None)
    layout, why = choose_layout(npm_manifest(), None)
    assert layout == "npm" and why is not None and "pins npm tarballs" in why
    assert choose_layout(npm_manifest(), "package") == ("package", None)
    both = build_manifest("1.2.3", manifest.assets + npm_manifest().assets)
    assert choose_layout(both, None) == ("package", None)


def test_invalid_manifest_is_refused(manifest: Manifest) -> None:
    bad = replace(manifest, assets=(replace(manifest.assets[0], sha256="0" * 10),))
    with pytest.raises(UsageError, match="sha256 must be 64 lower-case hex digits"):
        render_cask(bad)


@pytest.mark.parametrize(
    ("kind", "layout", "message"),
    [("bottle", "package", "unknown Homebrew kind 'bottle'"), ("cask", "flat", "unknown layout")],
)
def test_unknown_kind_or_layout_is_a_usage_error(
    manifest: Manifest, kind: str, layout: str, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        render_homebrew(manifest, kind=kind, layout=layout)


def test_prerelease_versions_render(manifest: Manifest) -> None:
    pre = build_manifest(
        "1.3.0-alpha.2",
        [
            replace(a, url=a.url.replace("rust-v1.2.3", "rust-v1.3.0-alpha.2") if a.url else None)
            for a in manifest.assets
        ],
    )
    assert 'version "1.3.0-alpha.2"' in render_cask(pre)
    assert "rust-v1.3.0-alpha.2/codex-package-x86_64" in render_formula(pre)


# --- the command ---


def test_cli_prints_the_cask_on_stdout() -> None:
    result = CliRunner().invoke(cli, ["homebrew", "--manifest", str(GOLDEN_MANIFEST)])
    assert result.exit_code == 0, result.output
    assert result.stdout == (GOLDEN / "cask-package.rb").read_text(encoding="utf-8")


@pytest.mark.parametrize(("kind", "layout", "golden"), RENDERS)
def test_cli_writes_the_output_file_atomically(
    tmp_path: Path, kind: str, layout: str, golden: str
) -> None:
    source = tmp_path / "codex-1.2.3.toml"
    source.write_text(render_manifest(manifest_for(layout)), encoding="utf-8")
    out = tmp_path / "codex.rb"
    out.write_text("old", encoding="utf-8")
    args = ["--manifest", str(source), "--output", str(out), "--kind", kind]
    result = CliRunner().invoke(cli, ["homebrew", *args, "--layout", layout])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert f"wrote {out}" in result.stderr
    assert out.read_text(encoding="utf-8") == (GOLDEN / golden).read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["codex-1.2.3.toml", "codex.rb"]


@pytest.mark.parametrize("kind", ["cask", "formula"])
def test_cli_picks_the_npm_layout_for_an_npm_only_manifest_and_says_so(
    tmp_path: Path, kind: str
) -> None:
    source = tmp_path / "codex-1.2.3.toml"
    source.write_text(render_manifest(npm_manifest()), encoding="utf-8")
    result = CliRunner().invoke(cli, ["homebrew", "--manifest", str(source), "--kind", kind])
    assert result.exit_code == 0, result.output
    assert result.stdout == (GOLDEN / f"{kind}-npm.rb").read_text(encoding="utf-8")
    assert result.stderr == (
        "codex-install: the manifest for Codex 1.2.3 pins npm tarballs, not the GitHub package "
        "archives: rendering the npm layout (registry.npmjs.org urls)\n"
    )


def test_cli_package_layout_of_an_npm_only_manifest_exits_2_with_the_way_out(
    tmp_path: Path,
) -> None:
    source = tmp_path / "codex-1.2.3.toml"
    source.write_text(render_manifest(npm_manifest()), encoding="utf-8")
    result = CliRunner().invoke(cli, ["homebrew", "--manifest", str(source), "--layout", "package"])
    assert result.exit_code == 2
    assert result.stderr.endswith(
        "(it pins the npm tarballs of every target: render it with --layout npm)\n"
    )


def test_cli_missing_manifest_file_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["homebrew", "--manifest", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert result.stderr.startswith("codex-install: error: cannot read manifest ")
    assert result.stderr.count("\n") == 1


def test_cli_bad_manifest_exits_2_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "codex-1.2.3.toml"
    bad.write_text(GOLDEN_MANIFEST.read_text().replace("schema = 1", "schema = 7"))
    result = CliRunner().invoke(cli, ["homebrew", "--manifest", str(bad)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"codex-install: error: manifest {bad}: unsupported manifest schema 7; this "
        "codex-install reads schema 1 (a newer codex-install may read it)\n"
    )


def test_cli_manifest_missing_a_target_exits_2_and_writes_nothing(
    tmp_path: Path, manifest: Manifest
) -> None:
    partial = tmp_path / "codex-1.2.3.toml"
    partial.write_text(
        render_manifest(_without(manifest, "codex-package-aarch64-unknown-linux-musl.tar.gz"))
    )
    out = tmp_path / "codex.rb"
    result = CliRunner().invoke(cli, ["homebrew", "--manifest", str(partial), "--output", str(out)])
    assert result.exit_code == 2
    assert "has no codex-package-aarch64-unknown-linux-musl.tar.gz" in result.stderr
    assert not out.exists()


def test_cli_rejects_an_unknown_kind() -> None:
    result = CliRunner().invoke(
        cli, ["homebrew", "--manifest", str(GOLDEN_MANIFEST), "--kind", "bottle"]
    )
    assert result.exit_code == 2
    assert "'bottle' is not one of 'cask', 'formula'" in result.stderr


def test_committed_cask_is_rendered_from_a_committed_manifest() -> None:
    cask = REPO / "homebrew" / "codex.rb"
    assert cask.exists(), "homebrew/codex.rb must be committed (issue 5)"
    version = re.search(r'^  version "([^"]+)"$', cask.read_text(encoding="utf-8"), re.M)
    assert version is not None
    manifest = load_manifest(REPO / "manifests" / f"codex-{version.group(1)}.toml")
    layout, _ = choose_layout(manifest, None)
    assert cask.read_text(encoding="utf-8") == render_cask(manifest, layout)
    if RUBY is not None:
        done = subprocess.run([RUBY, "-c", str(cask)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr


# --- what homebrew-cask itself ships ---

# The stanzas of homebrew-cask's own Casks/c/codex.rb (0.141.0), in its order. It installs the
# legacy single binary, hence depends_on ripgrep; the package layout brings its own rg.
UPSTREAM_STANZAS = [
    "arch",
    "os",
    "version",
    "sha256",
    "url",
    "name",
    "desc",
    "homepage",
    "livecheck",
    "depends_on",
    "binary",
    "generate_completions_from_executable",
    "zap",
]
UPSTREAM_LINES = [
    "    url :url",
    "    regex(/^rust-v?(\\d+(?:\\.\\d+)+)$/i)",
    "    strategy :github_latest",
    'zap rmdir: "~/.codex"',
    'depends_on formula: "ripgrep"',
]


def _stanzas(cask: str) -> list[str]:
    found = [m.group(1) for m in re.finditer(r"(?m)^  ([a-z_0-9]+)\b", cask)]
    return [name for name in found if name != "end"]


@pytest.mark.parametrize("layout", ["legacy", "package"])
def test_the_github_cask_has_upstreams_stanzas_in_upstreams_order(
    manifest: Manifest, layout: str
) -> None:
    cask = render_cask(manifest, layout)
    want = [s for s in UPSTREAM_STANZAS if layout == "legacy" or s != "depends_on"]
    assert _stanzas(cask) == want
    for line in UPSTREAM_LINES:
        if layout == "legacy" or "ripgrep" not in line:
            assert line in cask


def test_a_mirror_manifest_renders_the_mirror_urls_with_verified(manifest: Manifest) -> None:
    mirror = "https://mirror.example.org/codex/releases/1.2.3"
    moved = replace(
        manifest,
        assets=tuple(replace(a, url=f"{mirror}/{a.name}") if a.url else a for a in manifest.assets),
    )
    for text in (render_cask(moved, "package"), render_formula(moved, "package")):
        assert "github.com/openai/codex/releases" not in text
        for target in SUPPORTED_TARGETS:
            assert f'"{mirror}/codex-package-{target}.tar.gz"' in text
    assert 'verified: "mirror.example.org/codex/releases/1.2.3/"' in render_cask(moved)
    assert "verified:" not in render_cask(manifest)  # github.com is the homepage's host
    assert "url :homepage" in render_formula(moved) and "url :stable" in render_formula(manifest)

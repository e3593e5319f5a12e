"""The npm source: registry discovery (pure, table-tested), packument selection (pure), and
installs/resolves through the CLI against a fake npm registry on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import socket
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from builders import TARGET, gz, package_release, sha256
from codex_install.cli import cli
from codex_install.errors import NetworkError, NotFoundError, UsageError, VerificationError
from codex_install.netpolicy import RetryPolicy
from codex_install.sources import npm
from codex_install.sources.npm import (
    Layer,
    Registry,
    authorization_for,
    discover,
    env_layer,
    expand_env,
    parse_npm_config_output,
    parse_npmrc,
    resolver_factory,
    select_from_packument,
)
from codex_install.versions import VersionSpec
from servers.fake_http import FakeHTTPServer

REPO = "openai/codex"
PLATFORM = "linux-x64"
PACKUMENT = "/npm/@openai%2fcodex"
SECRET = "npm_SuperSecretRegistryToken42"


# --- a fake npm registry -------------------------------------------------------------------


def _add(tf: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, 499_162_500  # npm's fixed 1985 date
    tf.addfile(info, io.BytesIO(data))


def npm_tarball(version: str, target: str = TARGET, platform: str = PLATFORM,
                *, script: bytes | None = None) -> bytes:
    """A platform package in the real shape: no directory entries, everything under
    ``package/``, the Codex package layout under ``package/vendor/<T>/``."""
    vendor = f"package/vendor/{target}"
    pkg = {"layoutVersion": 1, "version": version, "target": target, "variant": "codex",
           "entrypoint": "bin/codex", "resourcesDir": "codex-resources", "pathDir": "codex-path"}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        _add(tf, f"{vendor}/codex-resources/bwrap", b"#!/bin/sh\n", 0o755)
        _add(tf, f"{vendor}/bin/codex",
             script or f'#!/bin/sh\necho "codex-cli {version}"\n'.encode(), 0o755)
        _add(tf, f"{vendor}/bin/codex-code-mode-host", b"#!/bin/sh\nexit 0\n", 0o755)
        _add(tf, f"{vendor}/codex-path/rg", b"#!/bin/sh\necho rg\n", 0o755)
        _add(tf, f"{vendor}/codex-package.json", json.dumps(pkg).encode())
        _add(tf, "package/package.json", json.dumps(
            {"name": "@openai/codex", "version": f"{version}-{platform}", "files": ["vendor"]}
        ).encode())
        _add(tf, "package/README.md", b"# Codex\n")
    return gz(buf.getvalue())


def sri512(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


class FakeRegistry:
    """Packument + tarballs on a FakeHTTPServer under ``/npm/``, in the registry's shape."""

    def __init__(self, server: FakeHTTPServer, tarball_host: FakeHTTPServer | None = None):
        self.server = server
        self.tarball_host = tarball_host or server
        self.versions: dict[str, Any] = {}
        self.dist_tags: dict[str, str] = {}
        self.tarballs: dict[str, bytes] = {}

    @property
    def url(self) -> str:
        return self.server.url + "/npm/"

    def tarball_path(self, full_version: str) -> str:
        return f"/npm/@openai/codex/-/codex-{full_version}.tgz"

    def publish(self, version: str, platforms: tuple[str, ...] = (PLATFORM,), *,
                latest: bool = True, integrity: str | None = "sha512", script: bytes | None = None
                ) -> FakeRegistry:
        self.versions[version] = {"name": "@openai/codex", "version": version, "dist": {
            "tarball": f"{self.url}@openai/codex/-/codex-{version}.tgz"}}
        for platform in platforms:
            target = {"linux-x64": TARGET, "linux-arm64": "aarch64-unknown-linux-musl",
                      "darwin-arm64": "aarch64-apple-darwin"}[platform]
            full = f"{version}-{platform}"
            data = npm_tarball(version, target, platform, script=script)
            self.tarballs[full] = data
            path = self.tarball_path(full)
            self.tarball_host.add(path, data, Content_Type="application/octet-stream")
            dist: dict[str, Any] = {"tarball": self.tarball_host.url + path,
                                    "shasum": hashlib.sha1(data).hexdigest()}
            if integrity == "sha512":
                dist["integrity"] = sri512(data)
            elif integrity is not None:
                dist["integrity"] = integrity
            self.versions[full] = {"name": "@openai/codex", "version": full, "dist": dist}
        if latest:
            self.dist_tags["latest"] = version
        return self.serve()

    def packument(self) -> dict[str, Any]:
        return {"name": "@openai/codex", "dist-tags": self.dist_tags, "versions": self.versions}

    def serve(self) -> FakeRegistry:
        self.server.add(PACKUMENT, json.dumps(self.packument()),
                        Content_Type="application/vnd.npm.install-v1+json")
        return self


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return int(port)


# --- CLI helpers ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The project .npmrc is looked up from the working directory."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RetryPolicy, "delay", lambda self, attempt, retry_after=None: 0.0)


@pytest.fixture
def registry(server: FakeHTTPServer) -> FakeRegistry:
    return FakeRegistry(server)


@pytest.fixture
def npm_env(env: dict[str, str], registry: FakeRegistry) -> dict[str, str]:
    return {**env, "NPM_CONFIG_REGISTRY": registry.url}


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), obj={"env": env}, catch_exceptions=False)


def install(env: dict[str, str], *args: str) -> Result:
    return run(env, "install", "--no-login", "--target", TARGET, *args)


def codex_version(env: dict[str, str]) -> str:
    link = Path(env["CODEX_INSTALL_DIR"]) / "codex"
    return subprocess.run([str(link), "--version"], capture_output=True, text=True,
                          check=True).stdout.strip()


def releases(env: dict[str, str]) -> list[str]:
    root = Path(env["CODEX_HOME"]) / "packages/standalone/releases"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


# --- discovery: .npmrc parsing and ${ENV} expansion ----------------------------------------


@pytest.mark.parametrize(
    ("text", "env", "want"),
    [
        ("${TOKEN}", {"TOKEN": "abc"}, "abc"),
        ("a${TOKEN}b", {"TOKEN": "x"}, "axb"),
        ("${UNSET}", {}, "${UNSET}"),  # npm leaves an unset reference as it is
        ("${UNSET?}", {}, ""),  # ...unless it carries the ? modifier
        ("${SET?}", {"SET": "v"}, "v"),
        ("\\${TOKEN}", {"TOKEN": "abc"}, "${TOKEN}"),  # escaped
        ("\\\\${TOKEN}", {"TOKEN": "abc"}, "\\abc"),  # escaped backslash, then expanded
        ("$TOKEN", {"TOKEN": "abc"}, "$TOKEN"),  # only the braced form
    ],
)
def test_env_references_expand_as_npm_expands_them(text, env, want):
    assert expand_env(text, env) == want


def test_npmrc_parsing_follows_the_ini_rules_npm_uses():
    text = "\n".join([
        "; a comment",
        "# another",
        "registry = https://one.example/npm/ ; trailing comment",
        "registry=https://two.example/",  # a later duplicate wins
        'quoted = "a;b#c"',
        "single = 'x y'",
        "escaped = a\\;b",
        "//two.example/:_authToken=${NPM_TOKEN}",
        "ca[]=first",
        "flag",
        "[section]",
        "registry=https://in-a-section.example/",
    ])
    values = parse_npmrc(text, {"NPM_TOKEN": "tok"})
    assert values == {
        "registry": "https://two.example/",
        "quoted": "a;b#c",
        "single": "x y",
        "escaped": "a;b",
        "//two.example/:_authToken": "tok",
        "flag": "true",
    }


def test_environment_layer_maps_npm_config_variables():
    env = {"NPM_CONFIG_REGISTRY": "https://upper/", "npm_config_registry": "https://lower/",
           "npm_config_@openai:registry": "https://scoped/", "NPM_CONFIG_STRICT_SSL": "false",
           "npm_config_cache": "", "PATH": "/bin"}
    assert env_layer(env) == {"registry": "https://lower/", "@openai:registry": "https://scoped/",
                              "strict-ssl": "false"}


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("registry=https://r.example/\n@openai:registry=undefined\n",
         {"registry": "https://r.example/"}),
        ("registry=https://r.example/\n@openai:registry=https://s.example/\n",
         {"registry": "https://r.example/", "@openai:registry": "https://s.example/"}),
        ("https://old-npm.example/\n", {"registry": "https://old-npm.example/"}),
        ("", {}),
        (None, {}),
    ],
)
def test_npm_config_get_output_is_parsed(text, want):
    assert parse_npm_config_output(text) == want


# --- discovery order -----------------------------------------------------------------------

FLAG = "https://flag.example/"
ENV_REG = "https://env.example/"
PROJECT = "https://project.example/"
USER = "https://user.example/"
SCOPED = "https://scoped.example/"
NPM_OUT = "registry=https://npm-config.example/\n@openai:registry=undefined\n"


@pytest.mark.parametrize(
    ("flag", "env", "project", "user", "npm_output", "want_url", "want_origin"),
    [
        # the flag beats everything, even a scoped registry
        (FLAG, {"NPM_CONFIG_REGISTRY": ENV_REG}, f"registry={PROJECT}",
         f"@openai:registry={SCOPED}", NPM_OUT, FLAG, "--npm-registry"),
        # environment beats both .npmrc files and npm
        (None, {"NPM_CONFIG_REGISTRY": ENV_REG}, f"registry={PROJECT}", f"registry={USER}",
         NPM_OUT, ENV_REG, "registry in the environment"),
        (None, {"npm_config_registry": ENV_REG}, None, None, None, ENV_REG,
         "registry in the environment"),
        # project .npmrc beats the user's
        (None, {}, f"registry={PROJECT}", f"registry={USER}", NPM_OUT, PROJECT,
         "registry in the project .npmrc"),
        (None, {}, None, f"registry={USER}", NPM_OUT, USER, "registry in the user .npmrc"),
        # a scoped registry anywhere beats a plain registry anywhere, as in npm
        (None, {"NPM_CONFIG_REGISTRY": ENV_REG}, None, f"@openai:registry={SCOPED}", None,
         SCOPED, "@openai:registry in the user .npmrc"),
        (None, {}, f"registry={PROJECT}", None,
         f"registry={USER}\n@openai:registry={SCOPED}\n", SCOPED,
         "@openai:registry in `npm config get`"),
        # other scopes are not ours
        (None, {}, None, f"@other:registry={SCOPED}\nregistry={USER}", None, USER,
         "registry in the user .npmrc"),
        # npm config get is the last resort
        (None, {}, None, None, NPM_OUT, "https://npm-config.example/",
         "registry in `npm config get`"),
        # a registry without the trailing slash gets one
        (None, {}, None, "registry=https://user.example/sub", None, "https://user.example/sub/",
         "registry in the user .npmrc"),
        # ${ENV} in an .npmrc value
        (None, {"REG": "https://expanded.example/"}, None, "registry=${REG}", None,
         "https://expanded.example/", "registry in the user .npmrc"),
    ],
)
def test_discovery_order(flag, env, project, user, npm_output, want_url, want_origin):
    found = discover(flag, env, project, user, npm_output)
    assert found is not None
    assert (found.url, found.origin) == (want_url, want_origin)


def test_nothing_configured_is_none():
    assert discover(None, {"HOME": "/h"}, "", "; nothing\n", None) is None


def test_a_registry_that_is_not_a_url_is_a_usage_error():
    with pytest.raises(UsageError, match=r"user \.npmrc"):
        discover(None, {}, None, "registry=${UNSET_REGISTRY}", None)


@pytest.mark.parametrize(
    ("registry_url", "npmrc", "want"),
    [
        ("https://r.example/", "//r.example/:_authToken=t1", "Bearer t1"),
        # the most specific path wins; the walk goes up to the host
        ("https://r.example/api/npm/repo/",
         "//r.example/:_authToken=host\n//r.example/api/npm/repo/:_authToken=repo",
         "Bearer repo"),
        ("https://r.example/api/npm/repo/", "//r.example/api/:_authToken=api", "Bearer api"),
        ("https://r.example/", "//other.example/:_authToken=t", None),
        ("https://r.example:8443/", "//r.example/:_authToken=t", None),  # port is part of it
        ("https://r.example:8443/", "//r.example:8443/:_authToken=t", "Bearer t"),
        ("https://r.example/", "//r.example/:_auth=dXNlcjpwYXNz", "Basic dXNlcjpwYXNz"),
        ("https://r.example/", "//r.example/:_authToken=${NPM_TOKEN}", "Bearer from-env"),
    ],
)
def test_auth_token_lookup_walks_the_registry_path(registry_url, npmrc, want):
    layers = [Layer("user", parse_npmrc(npmrc, {"NPM_TOKEN": "from-env"}))]
    assert authorization_for(registry_url, layers) == want


def test_credentials_in_the_registry_url_stay_out_of_messages():
    reg = Registry(url="https://user:pw@r.example/npm/", origin="test")
    assert reg.display == "https://r.example/npm/"
    layers = [Layer("user", {"//r.example/npm/:_authToken": "t"})]
    assert authorization_for(reg.url, layers) == "Bearer t"
    with pytest.raises(NetworkError) as err:
        select_from_packument([], VersionSpec(None), TARGET, reg)
    assert "pw" not in str(err.value)


def test_discovered_token_is_kept_out_of_repr():
    found = discover(None, {}, None, f"registry={USER}\n//user.example/:_authToken={SECRET}",
                     None)
    assert found is not None and found.authorization == f"Bearer {SECRET}"
    assert SECRET not in repr(found)


def test_token_for_the_flag_registry_comes_from_npmrc():
    found = discover(FLAG, {}, None, f"//flag.example/:_authToken={SECRET}", None)
    assert found is not None and found.authorization == f"Bearer {SECRET}"


# --- discovery I/O edge: files, npm, laziness ----------------------------------------------


class FakeNpm:
    def __init__(self, output: str | None) -> None:
        self.output = output
        self.calls: list[tuple[list[str], Path, float]] = []

    def __call__(self, argv, env, cwd, timeout):
        self.calls.append((list(argv), cwd, timeout))
        return self.output


def test_factory_is_none_without_registry_or_npm(tmp_path):
    fake = FakeNpm(NPM_OUT)
    made = resolver_factory({"HOME": str(tmp_path)}, None, cwd=tmp_path, runner=fake,
                            which=lambda _n, _p: None)
    assert made is None
    assert fake.calls == []


def test_npm_config_get_runs_only_when_the_npm_source_is_used(tmp_path, server, registry):
    registry.publish("0.169.0")
    fake = FakeNpm(f"registry={registry.url}\n@openai:registry=undefined\n")
    made = resolver_factory({"HOME": str(tmp_path), "PATH": "/x"}, None, cwd=tmp_path,
                            runner=fake, which=lambda name, path: f"{path}/{name}")
    assert made is not None
    with httpx.Client() as client:
        resolve = made(client)
        assert fake.calls == []  # not on a GitHub install
        sel = resolve(VersionSpec(None), TARGET)
    assert fake.calls == [(["/x/npm", "config", "get", "registry", "@openai:registry"],
                           tmp_path, npm.NPM_TIMEOUT)]
    assert sel.version == "0.169.0"
    assert sel.archive.url == server.url + registry.tarball_path("0.169.0-linux-x64")


def test_npm_that_prints_nothing_is_a_usage_error_when_used(tmp_path):
    made = resolver_factory({"HOME": str(tmp_path)}, None, cwd=tmp_path, runner=FakeNpm(None),
                            which=lambda _n, _p: "/bin/npm")
    assert made is not None
    with httpx.Client() as client, pytest.raises(UsageError, match="--npm-registry"):
        made(client)(VersionSpec(None), TARGET)


def test_project_npmrc_is_found_at_the_npm_project_root(tmp_path):
    project = tmp_path / "proj"
    (project / "src" / "deep").mkdir(parents=True)
    (project / "package.json").write_text("{}")
    (project / ".npmrc").write_text(f"registry={PROJECT}\n")
    home = tmp_path / "home"
    home.mkdir()
    (home / ".npmrc").write_text(f"registry={USER}\n")
    proj_text, user_text = npm.read_npmrc_files({"HOME": str(home)}, project / "src" / "deep")
    assert discover(None, {}, proj_text, user_text, None).url == PROJECT  # type: ignore[union-attr]


def test_user_npmrc_location_follows_npm_config_userconfig(tmp_path):
    custom = tmp_path / "custom-npmrc"
    custom.write_text(f"registry={USER}\n")
    env = {"HOME": str(tmp_path / "nohome"), "NPM_CONFIG_USERCONFIG": str(custom)}
    _, user_text = npm.read_npmrc_files(env, tmp_path)
    assert user_text == f"registry={USER}\n"


def test_a_bad_registry_setting_does_not_break_github_installs(env, server, home):
    (home / ".npmrc").write_text("registry=not a url\n")
    package_release("0.169.0").publish_github(server)
    assert install(env, "--version", "0.169.0").exit_code == 0
    result = install(env, "--version", "0.169.0", "--force", "--source", "npm")
    assert result.exit_code == 2
    assert "not an http(s) URL" in result.stderr


def test_run_npm_times_out_quietly(tmp_path):
    script = tmp_path / "npm"
    script.write_text("#!/bin/sh\nexec sleep 5\n")
    script.chmod(0o755)
    assert npm.run_npm([str(script)], {"PATH": os.environ["PATH"]}, tmp_path, 0.2) is None


# --- packument → selection (pure) ----------------------------------------------------------

REG = Registry(url="https://registry.example/", origin="test")


def packument(**versions: dict[str, Any]) -> dict[str, Any]:
    return {"name": "@openai/codex", "dist-tags": {"latest": "0.169.0"}, "versions": versions}


def dist(data: bytes = b"tgz", **extra: Any) -> dict[str, Any]:
    return {"dist": {"tarball": "https://registry.example/@openai/codex/-/codex-0.169.0-linux-x64.tgz",
                     "integrity": sri512(data), "shasum": hashlib.sha1(data).hexdigest(),
                     **extra}}


def test_latest_comes_from_dist_tags_and_picks_the_platform_version():
    data = packument(**{"0.169.0": dist(), "0.169.0-linux-x64": dist(),
                        "0.170.0-alpha.1-linux-x64": dist()})
    choice = select_from_packument(data, VersionSpec(None), TARGET, REG)
    sel = choice.selection
    assert (sel.version, sel.target, sel.layout, sel.source) == ("0.169.0", TARGET, "package",
                                                                  "npm")
    assert sel.archive.name == "codex-0.169.0-linux-x64.tgz"
    assert sel.archive.size is None
    assert sel.integrity == sri512(b"tgz")
    assert sel.npm_subdir == f"package/vendor/{TARGET}/"
    assert sel.extra["npm_spec"] == "@openai/codex@0.169.0-linux-x64"
    assert choice.notices == ()


def test_pinned_prerelease_version_is_looked_up_with_the_platform_suffix():
    data = packument(**{"0.170.0-alpha.1-darwin-arm64": dist()})
    sel = select_from_packument(data, VersionSpec("0.170.0-alpha.1"), "aarch64-apple-darwin",
                                REG).selection
    assert sel.version == "0.170.0-alpha.1"
    assert sel.npm_subdir == "package/vendor/aarch64-apple-darwin/"


def test_unpacked_size_is_not_taken_for_the_download_size():
    data = packument(**{"0.169.0-linux-x64": dist(unpackedSize=400_000_000, fileCount=40)})
    assert select_from_packument(data, VersionSpec(None), TARGET, REG).selection.archive.size \
        is None


def test_missing_platform_version_names_the_version_it_looked_for():
    data = packument(**{"0.169.0": dist(), "0.169.0-darwin-arm64": dist()})
    with pytest.raises(NotFoundError, match=r"@openai/codex@0\.169\.0-linux-x64 not found"):
        select_from_packument(data, VersionSpec(None), TARGET, REG)
    with pytest.raises(NotFoundError, match=r"codex 9\.9\.9 is not published there at all"):
        select_from_packument(data, VersionSpec("9.9.9"), TARGET, REG)


def test_glibc_target_has_no_npm_build():
    with pytest.raises(NotFoundError, match="holds x86_64-unknown-linux-musl"):
        select_from_packument(packument(), VersionSpec(None), "x86_64-unknown-linux-gnu", REG)


def test_integrity_with_several_hashes_uses_sha512():
    sri = "sha1-" + base64.b64encode(hashlib.sha1(b"tgz").digest()).decode() + " " + sri512(b"tgz")
    data = packument(**{"0.169.0-linux-x64": dist(integrity=sri)})
    choice = select_from_packument(data, VersionSpec(None), TARGET, REG)
    assert choice.selection.integrity == sri512(b"tgz") and choice.notices == ()


def test_shasum_is_the_fallback_only_without_integrity_and_says_so():
    entry = dist()
    del entry["dist"]["integrity"]
    choice = select_from_packument(packument(**{"0.169.0-linux-x64": entry}), VersionSpec(None),
                                   TARGET, REG)
    expected = "sha1-" + base64.b64encode(hashlib.sha1(b"tgz").digest()).decode()
    assert choice.selection.integrity == expected
    assert len(choice.notices) == 1 and "sha1" in choice.notices[0]


def test_no_digest_at_all_is_refused():
    entry = {"dist": {"tarball": "https://registry.example/x.tgz"}}
    with pytest.raises(VerificationError, match="unverified"):
        select_from_packument(packument(**{"0.169.0-linux-x64": entry}), VersionSpec(None),
                              TARGET, REG)


def test_relative_tarball_url_resolves_against_the_registry():
    entry = dist(tarball="@openai/codex/-/codex-0.169.0-linux-x64.tgz")
    sel = select_from_packument(packument(**{"0.169.0-linux-x64": entry}), VersionSpec(None),
                                TARGET, REG).selection
    assert sel.archive.url == "https://registry.example/@openai/codex/-/codex-0.169.0-linux-x64.tgz"


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([], "not a JSON object"),
        ({"dist-tags": {"latest": "0.169.0"}}, "no versions object"),
        ({"versions": {}}, "no dist-tags.latest"),
        ({"dist-tags": {"latest": "next"}, "versions": {}}, "dist-tags.latest is 'next'"),
        (packument(**{"0.169.0-linux-x64": {"dist": "x"}}), "has no dist object"),
        (packument(**{"0.169.0-linux-x64": {"dist": {"integrity": "x"}}}), "no dist.tarball"),
        (packument(**{"0.169.0-linux-x64": dist(tarball="file:///etc/passwd")}),
         "not an http"),
        (packument(**{"0.169.0-linux-x64": dist(integrity="sha512-!!!")}), "bad integrity"),
        (packument(**{"0.169.0-linux-x64": dist(integrity="sha512-AAAA")}), "length"),
    ],
)
def test_malformed_packument_is_a_network_error(data, problem):
    with pytest.raises(NetworkError, match=problem):
        select_from_packument(data, VersionSpec(None), TARGET, REG)


# --- installs through the CLI --------------------------------------------------------------


def test_latest_installs_from_npm_via_dist_tags(npm_env, server, registry):
    registry.publish("0.168.0", latest=False).publish("0.169.0")
    result = install(npm_env, "--source", "npm", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["version"], data["source"], data["layout"]) == ("0.169.0", "npm", "package")
    assert data["fell_back_from"] is None
    assert codex_version(npm_env) == "codex-cli 0.169.0"
    release = Path(data["paths"]["release"])
    assert (release / "codex-path" / "rg").is_file()
    assert (release / "codex-resources" / "bwrap").is_file()
    assert json.loads((release / "codex-package.json").read_text())["target"] == TARGET
    assert not (release / "package.json").exists()  # only package/vendor/<T>/ is installed
    packuments = server.requests_to(PACKUMENT)
    assert len(packuments) == 1
    assert packuments[0].headers["accept"].startswith("application/vnd.npm.install-v1+json")
    assert [r.path for r in server.log if r.path.endswith(".tgz")] == [
        registry.tarball_path("0.169.0-linux-x64")
    ]
    assert not any(r.path.startswith("/repos/") for r in server.log)


def test_pinned_version_installs_from_npm(npm_env, registry):
    registry.publish("0.168.0", latest=False).publish("0.169.0")
    result = install(npm_env, "--source", "npm", "--version", "v0.168.0")
    assert result.exit_code == 0, result.output
    assert codex_version(npm_env) == "codex-cli 0.168.0"


def test_registry_flag_and_scoped_registry_in_user_npmrc(env, server, home, registry):
    registry.publish("0.169.0")
    (home / ".npmrc").write_text(
        "registry=http://127.0.0.1:1/unused/\n"
        f"@openai:registry={registry.url}\n"
    )
    assert install(env, "--source", "npm").exit_code == 0
    (home / ".npmrc").write_text("@openai:registry=http://127.0.0.1:1/unused/\n")
    result = install(env, "--source", "npm", "--npm-registry", registry.url, "--force")
    assert result.exit_code == 0, result.output
    assert len(server.requests_to(PACKUMENT)) == 2


def test_integrity_mismatch_exits_5_and_installs_nothing(npm_env, registry):
    registry.publish("0.169.0", integrity=sri512(b"something else"))
    result = install(npm_env, "--source", "npm")
    assert result.exit_code == 5, result.output
    assert "integrity mismatch" in result.stderr
    assert releases(npm_env) == []
    assert not (Path(npm_env["CODEX_INSTALL_DIR"]) / "codex").exists()
    assert "Traceback" not in result.output


def test_sha1_fallback_installs_and_says_so(npm_env, registry):
    registry.publish("0.169.0", integrity=None)
    result = install(npm_env, "--source", "npm")
    assert result.exit_code == 0, result.output
    assert "sha1 shasum" in result.stderr
    assert codex_version(npm_env) == "codex-cli 0.169.0"


def test_sha1_fallback_still_catches_a_corrupted_tarball(npm_env, server, registry):
    registry.publish("0.169.0", integrity=None)
    server.fault(registry.tarball_path("0.169.0-linux-x64"), "flip:40")
    assert install(npm_env, "--source", "npm").exit_code == 5
    assert releases(npm_env) == []


def test_missing_platform_version_exits_3_naming_it(npm_env, registry):
    registry.publish("0.169.0", platforms=("darwin-arm64",))
    result = install(npm_env, "--source", "npm")
    assert result.exit_code == 3
    assert "@openai/codex@0.169.0-linux-x64 not found" in result.stderr


def test_malformed_packument_exits_4_without_traceback(npm_env, server):
    server.add(PACKUMENT, "<html>proxy login</html>")
    result = install(npm_env, "--source", "npm")
    assert result.exit_code == 4
    assert "malformed @openai/codex metadata" in result.stderr
    assert "Traceback" not in result.output


def test_transient_registry_errors_are_retried(npm_env, server, registry, fast_retries):
    registry.publish("0.169.0")
    server.fault(PACKUMENT, "503", "429:0")
    assert install(npm_env, "--source", "npm").exit_code == 0
    assert len(server.requests_to(PACKUMENT)) == 3


def test_unreachable_registry_exits_4(env, fast_retries):
    env = {**env, "NPM_CONFIG_REGISTRY": f"http://127.0.0.1:{closed_port()}/"}
    result = install(env, "--source", "npm")
    assert result.exit_code == 4
    assert "cannot fetch @openai/codex from the npm registry" in result.stderr


def test_sha256_pin_is_checked_on_top_of_the_integrity(npm_env, registry):
    registry.publish("0.169.0")
    assert install(npm_env, "--source", "npm", "--sha256", "d" * 64).exit_code == 5
    assert releases(npm_env) == []
    good = sha256(registry.tarballs["0.169.0-linux-x64"])
    assert install(npm_env, "--source", "npm", "--sha256", good).exit_code == 0


def test_unknown_package_on_registry_exits_3(npm_env):
    result = install(npm_env, "--source", "npm")
    assert result.exit_code == 3
    assert "not found on the npm registry" in result.stderr


def test_auth_token_goes_to_the_registry_and_is_never_printed(env, server, home, registry):
    registry.publish("0.169.0")
    (home / ".npmrc").write_text(
        f"registry={registry.url}\n//127.0.0.1:{server.port}/npm/:_authToken=${{NPM_TOKEN}}\n"
    )
    env = {**env, "NPM_TOKEN": SECRET}
    result = install(env, "--source", "npm", "--json", "--verbose")
    assert result.exit_code == 0, result.output
    assert server.requests_to(PACKUMENT)[0].headers["authorization"] == f"Bearer {SECRET}"
    tgz = server.requests_to(registry.tarball_path("0.169.0-linux-x64"))
    assert tgz[0].headers["authorization"] == f"Bearer {SECRET}"
    assert SECRET not in result.output
    resolved = run(env, "resolve", "--source", "npm", "--target", TARGET, "--json")
    assert resolved.exit_code == 0 and SECRET not in resolved.output


def test_refused_token_is_reported_without_printing_it(env, server, home):
    server.add(PACKUMENT, '{"error": "unauthorized"}', status=401)
    (home / ".npmrc").write_text(
        f"registry={server.url}/npm/\n//127.0.0.1:{server.port}/:_authToken={SECRET}\n"
    )
    result = install(env, "--source", "npm")
    assert result.exit_code == 4
    assert "credentials were refused" in result.stderr
    assert SECRET not in result.output


def test_auth_token_is_not_sent_to_a_tarball_on_another_host(env, server, home):
    cdn = FakeHTTPServer().start()
    try:
        registry = FakeRegistry(server, tarball_host=cdn).publish("0.169.0")
        (home / ".npmrc").write_text(
            f"registry={registry.url}\n//127.0.0.1:{server.port}/:_authToken={SECRET}\n"
        )
        result = install(env, "--source", "npm")
        assert result.exit_code == 0, result.output
        assert server.requests_to(PACKUMENT)[0].headers["authorization"] == f"Bearer {SECRET}"
        assert cdn.log and all("authorization" not in r.headers for r in cdn.log)
    finally:
        cdn.stop()


def test_auth_token_is_dropped_when_the_registry_redirects_elsewhere(env, server, home):
    cdn = FakeHTTPServer().start()
    try:
        registry = FakeRegistry(server).publish("0.169.0")
        full = "0.169.0-linux-x64"
        cdn.add("/blob.tgz", registry.tarballs[full])
        server.redirect(registry.tarball_path(full), cdn.url + "/blob.tgz")
        (home / ".npmrc").write_text(
            f"registry={registry.url}\n//127.0.0.1:{server.port}/:_authToken={SECRET}\n"
        )
        assert install(env, "--source", "npm").exit_code == 0
        assert server.requests_to(registry.tarball_path(full))[0].headers["authorization"]
        assert "authorization" not in cdn.requests_to("/blob.tgz")[0].headers
    finally:
        cdn.stop()


# --- --source auto -------------------------------------------------------------------------


def test_auto_falls_back_to_npm_when_github_refuses_connections(npm_env, registry,
                                                                 fast_retries):
    registry.publish("0.169.0")
    env = {**npm_env, "GITHUB_API_URL": f"http://127.0.0.1:{closed_port()}"}
    result = install(env, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["source"], data["fell_back_from"]) == ("npm", "github")
    fallback_lines = [ln for ln in result.stderr.splitlines() if "falling back" in ln]
    assert len(fallback_lines) == 1 and "npm" in fallback_lines[0]
    assert codex_version(env) == "codex-cli 0.169.0"


def test_no_fallback_on_a_github_404(npm_env, server, registry):
    registry.publish("0.169.0")
    result = install(npm_env, "--version", "0.169.0")
    assert result.exit_code == 3
    assert "not found" in result.stderr
    assert server.requests_to(PACKUMENT) == []


def test_no_fallback_on_a_github_digest_mismatch(npm_env, server, registry):
    registry.publish("0.169.0")
    rel = package_release("0.169.0")
    rel.digests[f"codex-package-{TARGET}.tar.zst"] = "sha256:" + "0" * 64
    rel.publish_github(server)
    assert install(npm_env, "--version", "0.169.0").exit_code == 5
    assert server.requests_to(PACKUMENT) == []


def test_unreachable_github_without_any_npm_registry_is_exit_4(env, fast_retries):
    env = {**env, "GITHUB_API_URL": f"http://127.0.0.1:{closed_port()}", "PATH": "/nonexistent"}
    result = install(env, "--version", "0.169.0")
    assert result.exit_code == 4
    assert "falling back" not in result.stderr


# --- resolve -------------------------------------------------------------------------------


def resolve_json(env: dict[str, str], *args: str) -> dict[str, Any]:
    result = run(env, "resolve", "--target", TARGET, "--json", *args)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def no_archive_downloaded(server: FakeHTTPServer) -> bool:
    return not any(r.path.endswith((".tgz", ".tar.gz", ".tar.zst")) for r in server.log)


def test_resolve_json_for_github(env, server):
    rel = package_release("0.169.0")
    rel.publish_github(server)
    data = resolve_json(env, "--version", "0.169.0", "--source", "github")
    name = f"codex-package-{TARGET}.tar.zst"
    assert data == {
        "version": "0.169.0", "target": TARGET, "layout": "package", "asset": name,
        "url": f"{server.url}/{REPO}/releases/download/{rel.tag}/{name}",
        "size": len(rel.files[name]), "sha256": sha256(rel.files[name]), "integrity": None,
        "source": "github", "fell_back_from": None,
    }
    assert no_archive_downloaded(server)


def test_resolve_json_for_a_mirror(env, server):
    rel = package_release("0.169.0")
    base = rel.publish_mirror(server)
    data = resolve_json(env, "--mirror", base)
    name = f"codex-package-{TARGET}.tar.zst"
    assert (data["source"], data["asset"], data["sha256"]) == (
        "mirror", name, sha256(rel.files[name]))
    assert data["url"] == f"{server.url}/mirror/releases/0.169.0/{name}"
    assert no_archive_downloaded(server)


def test_resolve_json_for_npm(npm_env, server, registry):
    registry.publish("0.169.0")
    data = resolve_json(npm_env, "--source", "npm")
    full = "0.169.0-linux-x64"
    assert data == {
        "version": "0.169.0", "target": TARGET, "layout": "package",
        "asset": f"codex-{full}.tgz", "url": server.url + registry.tarball_path(full),
        "size": None, "sha256": None, "integrity": sri512(registry.tarballs[full]),
        "source": "npm", "fell_back_from": None,
    }
    assert no_archive_downloaded(server)


def test_resolve_falls_back_too(npm_env, registry, fast_retries):
    registry.publish("0.169.0")
    env = {**npm_env, "GITHUB_API_URL": f"http://127.0.0.1:{closed_port()}"}
    data = resolve_json(env)
    assert (data["source"], data["fell_back_from"]) == ("npm", "github")


def test_resolve_text_prints_the_integrity(npm_env, registry):
    registry.publish("0.169.0")
    result = run(npm_env, "resolve", "--source", "npm", "--target", TARGET)
    assert result.exit_code == 0, result.output
    assert f"integrity: {sri512(registry.tarballs['0.169.0-linux-x64'])}" in result.stdout


# --- --archive with an npm tarball ---------------------------------------------------------


@pytest.fixture
def npm_tgz(tmp_path: Path) -> Iterator[tuple[Path, bytes]]:
    data = npm_tarball("0.169.0")
    path = tmp_path / "codex-0.169.0-linux-x64.tgz"
    path.write_bytes(data)
    yield path, data


def test_archive_accepts_an_npm_platform_tarball(env, server, npm_tgz):
    path, data = npm_tgz
    result = install(env, "--archive", str(path), "--sha256", sha256(data), "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["source"], out["version"], out["layout"]) == ("archive", "0.169.0", "package")
    assert codex_version(env) == "codex-cli 0.169.0"
    assert (Path(out["paths"]["release"]) / "codex-path" / "rg").is_file()
    assert server.log == []  # no network at all


def test_archive_npm_tarball_with_the_wrong_sha256_exits_5(env, npm_tgz):
    path, _ = npm_tgz
    result = install(env, "--archive", str(path), "--sha256", "c" * 64)
    assert result.exit_code == 5
    assert releases(env) == []


def test_archive_npm_tarball_for_another_target_is_refused(env, tmp_path):
    data = npm_tarball("0.169.0", "aarch64-apple-darwin", "darwin-arm64")
    path = tmp_path / "codex-0.169.0-darwin-arm64.tgz"
    path.write_bytes(data)
    result = install(env, "--archive", str(path), "--sha256", sha256(data))
    assert result.exit_code == 5
    assert releases(env) == []

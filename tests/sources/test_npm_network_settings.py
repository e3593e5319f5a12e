"""npm's TLS and proxy settings (issue 15), applied the way npm applies them and only to the
registry's requests: ``cafile``/``ca`` replace the default CAs, ``strict-ssl=false`` turns
verification off (said once), ``certfile``/``keyfile`` give a client certificate,
``https-proxy``/``proxy``/``noproxy`` and the environment's proxy variables in npm's precedence."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from builders import TARGET, package_release
from cli_helpers import install as cli_install
from cli_helpers import one_line
from codex_install.http.metadata import Doc
from codex_install.http.network import Failed, Network
from codex_install.http.plan import NetworkPlan
from codex_install.sources.npm.network import registry_route
from codex_install.sources.npm.npmrc import (
    Layer,
    Setting,
    discover,
    network_for,
    npm_no_proxy,
    npm_proxy,
    parse_npmrc,
)
from servers.fake_http import FakeHTTPServer, same_path
from servers.tls import tls_server
from sources.npm_helpers import FakeRegistry, codex_version, install

URL = "https://r.example/npm/"


def network(npmrc: str, env: dict[str, str] | None = None, url: str = URL):  # type: ignore[no-untyped-def]
    return network_for(url, [Layer("the user .npmrc", parse_npmrc(npmrc, {}))], env or {})


def shown(setting: Setting | None) -> tuple[str, str] | None:
    return None if setting is None else (setting.key, setting.value)


@pytest.mark.parametrize(
    ("npmrc", "cafile", "ca"),
    [
        ("", None, None),
        ("cafile=/etc/corp.pem", ("cafile", "/etc/corp.pem"), None),
        ("ca=PEM", None, ("ca", "PEM")),
        ("ca=PEM\ncafile=/c.pem", ("cafile", "/c.pem"), None),  # npm: cafile replaces ca
        (
            "cafile=/g.pem\n//r.example/npm/:cafile=/s.pem",
            ("//r.example/npm/:cafile", "/s.pem"),
            None,
        ),
        ("cafile=/g.pem\n//r.example/:ca=PEM", None, ("//r.example/:ca", "PEM")),
        ("//other.example/:cafile=/o.pem", None, None),  # another registry's: not ours
    ],
)
def test_the_cas_npm_trusts_for_the_registry(npmrc, cafile, ca):
    found = network(npmrc)
    assert (shown(found.cafile), shown(found.ca)) == (cafile, ca)


def test_ca_arrays_are_one_bundle_and_noproxy_arrays_one_list():
    values = parse_npmrc('ca[]="A\\nB"\nca[]="C"\nnoproxy[]=a.example\nnoproxy[]=b.example\n', {})
    assert values["ca"] == "A\nB\nC"
    assert values["noproxy"] == "a.example,b.example"
    assert parse_npmrc("ca[]=A\nca=B\n", {})["ca"] == "B"  # a later plain value wins


def test_strict_ssl_and_the_client_certificate():
    found = network(
        "strict-ssl=false\n//r.example/:certfile=/c.pem\n//r.example/:keyfile=/k.pem", url=URL
    )
    assert found.unverified is not None and found.unverified.where == "the user .npmrc"
    assert (shown(found.certfile), shown(found.keyfile)) == (
        ("//r.example/:certfile", "/c.pem"),
        ("//r.example/:keyfile", "/k.pem"),
    )
    assert network("strict-ssl=true").unverified is None


@pytest.mark.parametrize(
    ("url", "npmrc", "env", "proxy"),
    [
        (URL, "", {}, None),
        (URL, "", {"HTTPS_PROXY": "http://env:1"}, "http://env:1"),
        (URL, "", {"HTTP_PROXY": "http://env:1"}, None),  # https: only HTTPS_PROXY counts
        ("http://r.example/", "", {"HTTP_PROXY": "http://env:1"}, "http://env:1"),
        (
            "http://r.example/",
            "",
            {"HTTPS_PROXY": "http://s:1", "HTTP_PROXY": "http://h:1"},
            "http://s:1",
        ),
        (URL, "proxy=http://cfg:1", {"HTTPS_PROXY": "http://env:1"}, "http://cfg:1"),
        (URL, "proxy=http://p:1\nhttps-proxy=http://s:1", {}, "http://s:1"),
        ("http://r.example/", "https-proxy=http://s:1", {}, "http://s:1"),  # for either scheme
        (URL, "proxy=false", {"HTTPS_PROXY": "http://env:1"}, "http://env:1"),
        (URL, "proxy=http://p:1", {"NO_PROXY": "r.example"}, None),
        (URL, "proxy=http://p:1\nnoproxy=other.example", {"NO_PROXY": "r.example"}, "http://p:1"),
        (URL, "proxy=http://p:1\nnoproxy=.example", {}, None),
        (URL, "proxy=http://p:1\nALL_PROXY=x", {"ALL_PROXY": "http://all:1"}, "http://p:1"),
        (URL, "", {"ALL_PROXY": "http://all:1"}, None),  # npm never reads ALL_PROXY
    ],
)
def test_the_proxy_npm_picks(url, npmrc, env, proxy):
    merged = {k: Setting(k, v, "here") for k, v in parse_npmrc(npmrc, {}).items()}
    found = npm_proxy(url, merged, env)
    assert (found.value if found else None) == proxy


@pytest.mark.parametrize(
    ("host", "noproxy", "exempt"),
    [
        ("npm.corp.example", "corp.example", True),
        ("npm.corp.example", ".corp.example", True),
        ("npm.corp.example", "npm.corp.example", True),
        ("npmcorp.example", "corp.example", False),
        ("127.0.0.1", "127.0.0.1, localhost", True),
        ("npm.corp.example", "", False),
        ("npm.corp.example", " , ", False),
    ],
)
def test_noproxy_matches_as_npm_matches(host, noproxy, exempt):
    assert npm_no_proxy(host, noproxy) is exempt


# --- through the CLI ------------------------------------------------------------------------


@pytest.fixture
def tls_registry(tmp_path: Path) -> Iterator[tuple[FakeRegistry, Path]]:
    with tls_server(tmp_path) as (server, cert):
        yield FakeRegistry(server).publish("0.169.0"), cert


def test_a_registry_with_a_private_ca_fails_without_cafile(env, home, tls_registry):
    registry, _cert = tls_registry
    (home / ".npmrc").write_text(f"registry={registry.url}\n")
    assert "certificate" in one_line(install(env, "--source", "npm"), 4).lower()


@pytest.mark.parametrize("where", ["user", "project"])
@pytest.mark.parametrize("form", ["cafile", "scoped cafile", "ca", "ca[]"])
def test_cafile_or_ca_makes_the_private_ca_trusted(env, home, tls_registry, where, form):
    registry, cert = tls_registry
    pem = json.dumps(cert.read_text())  # one quoted line with \n, as npm's docs write it
    scope = registry.url.removeprefix("https:")
    line = {
        "cafile": f"cafile={cert}",
        "scoped cafile": f"{scope}:cafile={cert}",
        "ca": f"ca={pem}",
        "ca[]": f"ca[]={pem}",
    }[form]
    npmrc = home / ".npmrc" if where == "user" else Path.cwd() / ".npmrc"
    npmrc.write_text(f"registry={registry.url}\n{line}\n")
    result = install(env, "--source", "npm")
    assert result.exit_code == 0, result.output
    assert codex_version(env) == "codex-cli 0.169.0"
    assert registry.server.count("/npm/@openai/codex/-/") == 1  # the tarball came the same way


def test_strict_ssl_false_skips_verification_and_says_so_once(env, home, tls_registry):
    registry, _cert = tls_registry
    (home / ".npmrc").write_text(f"registry={registry.url}\nstrict-ssl=false\n")
    result = install(env, "--source", "npm")
    assert result.exit_code == 0, result.output
    host = registry.server.url.removeprefix("https://")
    warnings = [line for line in result.stderr.splitlines() if "strict-ssl" in line]
    assert warnings == [
        f"warning: strict-ssl=false in the user .npmrc ({home / '.npmrc'}): "
        f"the TLS certificate of {host} is not verified"
    ]


@pytest.mark.parametrize("with_certificate", [False, True])
@pytest.mark.usefixtures("fast_retries")
def test_certfile_and_keyfile_present_a_client_certificate(env, home, tmp_path, with_certificate):
    with tls_server(tmp_path, client_certificates=True) as (server, cert):
        registry = FakeRegistry(server).publish("0.169.0")
        scope = registry.url.removeprefix("https:")
        npmrc = f"registry={registry.url}\ncafile={cert}\n"
        if with_certificate:
            npmrc += f"{scope}:certfile={cert}\n{scope}:keyfile={cert.with_name('key.pem')}\n"
        (home / ".npmrc").write_text(npmrc)
        result = install(env, "--source", "npm")
    if with_certificate:
        assert result.exit_code == 0, result.output
        assert codex_version(env) == "codex-cli 0.169.0"
    else:
        one_line(result, 4)  # the server refuses a client without one


class _ProxiedOrigin:
    """What FakeRegistry needs of a server, for an origin only a proxy serves: the proxy gets
    absolute URLs as request paths."""

    def __init__(self, proxy: FakeHTTPServer, origin: str) -> None:
        self.proxy, self.url = proxy, origin

    def add(self, path: str, body: bytes | str, **headers: str) -> None:
        self.proxy.add(self.url + path, body, **headers)


@pytest.fixture
def proxy() -> Iterator[FakeHTTPServer]:
    srv = FakeHTTPServer().start()
    try:
        yield srv
    finally:
        srv.stop()


ORIGIN = "http://registry.example.invalid"  # resolves nowhere: only the proxy reaches it


@pytest.mark.parametrize("key", ["proxy", "https-proxy", "HTTPS_PROXY", "HTTP_PROXY"])
def test_the_registry_is_reached_through_the_proxy_npm_would_use(env, home, proxy, key):
    registry = FakeRegistry(_ProxiedOrigin(proxy, ORIGIN)).publish("0.169.0")  # type: ignore[arg-type]
    npmrc = f"registry={registry.url}\n"
    if key.islower():
        npmrc += f"{key}={proxy.url}\n"
    else:
        env = {**env, key: proxy.url}
    (home / ".npmrc").write_text(npmrc)
    result = install(env, "--source", "npm")
    assert result.exit_code == 0, result.output
    asked = [same_path(r.path) for r in proxy.log]
    assert asked == [
        same_path(f"{ORIGIN}/npm/@openai%2fcodex"),
        ORIGIN + registry.tarball_path("0.169.0-linux-x64"),
    ]


def test_noproxy_sends_the_registry_direct(env, home, proxy, registry):
    registry.publish("0.169.0")
    env = {k: v for k, v in env.items() if k != "NO_PROXY"}
    (home / ".npmrc").write_text(f"registry={registry.url}\nproxy={proxy.url}\nnoproxy=127.0.0.1\n")
    assert install(env, "--source", "npm").exit_code == 0
    assert proxy.log == []
    assert registry.server.count("/npm/") == 2


def test_the_npm_proxy_never_carries_github_or_a_mirror(env, home, proxy, server):
    (home / ".npmrc").write_text(
        f"registry={ORIGIN}/npm/\nproxy={proxy.url}\nhttps-proxy={proxy.url}\n"
    )
    env = {k: v for k, v in env.items() if k != "NO_PROXY"}
    package_release("0.169.0").publish_github(server)
    assert cli_install(env, "--source", "github").exit_code == 0
    mirror = package_release("0.170.0").publish_mirror(server)
    assert cli_install(env, "--mirror", mirror, "--force").exit_code == 0
    assert proxy.log == []


HTTPS_REGISTRY = (
    "https://registry.example.invalid:9/npm/"  # never asked: each setting fails before a request
)


@pytest.mark.parametrize(
    ("npmrc", "wanted"),
    [
        ("cafile=/nonexistent/ca.pem", "cannot use the cafile set in the user .npmrc ("),
        ("cafile={garbage}", "cannot use the cafile set in the user .npmrc ("),
        ("cafile={empty}", "it holds no PEM certificate"),
        (
            'ca="-----BEGIN CERTIFICATE-----\\nnot base64\\n-----END CERTIFICATE-----"',
            "malformed PEM",
        ),
        (
            "//registry.example.invalid:9/npm/:certfile=/nonexistent/c.pem",
            "cannot load the client certificate",
        ),
        ("//registry.example.invalid:9/npm/:keyfile=/k.pem", "a keyfile needs its certfile"),
        (
            "proxy=http://user:s3cret@127.0.0.1:notaport",
            "cannot use the proxy set in the user .npmrc",
        ),
        ("https-proxy=ftp://proxy.example:21", "is not an http:// proxy URL"),
        (
            "https-proxy=socks5://127.0.0.1:1080",
            "SOCKS proxies are not supported; use an http:// proxy",
        ),
    ],
)
def test_an_unusable_setting_is_one_line_naming_it_and_its_file(env, home, tmp_path, npmrc, wanted):
    garbage = tmp_path / "garbage.pem"
    garbage.write_text(
        "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n"
    )
    empty = tmp_path / "empty.pem"
    empty.write_text("")
    line = npmrc.format(garbage=garbage, empty=empty)
    (home / ".npmrc").write_text(f"registry={HTTPS_REGISTRY}\n{line}\n")
    result = install(env, "--source", "npm")
    message = one_line(result, 2)
    assert wanted in message
    assert str(home / ".npmrc") in message or "proxy" in message
    assert "s3cret" not in result.output
    assert "pip install" not in result.output


def test_a_socks_proxy_in_the_environment_is_one_line_of_ours(env, monkeypatch):
    monkeypatch.setenv("ALL_PROXY", "socks5h://127.0.0.1:1080")
    message = one_line(cli_install(env, "--source", "github"), 2)
    assert "SOCKS proxies are not supported; use an http:// proxy" in message
    assert TARGET not in message


@pytest.fixture
def no_environment_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("https_proxy", "http_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.mark.usefixtures("no_environment_proxy")
def test_the_registry_settings_reach_the_registry_origin_only(proxy, server):
    reg = discover(None, {}, None, f"registry={ORIGIN}/npm/\nproxy={proxy.url}\n", None)
    assert reg is not None
    proxy.add(f"{ORIGIN}/npm/x", b"through the proxy")
    server.add("/other", b"direct")
    with Network(NetworkPlan()) as net:
        net.add_route(registry_route(reg, lambda _line: None))
        # both libraries: the metadata session and the byte mover
        assert net.get(Doc(f"{ORIGIN}/npm/x", "x", 100)).body == b"through the proxy"
        assert net.get(Doc(f"{server.url}/other", "o", 100)).body == b"direct"
        assert net.client().get(f"{ORIGIN}/npm/x").content == b"through the proxy"
        assert net.client().get(f"{server.url}/other").content == b"direct"
    assert [r.path for r in proxy.log] == [f"{ORIGIN}/npm/x"] * 2


@pytest.mark.usefixtures("no_environment_proxy")
def test_strict_ssl_false_is_for_the_registry_host_only(tmp_path):
    notices: list[str] = []
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with (
        tls_server(tmp_path / "a") as (registry_host, _),
        tls_server(tmp_path / "b") as (other_host, _),
    ):
        registry_host.add("/npm/x", b"unverified")
        other_host.add("/x", b"never")
        reg = discover(None, {}, None, f"registry={registry_host.url}/npm/\nstrict-ssl=false", None)
        assert reg is not None
        with Network(NetworkPlan()) as net:
            net.add_route(registry_route(reg, notices.append))
            assert net.get(Doc(f"{registry_host.url}/npm/x", "x", 100)).body == b"unverified"
            assert net.client().get(f"{registry_host.url}/npm/x").content == b"unverified"
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                net.client().get(f"{other_host.url}/x")
            with pytest.raises(Failed, match="CERTIFICATE_VERIFY_FAILED"):
                net.get(Doc(f"{other_host.url}/x", "x", 100))
    assert len(notices) == 1


# --- a proxy in the way is named: the one the request used, never another -------------------


@pytest.mark.usefixtures("fast_retries")
def test_a_dead_npmrc_proxy_is_named_in_the_error(env, home):
    dead = "http://127.0.0.1:9"  # the discard port: nothing listens
    (home / ".npmrc").write_text(f"registry={ORIGIN}/npm/\nproxy=http://u:s3cret@127.0.0.1:9\n")
    line = one_line(install(env, "--source", "npm"), 4)
    assert f"through the proxy {dead.removeprefix('http://')}" in line
    assert "s3cret" not in line


def test_a_407_from_the_npmrc_proxy_is_one_line_and_not_retried(env, home, proxy):
    proxy.add(f"{ORIGIN}/npm/@openai%2fcodex", "", 407)
    (home / ".npmrc").write_text(f"registry={ORIGIN}/npm/\nproxy={proxy.url}\n")
    line = one_line(install(env, "--source", "npm"), 4)
    assert f"the proxy {proxy.url.removeprefix('http://')} wants credentials (HTTP 407)" in line
    assert len(proxy.log) == 1

"""npm registry discovery: .npmrc parsing, ${ENV} expansion, precedence, credentials
(pure, table-tested), and its I/O edge (files, `npm config get`, laziness)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from builders import TARGET, package_release
from codex_install.errors import NetworkError, UsageError
from codex_install.http.network import Network
from codex_install.http.plan import NetworkPlan
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
from sources.npm_helpers import (
    SECRET,
    install,
)

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
    text = "\n".join(
        [
            "; a comment",
            "# another",
            "registry = https://one.example/npm/ ; trailing comment",
            "registry=https://two.example/",  # a later duplicate wins
            'quoted = "a;b#c"',
            "single = 'x y'",
            "escaped = a\\;b",
            "//two.example/:_authToken=${NPM_TOKEN}",
            "ca[]=first",
            "omit[]=dev",
            "flag",
            "[section]",
            "registry=https://in-a-section.example/",
        ]
    )
    values = parse_npmrc(text, {"NPM_TOKEN": "tok"})
    assert values == {
        "registry": "https://two.example/",
        "quoted": "a;b#c",
        "single": "x y",
        "escaped": "a;b",
        "//two.example/:_authToken": "tok",
        "ca": "first",  # an array npm applies (issue 15); other arrays are skipped
        "flag": "true",
    }


def test_environment_layer_maps_npm_config_variables():
    env = {
        "NPM_CONFIG_REGISTRY": "https://upper/",
        "npm_config_registry": "https://lower/",
        "npm_config_@openai:registry": "https://scoped/",
        "NPM_CONFIG_STRICT_SSL": "false",
        "npm_config_cache": "",
        "PATH": "/bin",
    }
    assert env_layer(env) == {
        "registry": "https://lower/",
        "@openai:registry": "https://scoped/",
        "strict-ssl": "false",
    }


@pytest.mark.parametrize(
    ("text", "want"),
    [
        (
            "registry=https://r.example/\n@openai:registry=undefined\n",
            {"registry": "https://r.example/"},
        ),
        (
            "registry=https://r.example/\n@openai:registry=https://s.example/\n",
            {"registry": "https://r.example/", "@openai:registry": "https://s.example/"},
        ),
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
        (
            FLAG,
            {"NPM_CONFIG_REGISTRY": ENV_REG},
            f"registry={PROJECT}",
            f"@openai:registry={SCOPED}",
            NPM_OUT,
            FLAG,
            "--npm-registry",
        ),
        # environment beats both .npmrc files and npm
        (
            None,
            {"NPM_CONFIG_REGISTRY": ENV_REG},
            f"registry={PROJECT}",
            f"registry={USER}",
            NPM_OUT,
            ENV_REG,
            "registry in the environment",
        ),
        (
            None,
            {"npm_config_registry": ENV_REG},
            None,
            None,
            None,
            ENV_REG,
            "registry in the environment",
        ),
        # project .npmrc beats the user's
        (
            None,
            {},
            f"registry={PROJECT}",
            f"registry={USER}",
            NPM_OUT,
            PROJECT,
            "registry in the project .npmrc",
        ),
        (None, {}, None, f"registry={USER}", NPM_OUT, USER, "registry in the user .npmrc"),
        # a scoped registry anywhere beats a plain registry anywhere, as in npm
        (
            None,
            {"NPM_CONFIG_REGISTRY": ENV_REG},
            None,
            f"@openai:registry={SCOPED}",
            None,
            SCOPED,
            "@openai:registry in the user .npmrc",
        ),
        (
            None,
            {},
            f"registry={PROJECT}",
            None,
            f"registry={USER}\n@openai:registry={SCOPED}\n",
            SCOPED,
            "@openai:registry in `npm config get`",
        ),
        # other scopes are not ours
        (
            None,
            {},
            None,
            f"@other:registry={SCOPED}\nregistry={USER}",
            None,
            USER,
            "registry in the user .npmrc",
        ),
        # npm config get is the last resort
        (
            None,
            {},
            None,
            None,
            NPM_OUT,
            "https://npm-config.example/",
            "registry in `npm config get`",
        ),
        # a registry without the trailing slash gets one
        (
            None,
            {},
            None,
            "registry=https://user.example/sub",
            None,
            "https://user.example/sub/",
            "registry in the user .npmrc",
        ),
        # ${ENV} in an .npmrc value
        (
            None,
            {"REG": "https://expanded.example/"},
            None,
            "registry=${REG}",
            None,
            "https://expanded.example/",
            "registry in the user .npmrc",
        ),
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
        (
            "https://r.example/api/npm/repo/",
            "//r.example/:_authToken=host\n//r.example/api/npm/repo/:_authToken=repo",
            "Bearer repo",
        ),
        ("https://r.example/api/npm/repo/", "//r.example/api/:_authToken=api", "Bearer api"),
        ("https://r.example/", "//other.example/:_authToken=t", None),
        ("https://r.example:8443/", "//r.example/:_authToken=t", None),  # port is part of it
        ("https://r.example:8443/", "//r.example:8443/:_authToken=t", "Bearer t"),
        ("https://r.example/", "//r.example/:_auth=dXNlcjpwYXNz", "Basic dXNlcjpwYXNz"),
        ("https://r.example/", "//r.example/:_authToken=${NPM_TOKEN}", "Bearer from-env"),
        # username + base64 _password, as `npm login` writes them for basic-auth registries
        (
            "https://r.example/npm/",
            "//r.example/npm/:username=user\n//r.example/npm/:_password=cGFzcw==",
            "Basic dXNlcjpwYXNz",
        ),
        ("https://r.example/", "//r.example/:username=user", None),  # no password: nothing
        (
            "https://r.example/",
            "//r.example/:_authToken=t\n//r.example/:username=u\n//r.example/:_password=cA==",
            "Bearer t",
        ),
    ],
)
def test_auth_token_lookup_walks_the_registry_path(registry_url, npmrc, want):
    layers = [Layer("user", parse_npmrc(npmrc, {"NPM_TOKEN": "from-env"}))]
    assert authorization_for(registry_url, layers) == want


def test_a_password_that_is_not_base64_is_a_usage_error_without_the_password():
    layers = [Layer("user", {"//r.example/:username": "u", "//r.example/:_password": "s3cr3t!"})]
    with pytest.raises(UsageError) as err:
        authorization_for("https://r.example/", layers)
    assert "is not base64" in str(err.value) and "s3cr3t!" not in str(err.value)


def test_credentials_in_the_registry_url_stay_out_of_messages():
    reg = Registry(url="https://user:pw@r.example/npm/", origin="test")
    assert reg.display == "https://r.example/npm/"
    layers = [Layer("user", {"//r.example/npm/:_authToken": "t"})]
    assert authorization_for(reg.url, layers) == "Bearer t"
    with pytest.raises(NetworkError) as err:
        select_from_packument([], VersionSpec(None), TARGET, reg)
    assert "pw" not in str(err.value)


def test_discovered_token_is_kept_out_of_repr():
    found = discover(None, {}, None, f"registry={USER}\n//user.example/:_authToken={SECRET}", None)
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
    made = resolver_factory(
        {"HOME": str(tmp_path)}, None, cwd=tmp_path, runner=fake, which=lambda _n, _p: None
    )
    assert made is None
    assert fake.calls == []


def test_npm_config_get_runs_only_when_the_npm_source_is_used(tmp_path, server, registry):
    registry.publish("0.169.0")
    fake = FakeNpm(f"registry={registry.url}\n@openai:registry=undefined\n")
    made = resolver_factory(
        {"HOME": str(tmp_path), "PATH": "/x"},
        None,
        cwd=tmp_path,
        runner=fake,
        which=lambda name, path: f"{path}/{name}",
    )
    assert made is not None
    with Network(NetworkPlan()) as client:
        resolve = made(client)
        assert fake.calls == []  # not on a GitHub install
        sel = resolve(VersionSpec(None), TARGET)
    assert fake.calls == [
        (["/x/npm", "config", "get", "registry", "@openai:registry"], tmp_path, npm.NPM_TIMEOUT)
    ]
    assert sel.version == "0.169.0"
    assert sel.archive.url == server.url + registry.tarball_path("0.169.0-linux-x64")


def test_npm_that_prints_nothing_is_a_usage_error_when_used(tmp_path):
    made = resolver_factory(
        {"HOME": str(tmp_path)},
        None,
        cwd=tmp_path,
        runner=FakeNpm(None),
        which=lambda _n, _p: "/bin/npm",
    )
    assert made is not None
    with Network(NetworkPlan()) as client, pytest.raises(UsageError, match="--npm-registry"):
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


# --- a credential that cannot be an HTTP header value (issue 13) ----------------------------

BAD_CREDENTIALS = [
    pytest.param("tok\nen", id="newline"),
    pytest.param("tok\ren", id="cr"),
    pytest.param("tok\x00en", id="nul"),
    pytest.param("токен", id="not-latin-1"),
    pytest.param("tøken", id="not-ascii"),
]


@pytest.mark.parametrize("setting", ["_authToken", "_auth", "_password"])
@pytest.mark.parametrize("bad", BAD_CREDENTIALS)
def test_a_malformed_npmrc_credential_is_exit_2_naming_it(npm_env, registry, home, setting, bad):
    registry.publish("0.169.0")
    prefix = "//" + registry.url.split("://", 1)[1]
    (home / ".npmrc").write_text(
        f"{prefix}:username=u\n{prefix}:{setting}=${{NPM_SECRET}}\n", encoding="utf-8"
    )
    result = install({**npm_env, "NPM_SECRET": bad}, "--source", "npm", "--version", "0.169.0")
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.splitlines()
    assert f"{prefix}:{setting} in the user .npmrc" in line
    assert bad not in result.output and "tok" not in result.output and "Traceback" not in line


def test_a_malformed_credential_in_the_project_npmrc_names_that_file(npm_env, registry):
    registry.publish("0.169.0")
    prefix = "//" + registry.url.split("://", 1)[1]
    env = {**npm_env, "NPM_SECRET": "abc\r\ninstalled codex 9.9.9"}
    Path(".npmrc").write_text(f"{prefix}:_authToken=${{NPM_SECRET}}\n")  # the working dir
    result = install(env, "--source", "npm", "--version", "0.169.0")
    assert result.exit_code == 2, result.output
    assert f"{prefix}:_authToken in the project .npmrc" in result.stderr
    assert "installed codex" not in result.output


def test_a_well_formed_credential_is_sent_as_it_is(npm_env, registry, home, server):
    registry.publish("0.169.0")
    prefix = "//" + registry.url.split("://", 1)[1]
    (home / ".npmrc").write_text(f"{prefix}:_authToken=npm_ok token~1\n")
    result = install(npm_env, "--source", "npm", "--version", "0.169.0")
    assert result.exit_code == 0, result.output

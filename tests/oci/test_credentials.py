"""Registry logins where docker, podman and skopeo keep them."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from codex_install.config import Settings
from codex_install.errors import UsageError
from codex_install.sources.oci.credentials import AuthFiles, Credential, lookup

HOST = "registry.example:5000"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


class Helpers:
    """Fake docker-credential-* programs: name → (status, stdout); records each call."""

    def __init__(self, answers: dict[str, tuple[int, bytes]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, bytes]] = []

    def __call__(self, argv, stdin, timeout):
        name = Path(argv[0]).name
        self.calls.append((name, stdin))
        assert argv[1:] == ["get"] and timeout > 0
        return self.answers.get(name, (127, b""))


def helper_path(tmp_path: Path, *names: str) -> str:
    """A PATH on which the named helpers exist (the fake above answers for them)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in names:
        program = bin_dir / f"docker-credential-{name}"
        program.write_text("#!/bin/sh\nexit 1\n")
        program.chmod(0o755)
    return str(bin_dir)


@pytest.mark.parametrize(
    "entry",
    [
        {"auth": b64("ci:pw:with:colons")},
        {"username": "ci", "password": "pw:with:colons"},
    ],
)
@pytest.mark.parametrize("key", [HOST, f"https://{HOST}", f"http://{HOST}/v1/"])
def test_an_auths_entry_is_found_by_host(tmp_path, entry, key):
    config = write(tmp_path / "config.json", {"auths": {key: entry, "other.example": entry}})
    found = lookup(HOST, AuthFiles((config,)))
    assert found is not None
    assert (found.username, found.secret, found.identity_token) == ("ci", "pw:with:colons", False)
    assert "pw" not in repr(found)


def test_an_identity_token_is_a_refresh_token(tmp_path):
    config = write(
        tmp_path / "c.json", {"auths": {HOST: {"auth": b64("x:y"), "identitytoken": "rt"}}}
    )
    found = lookup(HOST, AuthFiles((config,)))
    assert found == Credential("<token>", "rt", identity_token=True, origin=str(config))


def test_docker_hub_logins_are_filed_under_the_index(tmp_path):
    config = write(
        tmp_path / "c.json", {"auths": {"https://index.docker.io/v1/": {"auth": b64("a:b")}}}
    )
    assert lookup("registry-1.docker.io", AuthFiles((config,))).username == "a"


def test_the_first_file_with_a_login_wins(tmp_path):
    first = write(tmp_path / "auth.json", {"auths": {HOST: {"auth": b64("podman:1")}}})
    second = write(tmp_path / "config.json", {"auths": {HOST: {"auth": b64("docker:2")}}})
    assert lookup(HOST, AuthFiles((tmp_path / "missing.json", first, second))).username == "podman"
    empty = write(tmp_path / "empty.json", {"auths": {}})
    assert lookup(HOST, AuthFiles((empty, second))).username == "docker"
    assert lookup(HOST, AuthFiles((empty,))) is None


def test_cred_helpers_come_before_auths_and_creds_store_after(tmp_path):
    config = write(
        tmp_path / "c.json",
        {
            "credHelpers": {HOST: "pass"},
            "auths": {HOST: {"auth": b64("file:1")}, "other.example": {}},
            "credsStore": "desktop",
        },
    )
    helpers = Helpers(
        {
            "docker-credential-pass": (0, b'{"ServerURL":"x","Username":"helped","Secret":"s"}'),
            "docker-credential-desktop": (0, b'{"Username":"<token>","Secret":"idt"}'),
        }
    )
    files = AuthFiles((config,), search_path=helper_path(tmp_path, "pass", "desktop"))
    assert lookup(HOST, files, helpers) == Credential(
        "helped", "s", origin="docker-credential-pass"
    )
    assert helpers.calls == [("docker-credential-pass", HOST.encode())]
    store = lookup("other.example", files, helpers)
    assert store == Credential(
        "<token>", "idt", identity_token=True, origin="docker-credential-desktop"
    )


def test_a_helper_that_has_nothing_or_is_not_installed_means_anonymous(tmp_path):
    config = write(tmp_path / "c.json", {"credsStore": "desktop"})
    nothing = Helpers(
        {"docker-credential-desktop": (1, b"credentials not found in native keychain\n")}
    )
    assert lookup(HOST, AuthFiles((config,), helper_path(tmp_path, "desktop")), nothing) is None
    assert lookup(HOST, AuthFiles((config,), str(tmp_path / "nowhere")), nothing) is None
    assert nothing.calls == [("docker-credential-desktop", HOST.encode())]


@pytest.mark.parametrize(
    ("config", "answer", "problem"),
    [
        ({"credsStore": "../../bin/sh"}, None, "not a plain name"),
        ({"credsStore": "desktop"}, (3, b"keychain locked"), "failed"),
        ({"credsStore": "desktop"}, (0, b"not json"), "gave no login"),
        ({"auths": {HOST: {"auth": "!!!"}}}, None, "not base64"),
        ({"auths": {HOST: {"auth": b64("nocolon")}}}, None, "not base64"),
        ("{not json", None, "not valid JSON"),
        ("[]", None, "not a JSON object"),
    ],
)
def test_a_broken_login_store_is_one_usage_error(tmp_path, config, answer, problem):
    path = write(tmp_path / "c.json", config)
    helpers = Helpers({"docker-credential-desktop": answer} if answer else {})
    with pytest.raises(UsageError, match=problem) as caught:
        lookup(HOST, AuthFiles((path,), helper_path(tmp_path, "desktop")), helpers)
    assert "keychain locked" not in str(caught.value)


def test_a_credentials_file_that_is_no_regular_file_is_refused(tmp_path):
    import os

    fifo = tmp_path / "config.json"
    os.mkfifo(fifo)
    with pytest.raises(UsageError, match="not a regular file"):
        lookup(HOST, AuthFiles((fifo,)))


def test_settings_look_where_skopeo_and_docker_do(tmp_path):
    def files(env):
        env = {
            "HOME": str(tmp_path / "home"),
            "CODEX_INSTALL_MIRROR": "oci://r.example/codex",
            **env,
        }
        registry = Settings.from_env(env).sources.registry
        assert registry is not None
        return list(registry.auth_files.files)

    home_config = tmp_path / "home/.docker/config.json"
    assert files({}) == [home_config]
    assert files({"DOCKER_CONFIG": "/d"}) == [Path("/d/config.json")]
    assert files({"REGISTRY_AUTH_FILE": "/a.json", "XDG_RUNTIME_DIR": "/run/u"}) == [
        Path("/a.json"),
        home_config,
    ]
    assert files({"XDG_RUNTIME_DIR": "/run/u"}) == [
        Path("/run/u/containers/auth.json"),
        home_config,
    ]
    plain = Settings.from_env({"HOME": "/h", "CODEX_INSTALL_MIRROR": "https://m.example/c"})
    assert plain.sources.registry is None

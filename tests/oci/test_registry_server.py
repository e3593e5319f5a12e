"""Against a real registry (Debian's docker-registry on 127.0.0.1): mirror sync pushes, skopeo
reads what we pushed and copies it, and installs read it back — anonymous, htpasswd basic auth
and token auth, logins from docker's config.json, auth.json and a credential helper."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest

from builders import ALL_TARGETS, TARGET, FakeRelease, sha256
from cli_helpers import run
from oci.conftest import VERSION, as_json, full_release
from servers.fake_http import FakeHTTPServer
from servers.registry import Registry, registry, skopeo

pytestmark = pytest.mark.slow

ARCHIVE = f"codex-package-{TARGET}.tar.zst"


def sync(env: dict[str, str], reg: Registry, *extra: str, repo: str = "codex") -> dict:
    return as_json(run(env, "mirror", "sync", "--output", reg.oci(repo), "--json", *extra))


def install(env: dict[str, str], url: str, *extra: str):
    return run(env, "install", "--no-login", "--target", TARGET, "--mirror", url, *extra)


def codex_version(env: dict[str, str]) -> str:
    binary = Path(env["CODEX_INSTALL_DIR"]) / "codex"
    return subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()


def docker_login(home: Path, host: str, user: str, password: str) -> None:
    config = home / ".docker" / "config.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    config.write_text(json.dumps({"auths": {host: {"auth": auth}}}))


def one_line_error(result) -> str:
    """The one error line (progress lines may come before it)."""
    lines = [line for line in result.output.splitlines() if "error" in line.lower()]
    assert len(lines) == 1, result.output
    return lines[0]


def test_push_is_an_oci_index_skopeo_reads_and_a_runner_installs(
    env, server: FakeHTTPServer, release: FakeRelease, runner_env, tmp_path
):
    with registry(tmp_path / "reg") as reg:
        first = sync(env, reg)
        assert first["tags"] == [VERSION, "latest"]
        # The empty config, 4 archives, SUMS and the TOML manifest.
        assert first["blobs_uploaded"] == 7
        before = len(server.log)
        again = sync(env, reg)
        assert (again["blobs_uploaded"], again["blobs_present"]) == (0, 7)
        assert again["digest"] == first["digest"]
        # Nor is an archive downloaded again: the registry holds its sha256, of its size.
        fetched = [r.path for r in server.log[before:]]
        assert fetched and not [p for p in fetched if p.endswith((".tar.zst", ".tar.gz"))]

        raw = skopeo(
            "inspect", "--raw", "--tls-verify=false", f"docker://{reg.host}/codex:{VERSION}"
        )
        assert raw.returncode == 0, raw.stderr
        index = json.loads(raw.stdout)
        assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
        archives = [m for m in index["manifests"] if "platform" in m]
        assert sorted(m["annotations"]["dev.codex-install.target"] for m in archives) == sorted(
            ALL_TARGETS
        )
        platforms = {(m["platform"]["os"], m["platform"]["architecture"]) for m in archives}
        assert platforms == {
            ("darwin", "arm64"),
            ("darwin", "amd64"),
            ("linux", "amd64"),
            ("linux", "arm64"),
        }
        mine = next(m for m in archives if m["annotations"]["dev.codex-install.target"] == TARGET)
        one = skopeo(
            "inspect", "--raw", "--tls-verify=false", f"docker://{reg.host}/codex@{mine['digest']}"
        )
        layer = json.loads(one.stdout)["layers"][0]
        assert layer["annotations"]["org.opencontainers.image.title"] == ARCHIVE
        assert layer["digest"] == "sha256:" + sha256(release.files[ARCHIVE])
        assert layer["annotations"]["dev.codex-install.sha256"] == sha256(release.files[ARCHIVE])

        result = install(runner_env, reg.oci(), "--json")
        assert as_json(result)["version"] == VERSION
        assert codex_version(runner_env) == f"codex-cli {VERSION}"


def test_every_command_reads_the_registry(env, server, runner_env, tmp_path):
    full_release("0.168.0").publish_github(server, latest=False)
    full_release(VERSION).publish_github(server)
    with registry(tmp_path / "reg") as reg:
        sync(env, reg, "--version", "0.168.0", "--target", TARGET)
        older = sync(env, reg, "--version", "0.168.0", "--target", TARGET)
        assert older["tags"] == ["0.168.0", "latest"]  # nothing newer there yet
        sync(env, reg, "--target", TARGET)
        pinned_older = sync(env, reg, "--version", "0.168.0", "--target", TARGET)
        assert pinned_older["tags"] == ["0.168.0"]  # latest stays on the newer release

        runner = {**runner_env, "CODEX_INSTALL_MIRROR": reg.oci()}
        listed = as_json(run(runner, "ls-remote", "--target", TARGET, "--json"))
        assert listed["versions"] == [VERSION, "0.168.0"]
        assert as_json(run(runner, "resolve", "--target", TARGET, "--json"))["version"] == VERSION
        assert install(runner, reg.oci(), "--version", "0.168.0").exit_code == 0
        check = run(runner, "check", "--json")
        assert json.loads(check.stdout)["latest"] == VERSION, check.output
        assert run(runner, "update").exit_code == 0, "update"
        assert codex_version(runner) == f"codex-cli {VERSION}"
        out = tmp_path / "pins"
        generated = run(
            runner, "manifest", "generate", "--source", "mirror", "--target", TARGET,
            "--output", str(out), "--json",
        )  # fmt: skip
        assert generated.exit_code == 0, generated.output
        assert ARCHIVE in (out / f"codex-{VERSION}.toml").read_text()
        pinned = install(
            runner, reg.oci(), "--manifest", str(out / f"codex-{VERSION}.toml"), "--force", "--json"
        )
        assert as_json(pinned)["pinned_by"] == "manifest"
        missing = install(runner, reg.oci(), "--version", "0.100.0")
        assert missing.exit_code == 3
        assert "0.100.0" in one_line_error(missing)


def test_skopeo_copies_what_we_pushed_and_we_install_the_copy(env, release, runner_env, tmp_path):
    with registry(tmp_path / "reg") as reg:
        sync(env, reg, "--target", TARGET)
        copied = skopeo(
            "copy", "--all", "--src-tls-verify=false", "--dest-tls-verify=false",
            f"docker://{reg.host}/codex:{VERSION}", f"docker://{reg.host}/copy/codex:{VERSION}",
        )  # fmt: skip
        assert copied.returncode == 0, copied.stderr
        result = install(runner_env, reg.oci("copy/codex"), "--version", VERSION, "--json")
        assert as_json(result)["version"] == VERSION


def test_a_second_repository_mounts_the_blobs_instead_of_uploading(env, release, tmp_path):
    with registry(tmp_path / "reg") as reg:
        sync(env, reg, "--target", TARGET)
        moved = sync(env, reg, "--target", TARGET, "--mirror", reg.oci(), repo="team/codex")
        # The empty config, the archive and SUMS; the TOML manifest is new: its urls name the
        # repository the release was read from.
        assert (moved["blobs_mounted"], moved["blobs_uploaded"]) == (3, 1)
        again = sync(env, reg, "--target", TARGET, "--mirror", reg.oci(), repo="team/codex")
        assert (again["blobs_mounted"], again["blobs_uploaded"], again["blobs_present"]) == (
            0,
            0,
            4,
        )


def test_a_blob_tampered_with_in_storage_is_refused(env, release, runner_env, tmp_path):
    with registry(tmp_path / "reg") as reg:
        sync(env, reg, "--target", TARGET)
        blob = reg.blob_path("codex", "sha256:" + sha256(release.files[ARCHIVE]))
        data = bytearray(blob.read_bytes())
        data[100] ^= 0xFF
        blob.write_bytes(bytes(data))
        result = install(runner_env, reg.oci())
        assert result.exit_code == 5, result.output
        assert ARCHIVE in one_line_error(result)
        assert not (Path(runner_env["CODEX_INSTALL_DIR"]) / "codex").exists()
        assert not (Path(runner_env["CODEX_HOME"]) / "packages/standalone/current").exists()


def test_htpasswd_login_from_docker_config(env, release, runner_env, tmp_path):
    with registry(tmp_path / "reg", users={"ci": "s3cret-pw"}) as reg:
        anonymous = run(env, "mirror", "sync", "--output", reg.oci(), "--target", TARGET)
        assert anonymous.exit_code == 4
        assert f"registry {reg.host} wants credentials" in one_line_error(anonymous)
        docker_login(Path(env["HOME"]), reg.host, "ci", "s3cret-pw")
        sync(env, reg, "--target", TARGET)

        docker_login(Path(runner_env["HOME"]), reg.host, "ci", "wrong-pw")
        refused = install(runner_env, reg.oci())
        assert refused.exit_code == 4
        line = one_line_error(refused)
        assert f"registry {reg.host} refused the login" in line
        assert "wrong-pw" not in refused.output

        # DOCKER_CONFIG points elsewhere, where the right login is.
        elsewhere = tmp_path / "dockercfg"
        docker_login(elsewhere.parent / "x", reg.host, "ci", "s3cret-pw")
        (elsewhere).mkdir()
        (elsewhere / "config.json").write_bytes(
            (elsewhere.parent / "x/.docker/config.json").read_bytes()
        )
        assert install({**runner_env, "DOCKER_CONFIG": str(elsewhere)}, reg.oci()).exit_code == 0


def test_token_auth_anonymous_pull_and_pushed_with_a_login(env, release, runner_env, tmp_path):
    with registry(tmp_path / "reg", users={"ci": "tok-pw"}, token=True, anonymous_pull=True) as reg:
        assert reg.token is not None
        auth_file = tmp_path / "auth.json"
        auth = base64.b64encode(b"ci:tok-pw").decode()
        auth_file.write_text(json.dumps({"auths": {reg.host: {"auth": auth}}}))
        sync({**env, "REGISTRY_AUTH_FILE": str(auth_file)}, reg, "--target", TARGET)
        assert any(user == "ci" for _, user in reg.token.requests)
        assert all("tok-pw" not in path for path, _ in reg.token.requests)

        before = len(reg.token.requests)
        result = install(runner_env, reg.oci(), "--json")
        assert as_json(result)["version"] == VERSION
        anonymous = reg.token.requests[before:]
        assert anonymous and all(user is None for _, user in anonymous)

        wrong = tmp_path / "wrong.json"
        wrong.write_text(
            json.dumps({"auths": {reg.host: {"auth": base64.b64encode(b"ci:nope").decode()}}})
        )
        refused = install({**runner_env, "REGISTRY_AUTH_FILE": str(wrong)}, reg.oci(), "--force")
        assert refused.exit_code == 4
        assert f"registry {reg.host} refused the login" in one_line_error(refused)


def test_token_auth_login_from_a_credential_helper(env, release, runner_env, tmp_path):
    with registry(tmp_path / "reg", users={"ci": "helper-pw"}, token=True) as reg:
        bin_dir = tmp_path / "helpers"
        bin_dir.mkdir()
        helper = bin_dir / "docker-credential-testhelper"
        helper.write_text(
            "#!/bin/sh\n"
            '[ "$1" = get ] || exit 1\n'
            "read server\n"
            f'[ "$server" = "{reg.host}" ] || '
            '{ echo "credentials not found in native keychain"; exit 1; }\n'
            'echo \'{"ServerURL":"\'$server\'","Username":"ci","Secret":"helper-pw"}\'\n'
        )
        helper.chmod(0o755)
        for home in (Path(env["HOME"]), Path(runner_env["HOME"])):
            config = home / ".docker" / "config.json"
            config.parent.mkdir(parents=True, exist_ok=True)
            config.write_text(json.dumps({"credHelpers": {reg.host: "testhelper"}}))
        path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
        sync({**env, "PATH": path}, reg, "--target", TARGET)
        result = install({**runner_env, "PATH": path}, reg.oci(), "--json")
        assert as_json(result)["version"] == VERSION
        # No anonymous pull on this registry: without the helper, a clear line.
        for home in (Path(runner_env["HOME"]),):
            (home / ".docker" / "config.json").write_text(json.dumps({"credsStore": "testhelper"}))
        other = {**runner_env, "PATH": os.environ["PATH"], "CODEX_HOME": str(tmp_path / "h2")}
        refused = install(other, reg.oci())
        assert refused.exit_code == 4
        assert f"registry {reg.host} wants credentials" in one_line_error(refused)


def push_by_hand(reg: Registry, tmp_path: Path, sums_line_sha: str | None, annotated: str | None):
    """A release pushed with our own push code but lying in one place: the SUMS line for the
    archive (``sums_line_sha``) or the archive's annotated sha256 (``annotated``)."""
    from builders import package_tar, zst
    from codex_install.http.network import Network
    from codex_install.http.plan import NetworkPlan
    from codex_install.sources.oci import artifact
    from codex_install.sources.oci.credentials import RegistryConfig
    from codex_install.sources.oci.push import File, push_release
    from codex_install.sources.oci.source import connect

    archive = tmp_path / ARCHIVE
    archive.write_bytes(zst(package_tar(VERSION, TARGET)))
    real = sha256(archive.read_bytes())
    sums = tmp_path / "codex-package_SHA256SUMS"
    sums.write_text(f"{sums_line_sha or real}  {ARCHIVE}\n")
    files = [File(archive, ARCHIVE, archive.stat().st_size, real, TARGET, "package")]
    extras = [
        (File(sums, sums.name, sums.stat().st_size, sha256(sums.read_bytes())), artifact.SUMS_TYPE)
    ]
    with Network(NetworkPlan()) as net:
        client = net.client()
        registry_api = connect(client, reg.oci(), RegistryConfig())
        pushed = push_release(
            registry_api,
            VERSION,
            f"rust-v{VERSION}",
            files,
            extras,
            release_digests={},
            latest=True,
        )
        if annotated is not None:  # rewrite the archive's manifest and the index around it
            layer = artifact.Blob(
                f"sha256:{real}",
                files[0].size,
                "x",
                {artifact.TITLE: ARCHIVE, artifact.SHA256: annotated},
            )
            doc = artifact.artifact_manifest(artifact.ARCHIVE_TYPE, layer)
            registry_api.put_manifest(doc.digest, doc)
            index = artifact.parse_index(registry_api.manifest(pushed.digest, "index"), "index")
            entries = [artifact.Entry.of(doc, artifact.ARCHIVE_TYPE, TARGET, "package")]
            entries += [e for e in index.entries if e.artifact_type != artifact.ARCHIVE_TYPE]
            rewritten = artifact.index(VERSION, f"rust-v{VERSION}", entries)
            for tag in (VERSION, "latest"):
                registry_api.put_manifest(tag, rewritten)


@pytest.mark.parametrize(
    ("lie", "words"),
    [
        ({"sums_line_sha": "0" * 64, "annotated": None}, "codex-package_SHA256SUMS"),
        ({"sums_line_sha": None, "annotated": "1" * 64}, "not the sha256 annotated"),
    ],
)
def test_a_registry_release_that_disagrees_with_itself_installs_nothing(
    runner_env, tmp_path, lie, words
):
    with registry(tmp_path / "reg") as reg:
        push_by_hand(reg, tmp_path, **lie)
        result = install(runner_env, reg.oci())
        assert result.exit_code == 5, result.output
        assert words in one_line_error(result)
        assert not (Path(runner_env["CODEX_INSTALL_DIR"]) / "codex").exists()


def test_syncing_targets_one_at_a_time_keeps_the_earlier_ones(env, release, tmp_path):
    first, second = ALL_TARGETS[0], ALL_TARGETS[2]
    with registry(tmp_path / "reg") as reg:
        sync(env, reg, "--target", first)
        both = sync(env, reg, "--target", second)
        assert both["kept_targets"] == [first]
        raw = skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{reg.host}/codex:latest")
        targets = [
            m["annotations"]["dev.codex-install.target"]
            for m in json.loads(raw.stdout)["manifests"]
            if "platform" in m
        ]
        assert sorted(targets) == sorted([first, second])

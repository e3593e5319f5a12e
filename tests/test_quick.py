"""The re-run of an install that changed nothing, answered from the record the full run left
(quick.py, rerun.py): the same answer word for word, and the full CLI whenever anything the
answer was read from is different. Through the real entry point, in a child process."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from builders import TARGET, package_release
from cli_helpers import REPO
from codex_install import quick
from codex_install.sources.github import GitHubConfig, LightRefused, fetch_release_light
from codex_install.versions import parse_version
from network.hostile import hostile_server
from servers.fake_http import FakeHTTPServer

LATEST = f"/repos/{REPO}/releases/latest"
ARGS = ("install", "--no-login", "--target", TARGET, "--json")
# Runs the console script's main() and says afterwards which path answered.
ENTRY = """
import sys
sys.argv = ["codex-install", *sys.argv[2:]]
try:
    from codex_install.__main__ import main
    main()
finally:
    with open(MARK, "w") as f:
        f.write("full" if "click" in sys.modules else "quick")
"""


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str
    path: str  # "quick" or "full"

    @property
    def data(self) -> dict[str, object]:
        loaded: dict[str, object] = json.loads(self.stdout)
        return loaded

    def without_timings(self) -> dict[str, object]:
        return {k: v for k, v in self.data.items() if k != "timings"}


def entry(env: dict[str, str], *args: str, tmp: Path, prelude: str = "") -> Run:
    """One run of the console script's main(); ``prelude`` runs before it (in the child)."""
    mark = tmp / "path-taken"
    mark.unlink(missing_ok=True)
    code = f"{prelude}\nMARK = {str(mark)!r}\n" + ENTRY
    proc = subprocess.run(
        [sys.executable, "-c", code, "-", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr, mark.read_text())


@pytest.fixture
def qenv(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The test environment with a PATH dir of its own (to grow a conflicting codex in) and no
    manifest override (a record never stands for an answer read from an override dir)."""
    extra = tmp_path / "extra-bin"
    extra.mkdir()
    out = {k: v for k, v in env.items() if k != "CODEX_INSTALL_MANIFEST_DIR"}
    out["PATH"] = f"{extra}:{env['PATH']}"
    out["PYTHONDONTWRITEBYTECODE"] = "1"
    return out


def record(env: dict[str, str]) -> Path:
    return Path(quick.record_path(env))


def installed_then_recorded(
    server: FakeHTTPServer, env: dict[str, str], tmp: Path, *args: str
) -> tuple[Run, Run]:
    """A fresh install, then its first re-run (full: it leaves the record)."""
    package_release("0.170.0").publish_github(server)
    fresh = entry(env, *args, tmp=tmp)
    assert fresh.code == 0, fresh.stderr
    assert fresh.data["reused"] is False and not record(env).exists()
    first = entry(env, *args, tmp=tmp)
    assert first.code == 0 and first.path == "full" and first.data["reused"] is True
    assert record(env).exists()
    return fresh, first


def test_the_rerun_is_the_same_answer_from_one_304(
    server: FakeHTTPServer, qenv: dict[str, str], tmp_path: Path
) -> None:
    _, first = installed_then_recorded(server, qenv, tmp_path, *ARGS)
    before = len(server.requests_to(LATEST))
    again = entry(qenv, *ARGS, tmp=tmp_path)
    assert again.code == 0 and again.path == "quick"
    assert again.stderr == first.stderr
    assert "is already installed; nothing to download" in again.stderr
    assert again.without_timings() == first.without_timings()
    assert set(again.data["timings"]) == set(first.data["timings"])  # type: ignore[arg-type]
    sent = server.requests_to(LATEST)[before:]
    assert len(sent) == 1 and sent[0].headers["if-none-match"]
    # And again: the record still stands, as it was.
    assert entry(qenv, *ARGS, tmp=tmp_path).path == "quick"
    assert record(qenv).stat().st_mode & 0o777 == 0o600


def test_a_pinned_rerun_sends_no_request(
    server: FakeHTTPServer, qenv: dict[str, str], tmp_path: Path
) -> None:
    args = (*ARGS, "--version", "0.170.0")
    _, first = installed_then_recorded(server, qenv, tmp_path, *args)
    before = server.count()
    again = entry(qenv, *args, tmp=tmp_path)
    assert again.path == "quick" and again.stderr == first.stderr
    assert again.without_timings() == first.without_timings()
    assert server.count() == before


def test_quiet_and_plain_text_reruns(
    server: FakeHTTPServer, qenv: dict[str, str], tmp_path: Path
) -> None:
    args = ("install", "--no-login", "--target", TARGET, "-q")
    installed_then_recorded_text(server, qenv, tmp_path, args)
    again = entry(qenv, *args, tmp=tmp_path)
    assert again.path == "quick" and again.code == 0
    assert again.stdout == "" and again.stderr == ""


def installed_then_recorded_text(
    server: FakeHTTPServer, env: dict[str, str], tmp: Path, args: tuple[str, ...]
) -> None:
    package_release("0.170.0").publish_github(server)
    for _ in range(2):
        assert entry(env, *args, tmp=tmp).code == 0
    assert record(env).exists()


def _new_release(server: FakeHTTPServer, env: dict[str, str], tmp: Path) -> str:
    package_release("0.171.0").publish_github(server)
    return "0.171.0"


def _damaged_release(server: FakeHTTPServer, env: dict[str, str], tmp: Path) -> str:
    release = Path(env["CODEX_HOME"]) / f"packages/standalone/releases/0.170.0-{TARGET}"
    (release / "bin" / "codex").unlink()
    return "0.170.0"


def _relinked_current(server: FakeHTTPServer, env: dict[str, str], tmp: Path) -> str:
    current = Path(env["CODEX_HOME"]) / "packages/standalone/current"
    target = os.readlink(current)
    current.unlink()
    current.symlink_to(target)
    return "0.170.0"


def _conflict_on_path(server: FakeHTTPServer, env: dict[str, str], tmp: Path) -> str:
    other = tmp / "extra-bin" / "codex"
    other.write_text("#!/bin/sh\necho codex-cli 0.1.0\n")
    other.chmod(0o755)
    return "0.170.0"


def _signed_in(server: FakeHTTPServer, env: dict[str, str], tmp: Path) -> str:
    (Path(env["CODEX_HOME"]) / "auth.json").write_text('{"OPENAI_API_KEY": "sk-test-key"}')
    return "0.170.0"


def _record_garbage(server: FakeHTTPServer, env: dict[str, str], tmp: Path) -> str:
    record(env).write_bytes(b"\x00{not json")
    return "0.170.0"


def _record_wrong_shape(server: FakeHTTPServer, env: dict[str, str], tmp: Path) -> str:
    data = json.loads(record(env).read_text())
    data["stderr"] = [1, 2]
    record(env).write_text(json.dumps(data))
    return "0.170.0"


def _record_huge(server: FakeHTTPServer, env: dict[str, str], tmp: Path) -> str:
    record(env).write_text(" " * (quick.RECORD_CAP + 10) + "{}")
    return "0.170.0"


def _record_a_link(server: FakeHTTPServer, env: dict[str, str], tmp: Path) -> str:
    real = tmp / "elsewhere.json"
    real.write_text(record(env).read_text())
    record(env).unlink()
    record(env).symlink_to(real)
    return "0.170.0"


def _record_a_dir(server: FakeHTTPServer, env: dict[str, str], tmp: Path) -> str:
    record(env).unlink()
    record(env).mkdir()
    return "0.170.0"


def _server_error(server: FakeHTTPServer, env: dict[str, str], tmp: Path) -> str:
    server.fault(LATEST, "500")
    return "0.170.0"


CHANGES: dict[str, Callable[[FakeHTTPServer, dict[str, str], Path], str]] = {
    "a newer release": _new_release,
    "a file gone from the release": _damaged_release,
    "current made again": _relinked_current,
    "another codex on PATH": _conflict_on_path,
    "signed in since": _signed_in,
    "record: garbage": _record_garbage,
    "record: wrong shape": _record_wrong_shape,
    "record: over its cap": _record_huge,
    "record: a symlink": _record_a_link,
    "record: a directory": _record_a_dir,
    "the API answers 500 once": _server_error,
}


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(c, marks=pytest.mark.slow) if c == "the API answers 500 once" else c
        for c in CHANGES
    ],
)
def test_anything_changed_gets_the_full_answer(
    server: FakeHTTPServer, qenv: dict[str, str], tmp_path: Path, change: str
) -> None:
    installed_then_recorded(server, qenv, tmp_path, *ARGS)
    version = CHANGES[change](server, qenv, tmp_path)
    again = entry(qenv, *ARGS, tmp=tmp_path)
    assert again.path == "full", change
    assert again.code == 0, again.stderr
    assert "Traceback" not in again.stderr
    assert again.data["version"] == version
    if change == "a file gone from the release":
        assert again.data["reused"] is False
    if change == "another codex on PATH":
        assert "another codex at" in again.stderr
    if change == "signed in since":
        assert again.data["sign_in"]["signed_in"] is True  # type: ignore[index]
        assert not record(qenv).exists()  # a sign-in state is nothing a record vouches for


@pytest.mark.parametrize(
    "differs",
    [
        lambda env: ({**env, "SOME_NEW_VARIABLE": "1"}, ARGS),
        lambda env: (env, ARGS[:-1]),  # no --json
        lambda env: (env, (*ARGS, "--verbose")),
    ],
    ids=["environment", "argv without --json", "argv with --verbose"],
)
def test_another_invocation_gets_the_full_answer(
    server: FakeHTTPServer,
    qenv: dict[str, str],
    tmp_path: Path,
    differs: Callable[[dict[str, str]], tuple[dict[str, str], tuple[str, ...]]],
) -> None:
    installed_then_recorded(server, qenv, tmp_path, *ARGS)
    env, args = differs(qenv)
    assert entry(env, *args, tmp=tmp_path).path == "full"


@pytest.mark.slow
def test_a_held_lock_is_waited_for_by_the_full_cli(
    server: FakeHTTPServer, qenv: dict[str, str], tmp_path: Path
) -> None:
    installed_then_recorded(server, qenv, tmp_path, *ARGS)
    lock = Path(qenv["CODEX_HOME"]) / "packages/standalone/install.lock"
    fd = os.open(lock, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    releaser = threading.Timer(0.4, lambda: os.close(fd))
    releaser.start()
    try:
        again = entry(qenv, *ARGS, tmp=tmp_path)
    finally:
        releaser.join()
    assert again.path == "full" and again.code == 0
    assert "waiting for another codex-install" in again.stderr


@pytest.mark.parametrize(
    "extra",
    [
        {"GITHUB_OUTPUT": "step-outputs"},
        {"GITHUB_PATH": "github-path"},
        {"GITHUB_TOKEN": "ghp_secret_token_value"},
        {"CODEX_INSTALL_MANIFEST_DIR": "override"},
    ],
    ids=["GITHUB_OUTPUT", "GITHUB_PATH", "a token", "a manifest override"],
)
def test_no_record_where_the_answer_has_side_effects_or_secrets(
    server: FakeHTTPServer, qenv: dict[str, str], tmp_path: Path, extra: dict[str, str]
) -> None:
    env = {**qenv, **{k: str(tmp_path / v) if "ghp" not in v else v for k, v in extra.items()}}
    package_release("0.170.0").publish_github(server)
    for _ in range(3):
        run = entry(env, *ARGS, tmp=tmp_path)
        assert run.code == 0 and run.path == "full", run.stderr
    assert not record(env).exists()


def test_modify_path_leaves_no_record(
    server: FakeHTTPServer, qenv: dict[str, str], tmp_path: Path
) -> None:
    package_release("0.170.0").publish_github(server)
    for _ in range(2):
        assert entry(qenv, *ARGS, "--modify-path", tmp=tmp_path).code == 0
    assert not record(qenv).exists()


def test_a_refused_revalidation_is_the_light_requests_first_failure(
    server: FakeHTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the quick path learnt is not asked twice: refused is LightRefused at once."""
    config = GitHubConfig(api_url=server.url, repo=REPO, cache_dir=tmp_path)
    url = config.release_url(parse_version("latest"))
    monkeypatch.setitem(quick.UNANSWERED, url, "refused")
    with pytest.raises(LightRefused):
        fetch_release_light(config, parse_version("latest"))
    monkeypatch.setitem(quick.UNANSWERED, url, "late")
    assert fetch_release_light(config, parse_version("latest")) is None
    assert server.count() == 0


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["blackhole", "trickle-headers"])
def test_a_silent_or_trickling_api_is_given_up_on_in_time(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with hostile_server(mode, interval=0.05) as url:
        port = int(url.rsplit(":", 1)[1])
        request = {
            "url": url + LATEST,
            "scheme": "http",
            "host": "127.0.0.1",
            "port": port,
            "authority": f"127.0.0.1:{port}",
            "target": LATEST,
            "headers": {"Accept": "application/vnd.github+json"},
            "etag": '"e1"',
            "cafile": None,
        }
        monkeypatch.setattr(quick, "UNANSWERED", {})
        start = time.monotonic()
        assert quick._not_modified(request) is False
        assert time.monotonic() - start < quick.LIGHT_TIMEOUT + 1.0
        assert {url + LATEST: "late"} == quick.UNANSWERED


def test_a_recorded_header_with_a_line_break_is_never_sent() -> None:
    request = {"target": "/x", "authority": "h", "headers": {"A": "b\r\nEvil: 1"}, "etag": "e"}
    with pytest.raises(ValueError):
        quick._request_text(request)


@pytest.mark.parametrize("mode", [0o622, 0o660])
def test_a_record_others_may_write_is_no_record(
    server: FakeHTTPServer, qenv: dict[str, str], tmp_path: Path, mode: int
) -> None:
    installed_then_recorded(server, qenv, tmp_path, *ARGS)
    record(qenv).chmod(mode)
    assert entry(qenv, *ARGS, tmp=tmp_path).path == "full"


def test_an_https_api_is_revalidated_over_tls_with_the_same_trust(
    qenv: dict[str, str], tmp_path: Path
) -> None:
    from servers.tls import tls_server

    with tls_server(tmp_path) as (srv, cert):
        env = {**qenv, "GITHUB_API_URL": srv.url, "SSL_CERT_FILE": str(cert)}
        _, first = installed_then_recorded(srv, env, tmp_path, *ARGS)
        before = len(srv.requests_to(LATEST))
        again = entry(env, *ARGS, tmp=tmp_path)
        assert again.path == "quick" and again.stderr == first.stderr
        assert again.without_timings() == first.without_timings()
        assert len(srv.requests_to(LATEST)) == before + 1


def test_variables_that_change_every_run_and_that_nothing_reads_do_not_count(
    server: FakeHTTPServer, qenv: dict[str, str], tmp_path: Path
) -> None:
    installed_then_recorded(server, qenv, tmp_path, *ARGS)
    for offset in ("1", "22", "333"):  # as hyperfine pads each run's environment
        env = {**qenv, "HYPERFINE_RANDOMIZED_ENVIRONMENT_OFFSET": offset, "OLDPWD": offset}
        assert entry(env, *ARGS, tmp=tmp_path).path == "quick"


@pytest.mark.slow
def test_a_closed_stdout_is_a_failure_not_a_second_answer(
    server: FakeHTTPServer, qenv: dict[str, str], tmp_path: Path
) -> None:
    installed_then_recorded(server, qenv, tmp_path, *ARGS)
    # The reader of stdout has gone (`| head -0`): the JSON cannot be written.
    gone = "import os; r, w = os.pipe(); os.close(r); os.dup2(w, 1)"
    run = entry(qenv, *ARGS, tmp=tmp_path, prelude=gone)
    assert run.path == "quick"
    assert run.code != 0
    assert run.stderr.count("is already installed") == 1


def test_no_stdout_at_all_still_says_it_once(
    server: FakeHTTPServer, qenv: dict[str, str], tmp_path: Path
) -> None:
    """`codex-install … >&-`: Python starts with no sys.stdout; the lines go to stderr once."""
    qenv = {**qenv, "PWD": os.getcwd()}  # as the shell below exports it
    installed_then_recorded(server, qenv, tmp_path, *ARGS)
    mark = tmp_path / "m"
    code = f"MARK = {str(mark)!r}\n" + ENTRY
    proc = subprocess.run(
        ["sh", "-c", 'c="$1"; shift; exec "$0" -c "$c" - "$@" >&-', sys.executable, code, *ARGS],
        env=qenv,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert mark.read_text() == "quick", proc.stderr
    assert proc.returncode == 0
    assert proc.stderr.count("is already installed") == 1

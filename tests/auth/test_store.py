from __future__ import annotations

import json
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codex_install.auth import store
from codex_install.errors import AuthFileError

from .conftest import chatgpt_auth, write_auth


def test_missing_auth_json_is_none(home: Path) -> None:
    assert store.load_snapshot(home) is None
    assert store.load_snapshot(home / "does-not-exist") is None


@pytest.mark.parametrize("mode", ["futureMode", "APIKEY", "ApiKey", "CHATGPT", "", 5, True, []])
def test_an_auth_mode_codex_does_not_know_is_a_malformed_file(home: Path, mode: object) -> None:
    # Codex 0.171.0 refuses the whole file (measured): signed out, `login status` exit 1.
    write_auth(home, {"auth_mode": mode, "OPENAI_API_KEY": "sk-1"})
    with pytest.raises(AuthFileError, match="`auth_mode` is not one Codex knows"):
        store.load_snapshot(home, sleep=lambda _s: None)


@pytest.mark.parametrize(
    ("data", "mode", "signed_in"),
    [
        ({"auth_mode": "apikey", "OPENAI_API_KEY": "sk-1"}, "apikey", True),
        ({"OPENAI_API_KEY": "sk-1"}, "apikey", True),
        ({"OPENAI_API_KEY": None, "tokens": {"access_token": "a"}}, "chatgpt", True),
        ({"auth_mode": "chatgpt", "OPENAI_API_KEY": "sk-1", "tokens": {}}, "chatgpt", False),
        ({"auth_mode": "apikey", "OPENAI_API_KEY": ""}, "apikey", False),
        ({"OPENAI_API_KEY": ""}, "apikey", False),  # a string, even empty: Codex's ApiKey
        ({"auth_mode": None, "OPENAI_API_KEY": "sk-1"}, "apikey", True),
        (
            {"auth_mode": "chatgptAuthTokens", "tokens": {"access_token": "a"}},
            "chatgptAuthTokens",
            True,
        ),
        (
            {"auth_mode": "personalAccessToken", "personal_access_token": "p"},
            "personalAccessToken",
            True,
        ),
        ({"auth_mode": "headers"}, "headers", True),
        ({}, "chatgpt", False),
    ],
)
def test_auth_mode_and_signed_in(home: Path, data: dict, mode: str, signed_in: bool) -> None:
    write_auth(home, data)
    snapshot = store.load_snapshot(home)
    assert snapshot is not None
    assert (snapshot.mode, snapshot.signed_in) == (mode, signed_in)


def test_digest_ignores_formatting_but_not_content(home: Path) -> None:
    data = chatgpt_auth()
    write_auth(home, json.dumps(data))
    compact = store.load_snapshot(home)
    write_auth(home, json.dumps(dict(reversed(list(data.items()))), indent=4))
    pretty = store.load_snapshot(home)
    write_auth(home, json.dumps({**data, "last_refresh": "2026-11-21T10:00:00Z"}))
    changed = store.load_snapshot(home)
    assert compact is not None and pretty is not None and changed is not None
    assert compact.digest == pretty.digest != changed.digest


def test_snapshot_repr_shows_no_token() -> None:
    data = chatgpt_auth("rt-secret")
    assert "rt-secret" not in repr(store.AuthSnapshot.from_data(data))


def test_malformed_file_is_retried_then_reported(home: Path) -> None:
    write_auth(home, '{"tokens": {"refresh_token": "rt-secret-in-bad-json"')
    sleeps: list[float] = []
    with pytest.raises(AuthFileError) as err:
        store.load_snapshot(home, sleep=sleeps.append)
    assert len(sleeps) == 2
    assert "not valid JSON" in str(err.value)
    assert "rt-secret" not in str(err.value)
    assert err.value.__cause__ is None  # the decoder's message would quote the file


def test_a_half_written_file_is_read_again(home: Path) -> None:
    path = write_auth(home, '{"auth_mode": "apik')

    def writer_finishes(_seconds: float) -> None:
        path.write_text('{"auth_mode": "apikey", "OPENAI_API_KEY": "sk-1"}')

    snapshot = store.load_snapshot(home, sleep=writer_finishes)
    assert snapshot is not None and snapshot.mode == "apikey"


def test_write_is_atomic_mode_0600_and_keeps_key_order(home: Path) -> None:
    data = {"z_unknown": 1, **chatgpt_auth(), "a_unknown": {"nested": True}}
    write_auth(home, "{}")
    (home / "auth.json").chmod(0o644)
    store.write_auth(home, data)
    path = home / "auth.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list(json.loads(path.read_text())) == list(data)
    assert sorted(p.name for p in home.iterdir()) == ["auth.json", "config.toml"]


def test_write_goes_through_a_symlinked_auth_json(home: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared" / "auth.json"
    shared.parent.mkdir()
    write_auth(shared.parent, chatgpt_auth("rt-old"))
    (home / "auth.json").symlink_to(shared)
    store.write_auth(home, chatgpt_auth("rt-new"))
    assert (home / "auth.json").is_symlink()
    assert json.loads(shared.read_text())["tokens"]["refresh_token"] == "rt-new"
    assert stat.S_IMODE(shared.stat().st_mode) == 0o600


def test_merge_tokens_keeps_everything_it_does_not_replace() -> None:
    data = chatgpt_auth("rt-old", extra_field=[1])
    data["tokens"]["unknown"] = "u"
    merged = store.merge_tokens(data, {"access_token": "new-access", "refresh_token": ""}, 0.0)
    assert merged["tokens"] == {**data["tokens"], "access_token": "new-access"}
    assert merged["extra_field"] == [1]
    assert merged["last_refresh"] == "1970-01-01T00:00:00.000000Z"
    assert data["tokens"]["access_token"] != "new-access"  # the input is not mutated


def test_merge_tokens_creates_the_tokens_object() -> None:
    merged = store.merge_tokens({"auth_mode": "chatgpt"}, {"refresh_token": "r"}, 0.0)
    assert merged["tokens"] == {"refresh_token": "r"}


_REWRITER = """
import json, os, sys, time
path, a, b = sys.argv[1], sys.argv[2], sys.argv[3]
end = time.monotonic() + 1.0
i = 0
while time.monotonic() < end:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(a if i % 2 else b)
    os.replace(tmp, path)
    i += 1
"""


@pytest.mark.slow
def test_reading_while_another_process_rewrites_auth_json(home: Path) -> None:
    first, second = chatgpt_auth("rt-a", email="a@example.com"), chatgpt_auth("rt-b")
    write_auth(home, first)
    digests = {store.AuthSnapshot.from_data(d).digest for d in (first, second)}
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _REWRITER,
            str(home / "auth.json"),
            json.dumps(first),
            json.dumps(second),
        ]
    )
    seen = set()
    try:
        while writer.poll() is None:
            snapshot = store.load_snapshot(home)
            assert snapshot is not None
            seen.add(snapshot.digest)
            time.sleep(0.001)
    finally:
        writer.wait()
    assert seen <= digests

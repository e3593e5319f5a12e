"""auth/quick.py, the launcher's hot-path check: it may only ever say "usable" where the full
reader (auth/state.py) agrees, and must say it for the common valid logins."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from codex_install.auth.quick import jwt_payload, load_json, usable_as_is
from codex_install.auth.state import read_credential_state
from codex_install.errors import AuthFileError
from servers.oauth import make_jwt

from .conftest import chatgpt_auth, write_auth

NOW = time.time()


def full_reader_says_usable(home: Path) -> bool:
    try:
        state = read_credential_state(home, now=NOW)
    except AuthFileError:
        return False
    return state.kind in ("apikey", "chatgpt") and not state.stale


@pytest.mark.parametrize(
    ("content", "usable"),
    [
        ({"auth_mode": "apikey", "OPENAI_API_KEY": "sk-a"}, True),
        ({"OPENAI_API_KEY": "sk-a"}, True),
        (chatgpt_auth(exp_in=3600), True),
        (chatgpt_auth(exp_in=3600, now=NOW), True),
        (chatgpt_auth(exp_in=60), None),  # stale: the full path refreshes
        (chatgpt_auth(exp_in=None), None),  # no exp: the 8-day rule is the full reader's
        ({"auth_mode": "apikey", "OPENAI_API_KEY": ""}, None),
        ({"auth_mode": "apikey", "OPENAI_API_KEY": 5}, None),
        ({**chatgpt_auth(exp_in=3600), "OPENAI_API_KEY": 5}, None),
        ({"auth_mode": "chatgpt", "tokens": "x"}, None),
        ({"auth_mode": "chatgptAuthTokens", "tokens": {}}, None),
        ("[]", None),
        ("{not json", None),
        ("", None),
        ('{"OPENAI_API_KEY": "sk-a"} trailing', None),
        ({"tokens": {"access_token": make_jwt({"exp": 10**400})}}, None),
    ],
)
def test_quick_check_agrees_with_the_full_reader(
    home: Path, content: Any, usable: bool | None
) -> None:
    write_auth(home, content)
    assert usable_as_is(str(home), NOW) is usable
    if usable:
        assert full_reader_says_usable(home)


def test_no_auth_json_is_for_the_full_reader(home: Path) -> None:
    assert usable_as_is(str(home), NOW) is None


@pytest.mark.parametrize(
    ("ledger", "usable"),
    [
        ({"version": 1, "snapshot": None, "poison": None, "backoff": None}, True),
        ({"version": 1, "snapshot": "abc", "poison": {"reason": "x"}, "backoff": None}, None),
        ("not json", None),
    ],
)
def test_recorded_refresh_trouble_sends_it_to_the_full_reader(
    home: Path, ledger: Any, usable: bool | None
) -> None:
    write_auth(home, chatgpt_auth(exp_in=3600))
    raw = ledger if isinstance(ledger, str) else json.dumps(ledger)
    (home / "codex-install-auth-state.json").write_text(raw)
    assert usable_as_is(str(home), NOW) is usable


def test_json_reader_matches_json_loads() -> None:
    for text in ['{"a": [1, 2.5, "\\u00e9", null, true, false]}', " [1]\n", '"x"', "NaN"]:
        assert repr(load_json(text)) == repr(json.loads(text))
    for bad in ["{", "[1,]", '{"a": 1} x', ""]:
        with pytest.raises(Exception):  # noqa: B017  (any error: the caller falls back)
            load_json(bad)


@pytest.mark.parametrize("exp", ["Infinity", "NaN", "true", '"9999999999"'])
def test_an_exp_that_is_no_number_is_for_the_full_reader(home: Path, exp: str) -> None:
    import base64

    payload = base64.urlsafe_b64encode(f'{{"exp": {exp}}}'.encode()).rstrip(b"=").decode()
    write_auth(home, {"tokens": {"access_token": f"h.{payload}.s", "refresh_token": "r"}})
    assert usable_as_is(str(home), NOW) is None


def test_jwt_payload() -> None:
    assert jwt_payload(make_jwt({"exp": 5, "n": "é"})) == {"exp": 5, "n": "é"}
    assert jwt_payload("a.b") is None
    assert jwt_payload("a.!!!.c") is None
    assert jwt_payload(None) is None

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codex_install.auth import CredentialState, read_credential_state
from codex_install.auth.ledger import Ledger, Poison, write_ledger
from codex_install.auth.store import load_snapshot
from codex_install.errors import AuthFileError

from .conftest import chatgpt_auth, write_auth


def test_signed_out_without_auth_json(home: Path) -> None:
    assert read_credential_state(home) == CredentialState(
        kind="signed_out", stale=False, email=None, plan=None, api_key_last4=None, reason=None
    )


def test_api_key(home: Path) -> None:
    write_auth(home, {"auth_mode": "apikey", "OPENAI_API_KEY": "sk-proj-wxyz"})
    state = read_credential_state(home)
    assert (state.kind, state.api_key_last4, state.stale) == ("apikey", "wxyz", False)


@pytest.mark.parametrize(("exp_in", "stale"), [(3600, False), (200, True), (-5, True)])
def test_chatgpt_staleness(home: Path, exp_in: float, stale: bool) -> None:
    now = time.time()
    write_auth(home, chatgpt_auth(exp_in=exp_in, now=now, email="e@example.com", plan="team"))
    state = read_credential_state(home, now=now)
    assert (state.kind, state.stale, state.email, state.plan) == (
        "chatgpt",
        stale,
        "e@example.com",
        "team",
    )


def test_poison_applies_only_to_its_snapshot(home: Path) -> None:
    write_auth(home, chatgpt_auth(exp_in=60))
    digest = load_snapshot(home).digest  # type: ignore[union-attr]
    write_ledger(
        home, Ledger(snapshot=digest, poison=Poison("refresh_token_reused", "the reason", 1.0))
    )
    state = read_credential_state(home)
    assert (state.kind, state.reason) == ("poisoned", "the reason")

    write_auth(home, chatgpt_auth(exp_in=3600))
    assert read_credential_state(home).kind == "chatgpt"


def test_garbage_ledger_reads_as_no_poison(home: Path) -> None:
    write_auth(home, chatgpt_auth())
    (home / "codex-install-auth-state.json").write_text("{garbage")
    assert read_credential_state(home).kind == "chatgpt"


def test_malformed_auth_json_raises(home: Path) -> None:
    write_auth(home, "nope")
    with pytest.raises(AuthFileError):
        read_credential_state(home)


def test_state_module_imports_no_http_or_cli_library() -> None:
    code = (
        "import sys, json; import codex_install.auth.state; "
        "print(json.dumps(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('httpx', 'requests', 'requests_cache', 'click', 'httpcore'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == []

"""What every process knows about refresh attempts, persisted in ``CODEX_HOME`` (SPEC §9).

One small JSON file records, for one auth.json snapshot (by digest), either the permanent
failure that poisoned it or the transient-failure backoff. It never holds token material. An
entry for a digest other than the current auth.json is simply stale: that is how the poison
"clears by itself" when the credentials change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from codex_install.auth.quick import LEDGER_CAP
from codex_install.auth.quick import LEDGER_FILE as LEDGER_FILE  # one name, shared
from codex_install.fs import UnreadableFileError, atomic_write_text, read_regular

TYPE_CHECKING = False  # not typing's: importing typing costs ms on the codex-launch hot path
if TYPE_CHECKING:
    from typing import Any

LEDGER_VERSION = 1


@dataclass(frozen=True)
class Poison:
    code: str | None
    reason: str
    at: float


@dataclass(frozen=True)
class Backoff:
    attempts: int
    until: float
    last_error: str
    at: float = 0.0  # when the last failed attempt was made (0: unknown, an older ledger)


@dataclass(frozen=True)
class Ledger:
    snapshot: str | None = None
    poison: Poison | None = None
    backoff: Backoff | None = None

    def poison_for(self, digest: str) -> Poison | None:
        return self.poison if self.snapshot == digest else None

    def backoff_for(self, digest: str) -> Backoff | None:
        return self.backoff if self.snapshot == digest else None

    def to_json(self) -> dict[str, Any]:
        poison = self.poison
        backoff = self.backoff
        return {
            "version": LEDGER_VERSION,
            "snapshot": self.snapshot,
            "poison": None
            if poison is None
            else {"code": poison.code, "reason": poison.reason, "at": poison.at},
            "backoff": None
            if backoff is None
            else {
                "attempts": backoff.attempts,
                "until": backoff.until,
                "last_error": backoff.last_error,
                "at": backoff.at,
            },
        }

    @classmethod
    def from_json(cls, data: object) -> Ledger:
        """Lenient: this file is our own cache, so anything unexpected reads as empty."""
        if not isinstance(data, dict) or data.get("version") != LEDGER_VERSION:
            return cls()
        snapshot = data.get("snapshot")
        if not isinstance(snapshot, str):
            return cls()
        return cls(
            snapshot=snapshot,
            poison=_poison(data.get("poison")),
            backoff=_backoff(data.get("backoff")),
        )


def ledger_path(codex_home: Path) -> Path:
    return codex_home / LEDGER_FILE


def read_ledger(codex_home: Path) -> Ledger:
    """The ledger, or an empty one when it is absent or anything but a small regular file."""
    try:
        raw = read_regular(ledger_path(codex_home), LEDGER_CAP, what="refresh ledger")
    except UnreadableFileError:
        return Ledger()
    if raw is None:
        return Ledger()
    try:
        return Ledger.from_json(json.loads(raw))
    except (ValueError, RecursionError):  # RecursionError: nested too deep
        return Ledger()


def write_ledger(codex_home: Path, ledger: Ledger) -> None:
    """Atomic, so readers that take no lock never see half a file."""
    atomic_write_text(
        ledger_path(codex_home), json.dumps(ledger.to_json(), indent=2) + "\n", mode=0o600
    )


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _poison(data: object) -> Poison | None:
    if not isinstance(data, dict) or not isinstance(data.get("reason"), str):
        return None
    code = data.get("code")
    return Poison(
        code=code if isinstance(code, str) else None,
        reason=data["reason"],
        at=_number(data.get("at")) or 0.0,
    )


def _backoff(data: object) -> Backoff | None:
    if not isinstance(data, dict):
        return None
    attempts = data.get("attempts")
    until = _number(data.get("until"))
    if not isinstance(attempts, int) or until is None:
        return None
    last_error = data.get("last_error")
    return Backoff(
        attempts=attempts,
        until=until,
        last_error=last_error if isinstance(last_error, str) else "",
        at=_number(data.get("at")) or 0.0,
    )

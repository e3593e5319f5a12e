"""PLACEHOLDER until the signin branch lands: terminal facts and boolean environment flags."""

from __future__ import annotations


def env_flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")

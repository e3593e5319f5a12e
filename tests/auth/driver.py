"""A process that uses the AuthManager the way a launcher or an IDE poller would; started many
times at once by the cross-process tests. Prints one JSON object; never a token (only digests).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

from codex_install.auth.manager import AuthManager
from codex_install.errors import RefreshError


def fingerprint(value: object) -> object:
    if isinstance(value, str):
        return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:16]
    return value


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sync", type=Path, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("action", choices=["poll", "refresh"])
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--duration", type=float, default=0.0)
    parser.add_argument("--interval", type=float, default=0.0)
    args = parser.parse_args()

    manager = AuthManager(Path(os.environ["CODEX_HOME"]))
    (args.sync / f"ready-{args.name}").touch()
    while not (args.sync / "go").exists():
        time.sleep(0.002)

    if args.action == "refresh":
        try:
            state = manager.ensure_fresh()
            outcome = {"kind": state.kind, "stale": state.stale}
        except RefreshError as err:
            outcome = {"error": str(err)}
        tokens = json.loads((Path(os.environ["CODEX_HOME"]) / "auth.json").read_text())["tokens"]
        outcome["access"] = fingerprint(tokens["access_token"])
        print(json.dumps(outcome))
        return 0

    answers: Counter[str] = Counter()
    polls = 0
    end = time.monotonic() + args.duration
    while polls < args.count or time.monotonic() < end:
        status = manager.get_auth_status(include_token=True, refresh_token=True)
        status["authToken"] = fingerprint(status["authToken"])
        answers[json.dumps(status, sort_keys=True)] += 1
        polls += 1
        if args.interval:
            time.sleep(args.interval)
    print(json.dumps({"polls": polls, "answers": dict(answers)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

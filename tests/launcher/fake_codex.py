"""A stand-in for the installed ``codex`` binary, installed by the tests as an executable script.

It appends one JSON line per run to $FAKE_CODEX_LOG (argv, stdin for `login --with-api-key`,
pid, CODEX_HOME) and writes auth.json the way Codex does. Knobs (environment):
FAKE_CODEX_EXIT (exit status of a normal run), FAKE_CODEX_LOGIN_FAIL=1 (`login` fails, echoing
what it was given — to prove the launcher scrubs it), FAKE_CODEX_LOGIN_NOWRITE=1 (`login`
"succeeds" without writing auth.json), FAKE_CODEX_EMAIL; `login status` exits 0 only with
FAKE_CODEX_LOGGED_IN=1, after FAKE_CODEX_STATUS_SLEEP seconds.
"""

import base64
import json
import os
import signal
import sys
import time
from pathlib import Path


def _b64(obj):
    raw = json.dumps(obj).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _jwt(claims):
    return f"{_b64({'alg': 'none'})}.{_b64(claims)}.sig"


def _log(record):
    path = os.environ.get("FAKE_CODEX_LOG")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(record) + "\n")


def _write_auth(data):
    home = Path(os.environ.get("CODEX_HOME") or Path.home() / ".codex")
    home.mkdir(parents=True, exist_ok=True)
    tmp = home / "auth.json.tmp"
    tmp.write_text(json.dumps(data, indent=2))
    tmp.chmod(0o600)
    tmp.replace(home / "auth.json")


def main(argv):
    record = {
        "argv": argv,
        "pid": os.getpid(),
        "codex_home": os.environ.get("CODEX_HOME"),
        "secrets_in_env": sorted(
            name
            for name in ("OPENAI_API_KEY", "CODEX_API_KEY", "GITHUB_TOKEN")
            if name in os.environ
        ),
    }
    if argv[:1] == ["--version"]:
        _log(record)
        print("codex-cli 0.169.0")
        return 0
    if argv[:2] == ["login", "--with-api-key"]:
        key = sys.stdin.read()
        record["stdin"] = key
        _log(record)
        if os.environ.get("FAKE_CODEX_LOGIN_FAIL"):
            print(f"Error: invalid API key {key.strip()}", file=sys.stderr)
            return 1
        if not os.environ.get("FAKE_CODEX_LOGIN_NOWRITE"):
            _write_auth({"auth_mode": "apikey", "OPENAI_API_KEY": key.strip()})
        print("Successfully logged in", file=sys.stderr)
        return 0
    if argv[:2] == ["login", "status"]:
        _log(record)
        time.sleep(float(os.environ.get("FAKE_CODEX_STATUS_SLEEP") or 0))
        return 0 if os.environ.get("FAKE_CODEX_LOGGED_IN") else 1
    if argv[:1] == ["login"]:
        record["stdin_isatty"] = os.isatty(0)
        _log(record)
        if os.environ.get("FAKE_CODEX_LOGIN_FAIL"):
            print("Error: login cancelled", file=sys.stderr)
            return 1
        if "--device-auth" in argv:
            print("Open https://auth.example/device and enter code ABCD-1234")
        else:
            print("Opening a browser to sign in")
        if not os.environ.get("FAKE_CODEX_LOGIN_NOWRITE"):
            now = int(time.time())
            email = os.environ.get("FAKE_CODEX_EMAIL", "dev@example.com")
            auth = {"chatgpt_plan_type": "plus", "chatgpt_account_id": "acct-1"}
            _write_auth(
                {
                    "auth_mode": "chatgpt",
                    "OPENAI_API_KEY": None,
                    "tokens": {
                        "id_token": _jwt({"email": email, "https://api.openai.com/auth": auth}),
                        "access_token": _jwt({"exp": now + 3600}),
                        "refresh_token": "rt-from-login",
                        "account_id": "acct-1",
                    },
                    "last_refresh": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
                }
            )
        print("Successfully logged in")
        return 0
    _log(record)
    if argv[:1] == ["wait-for-signal"]:

        def on_term(signum, frame):
            os.write(1, f"codex got signal {signum}\n".encode())
            os._exit(42)

        signal.signal(signal.SIGTERM, on_term)
        print("codex waiting", flush=True)
        while True:
            time.sleep(0.05)
    print("codex ran: " + json.dumps(argv), flush=True)
    return int(os.environ.get("FAKE_CODEX_EXIT", "0"))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

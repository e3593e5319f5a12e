"""Which Codex release each rule of the launcher and the status protocol was last checked
against: the real binary's ``--help`` tree, its ``app-server generate-json-schema`` /
``generate-ts --experimental`` output, and its app-server driven over stdio on the same files
and loopback endpoints as ours.

``tests/auth/test_codex_e2e.py`` (opt-in: ``-m e2e``) runs the launcher's table and the status
answers against the real binary of CODEX_VERSION; when Codex moves, bump it there first and let
that test say which rules moved with it. Data only: nothing imports this at run time.
"""

from __future__ import annotations

CODEX_VERSION = "0.171.0"

CHECKED: dict[str, str] = {
    # launcher.py
    "subcommands that need credentials (CODEX_SUBCOMMANDS), hidden ones included": "0.171.0",
    "global options that take a value (_VALUE_OPTIONS)": "0.171.0",
    "--remote ADDR runs on a remote app-server's credential (REMOTE_FLAG)": "0.171.0",
    "cli_auth_credentials_store values and `-c` overrides (credstore.py)": "0.171.0",
    # store.py, state.py
    "auth_mode values (store.AUTH_MODES) and an unknown one refusing the file": "0.171.0",
    "chatgptAuthTokens reported as such, never refreshed": "0.171.0",
    "ChatGPT tokens without last_refresh: no getAuthStatus, an account": "0.171.0",
    # codexconfig.py
    "forced_login_method / forced_chatgpt_workspace_id sign refused credentials out": "0.171.0",
    # keyring.py
    "keyring item: service, account, attributes, compact JSON secret": "0.171.0",
    # routing.py, manager.py, rpc.py
    "workspace routing discovery: URL, headers, answer shape, error messages": "0.171.0",
    "account/updated {authMode, planType, reason: workspaceRoutingReady}": "0.171.0",
    "getAuthStatus / account/read keys and values (account.py, plan types)": "0.171.0",
    # refresh.py, policy.py
    "refresh request body and its refresh_reason": "0.171.0",
    "permanent error codes and their messages (policy.py)": "0.169.0",
}

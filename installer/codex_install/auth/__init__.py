"""Auth: Codex's auth.json, token refresh with poisoned snapshots, and the status protocol
(SPEC §9).

``store`` reads and writes auth.json, ``jwt`` and ``policy`` are pure, ``ledger`` and ``lock``
are the state shared by all processes, ``state`` is the launcher's import-light view,
``refresh`` talks to the token endpoint, ``manager`` puts them together and ``rpc`` serves
them. Only the import-light names are re-exported here: the launcher imports this package on
its hot path, so ``AuthManager`` is imported from ``codex_install.auth.manager``.
"""

from __future__ import annotations

from codex_install.auth.state import CredentialState, read_credential_state

__all__ = ["CredentialState", "read_credential_state"]

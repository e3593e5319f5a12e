"""Auth: Codex's auth.json, token refresh with poisoned snapshots, and the status protocol
(SPEC §9).

``store`` reads and writes auth.json, ``jwt`` and ``policy`` are pure, ``ledger`` and ``lock``
are the state shared by all processes, ``state`` is the launcher's import-light view,
``refresh`` talks to the token endpoint, ``manager`` puts them together and ``rpc`` serves
them. Only the import-light names are re-exported here: the launcher imports this package on
its hot path, so ``AuthManager`` is imported from ``codex_install.auth.manager``, and even the
re-exports are loaded only on first use.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: importing typing costs ms on the codex-launch hot path
if TYPE_CHECKING:
    from codex_install.auth.state import CredentialState, read_credential_state

__all__ = ["CredentialState", "read_credential_state"]


def __getattr__(name: str) -> object:
    # Lazy (PEP 562): the launcher's hot path imports auth.quick and auth.credstore, and must
    # not pay for the state module (dataclasses, pathlib, the ledger) on the way in.
    if name in __all__:
        from codex_install.auth import state

        return getattr(state, name)
    raise AttributeError(name)

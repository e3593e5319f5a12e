"""What an install that changed nothing leaves for its re-run: the record quick.py answers from
(SPEC §11). Only a run whose answer is fully determined by what the record holds leaves one; a
record that cannot be written is no failure (the next run is just a full one)."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_install import quick
from codex_install.errors import CodexInstallError
from codex_install.fs import atomic_write_text, make_dirs
from codex_install.paths import Paths

# The files behind the user-private-group trust check (layout.user_private_group).
_ACCOUNTS = ("/etc/passwd", "/etc/group")


@dataclass(frozen=True)
class Invocation:
    """How the command was invoked: what quick.py must see again to answer in its place."""

    argv: tuple[str, ...]
    as_json: bool


@dataclass(frozen=True)
class Outcome:
    """One finished install command: its ``--json`` object and what it printed."""

    data: Mapping[str, Any]
    stderr: Sequence[str]
    request: dict[str, object] | None  # the revalidation of "latest"; None for a pin
    files: tuple[str, ...] = ()  # what else the answer was read from (a --manifest file)


def remember(
    invocation: Invocation, env: Mapping[str, str], paths: Paths, done: Outcome | None
) -> None:
    """Write the record for the re-run of ``invocation`` (``done``: None when its answer cannot
    be replayed), and never leave an older one behind."""
    if not quick.may_answer(invocation.argv):
        return
    record = quick.record_path(env)
    with contextlib.suppress(OSError):
        os.unlink(record)  # whatever happens next, an older answer is never replayed
    if done is None or not _replayable(done) or paths.auth_file.exists():
        return
    watched = watched_paths(paths, env) + list(done.files)
    data = {
        "version": quick.RECORD_VERSION,
        "digest": quick.digest(invocation.argv, env),
        "paths": watched,
        "state": quick.state(watched),
        "writable": [str(paths.standalone), str(paths.bin_dir)],
        "lock": str(paths.lock_file),
        "request": done.request,
        "stderr": list(done.stderr),
        "stdout": dict(done.data) if invocation.as_json else None,
    }
    try:
        make_dirs(paths.cache_dir)
        atomic_write_text(Path(record), json.dumps(data) + "\n", mode=0o600, durable=False)
    except (OSError, CodexInstallError):
        pass


def _replayable(done: Outcome) -> bool:
    """An answer the next run would give word for word, with no side effect skipped: a reuse of
    the release ``current`` already ran, nothing written for GitHub Actions, no sign-in."""
    data = done.data
    if not data.get("reused") or data.get("previous") != data.get("version"):
        return False
    if data.get("github_actions") or (data.get("path") or {}).get("github_path"):
        return False
    return (data.get("sign_in") or {}).get("state") == "skipped"


def watched_paths(paths: Paths, env: Mapping[str, str]) -> list[str]:
    """Every path the no-op's answer was read from: CODEX_HOME and auth.json (the sign-in state),
    the standalone tree (the trust check, the release, ``current``), the bin link, the lock, and
    each PATH entry (conflicts, on-PATH)."""
    tree = [paths.codex_home, paths.auth_file, paths.codex_home / "packages"]
    tree += [paths.standalone, paths.releases]
    watched = [str(p) for p in tree]
    watched += [str(paths.current), str(paths.bin_dir), str(paths.bin_link), str(paths.lock_file)]
    watched += _tree(paths.releases)
    for entry in env.get("PATH", "").split(os.pathsep):
        if entry:
            watched += [entry, os.path.join(entry, "codex")]
    return watched + list(_ACCOUNTS)


def _tree(root: Path) -> list[str]:
    """Every entry under ``root`` (links not followed), in a stable order."""
    found = []
    for where, dirs, files in os.walk(root):
        dirs.sort()
        found += [os.path.join(where, name) for name in sorted(dirs + files)]
    return found

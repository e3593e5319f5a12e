"""The import structure README's "Layout" promises, recomputed from the code's own imports:
no cycle, every import points down a floor, commands never import each other, sources never
import the installer. Counts every import: top-level, inside functions and under TYPE_CHECKING."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "installer" / "codex_install"

# Top-level rooms (a module, or a package as one room) and their floor, from the ground up.
FLOORS: dict[str, int] = {
    **dict.fromkeys(["errors", "models", "terminal", "childenv", "locations", "signals"], 1),
    **dict.fromkeys(["ui", "versions", "platforms", "paths", "fs", "http", "verify"], 2),
    **dict.fromkeys(["archive", "ci", "tables"], 2),
    **dict.fromkeys(["sources", "auth", "manifest", "layout", "pathenv", "suggest"], 3),
    **dict.fromkeys(["install", "signin", "homebrew", "mirror_sync", "config"], 4),
    **dict.fromkeys(["commands", "launcher"], 5),
    "cli": 6,
    "__main__": 7,
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The codex_install modules ``name`` imports (as dotted names under the package)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = "codex_install." + ".".join([p for p in up if p] + ([base] if base else []))
            subs = [f"{base}.{a.name}" for a in node.names]
            inside = [s.removeprefix("codex_install.") for s in subs]
            targets.update(subs if all(s in MODULES for s in inside) else [base])
    return {
        t.removeprefix("codex_install.")
        for t in targets
        if t.startswith("codex_install.") and t.removeprefix("codex_install.") in MODULES
    }


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _room(module: str) -> str:
    return module.split(".")[0]


def test_every_room_has_a_floor() -> None:
    rooms = {_room(m) for m in MODULES if m}
    assert rooms - set(FLOORS) == set(), "add the new module to FLOORS (and README's Layout)"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m))
def test_every_import_points_down_a_floor(module: str) -> None:
    up = [
        t
        for t in GRAPH[module]
        if _room(t) != _room(module) and FLOORS[_room(t)] >= FLOORS[_room(module)]
    ]
    assert up == [], f"{module} (floor {FLOORS[_room(module)]}) imports {up}"


def test_commands_never_import_each_other() -> None:
    for module, targets in GRAPH.items():
        if module.startswith("commands."):
            assert not [t for t in targets if t.startswith("commands.")], module


def test_sources_never_import_the_installer() -> None:
    banned = ("install", "commands", "config", "manifest", "layout", "cli")
    for module, targets in GRAPH.items():
        if module.startswith("sources"):
            assert not [t for t in targets if _room(t) in banned], module


def test_there_is_no_import_cycle() -> None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(GRAPH[module]):
            if state.get(target) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*path, module, target]))
            if target not in state:
                visit(target, [*path, module])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [])


def test_the_floors_are_at_most_seven() -> None:
    assert max(FLOORS.values()) <= 7


_OWN_HTTP = {
    "http.client",
    "http.server",
    "urllib.request",
    "ftplib",
    "aiohttp",
    "pycurl",
    "urllib3",
}
_ALLOWED_URLLIB3 = {"http.requests_guard", "http.metadata"}  # requests' transport, watched


def test_http_goes_through_two_libraries_only() -> None:
    """httpx moves bytes, requests (requests-cache) fetches documents: no HTTP of our own
    (http.client, urllib.request, a socket connected by hand)."""
    found = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            modules: list[str] = []
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                modules = [node.module or ""]
            elif isinstance(node, ast.Attribute) and node.attr == "create_connection":
                found.append(f"{name}: socket.create_connection")
            for module in modules:
                root = module.split(".")[0]
                hit = module in _OWN_HTTP or root in ("aiohttp", "pycurl")
                if root == "urllib3" and name in _ALLOWED_URLLIB3:
                    continue
                if hit or root == "urllib3":
                    found.append(f"{name}: {module}")
    assert found == []

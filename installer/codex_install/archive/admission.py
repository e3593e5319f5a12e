"""The pure half of extraction: which entry names, kinds, links and sizes an archive may hold,
and where each admitted entry lands in the staging directory (the release layouts)."""

from __future__ import annotations

from dataclasses import dataclass, field

from codex_install.archive.spec import (
    BLOCK,
    ENTRYPOINT,
    MAX_DEPTH,
    MAX_ENTRIES,
    MAX_NAME,
    MAX_SYMLINK_HOPS,
    ExtractSpec,
    Kind,
    Member,
    Planned,
    corrupt,
    too_big,
    unsafe,
)
from codex_install.errors import UnsafeArchiveError

_PACKAGE_DIRS = frozenset({"bin", "codex-path", "codex-resources"})
_PACKAGE_FILES = frozenset({"codex-package.json"})
# Steps (path components walked) for resolving every symlink chain of one archive: a release
# has a few short links; a tangle of long ones is refused, not walked for minutes.
_RESOLVE_BUDGET = 1_000_000
_REFUSED_KINDS: dict[Kind, str] = {
    "device": "device or fifo entries are not allowed",
    "unsupported": "unsupported entry type (sparse, multi-volume, ...)",
}


def split_member_name(name: str) -> tuple[str, ...]:
    """The path components of an entry name; refuses absolute paths, ``..``, and names longer
    or deeper than any release holds (checked before anything else walks the name)."""
    if not name:
        raise unsafe(name, "empty name")
    if len(name) > MAX_NAME:
        raise unsafe(name[:64] + "…", f"name longer than {MAX_NAME} characters")
    if "\0" in name:
        raise unsafe(name, "NUL byte in name")
    if name.startswith("/"):
        raise unsafe(name, "absolute path")
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if len(parts) > MAX_DEPTH:
        raise unsafe(name[:64] + "…", f"more than {MAX_DEPTH} levels deep")
    if ".." in parts:
        raise unsafe(name, "'..' path component")
    return parts


def link_escapes(path: tuple[str, ...], target: str) -> bool:
    """Whether a symlink at ``path`` pointing to ``target`` leaves the root, read lexically."""
    if not target or target.startswith("/") or "\0" in target:
        return True
    depth = len(path) - 1
    for part in target.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


def _layout_path(member: Member, parts: tuple[str, ...], spec: ExtractSpec) -> tuple[str, ...]:
    """Map an in-archive path to its staging path, refusing anything outside the layout."""
    if spec.layout == "legacy":
        if parts == (f"codex-{spec.target}",) and member.kind == "file":
            return ENTRYPOINT
        raise unsafe(
            member.name,
            f"a legacy archive holds exactly one regular file named codex-{spec.target}",
        )
    top = parts[0]
    if len(parts) == 1 and top in _PACKAGE_FILES and member.kind == "file":
        return parts
    if top in _PACKAGE_DIRS and (len(parts) > 1 or member.kind == "dir"):
        return parts
    raise unsafe(
        member.name,
        "outside the package layout (codex-package.json, bin/, codex-path/, codex-resources/)",
    )


@dataclass(slots=True)
class _Node:
    """One path of the staging tree: what the archive made there (None: a directory only
    implied by deeper entries), its children, and a symlink's target."""

    kind: Kind | None = None
    children: dict[str, _Node] = field(default_factory=dict)
    link: str = ""


@dataclass
class Admission:
    """Decides, entry by entry, what may be written where.

    It keeps the tree it admitted (one node per path, each entry's check a walk down its own
    components: linear in the name) so it can refuse duplicates, paths through symlinks or
    files, hardlinks to anything but an earlier file, and an archive that unpacks too big.
    """

    spec: ExtractSpec
    root: _Node = field(default_factory=_Node)
    symlinks: list[tuple[str, ...]] = field(default_factory=list)
    unpacked: int = 0
    files: int = 0
    entries: int = 0

    def admit(self, member: Member) -> Planned | None:
        """The plan for ``member``, None to skip it; raises UnsafeArchiveError to refuse."""
        parts = split_member_name(member.name)
        if member.kind in _REFUSED_KINDS:
            raise unsafe(member.name, _REFUSED_KINDS[member.kind])
        relocated = self._strip(parts)
        if not relocated:
            if relocated is None or member.kind == "dir":
                return None  # outside the strip prefix, or "./" / the prefix itself: the root
            raise unsafe(member.name, "not a directory but names the archive root")
        path = _layout_path(member, relocated, self.spec)
        self.entries += 1
        if self.entries > MAX_ENTRIES:
            raise UnsafeArchiveError(f"archive has more than {MAX_ENTRIES} entries")
        link = self._check_link(member, path)
        self._place(member, path)
        return Planned(path, member.kind, member.size, member.mode, link)

    def count_trailing(self, size: int) -> None:
        """Bytes after the end-of-archive marker (already held to the cap by ``Blocks``).
        Tar streams are whole 512-byte blocks, which catches a plain .tar cut in its padding."""
        if size % BLOCK:
            raise corrupt("tar stream does not end on a block boundary")

    def check_complete(self) -> None:
        entrypoint = self._lookup(ENTRYPOINT)
        if entrypoint is None or entrypoint.kind != "file":
            what = f"codex-{self.spec.target}" if self.spec.layout == "legacy" else "bin/codex"
            raise UnsafeArchiveError(f"archive has no {what} regular file; not a Codex release")

    def check_symlink_chains(self) -> None:
        """Links are checked one by one as they arrive; chains (a link through another link)
        can only be judged once the tree is complete. Each is resolved as the kernel would,
        on the admitted tree (which is exactly what is on disk), with at most
        MAX_SYMLINK_HOPS links per resolution and a budget of steps for all of them."""
        budget = [_RESOLVE_BUDGET]
        for path in self.symlinks:
            if self._resolves_outside(path, budget):
                raise unsafe("/".join(path), "symlink chain resolves outside the archive")

    def _resolves_outside(self, path: tuple[str, ...], budget: list[int]) -> bool:
        dirs = self._parents(path)
        link = self._lookup(path)
        pending = list(reversed(link.link.split("/"))) if link is not None else []
        hops = [1]
        while pending:
            budget[0] -= 1
            if budget[0] < 0:
                raise unsafe("/".join(path), "symlinks too tangled to check")
            if self._step(path, pending.pop(), dirs, pending, hops):
                return True
        return False

    def _step(
        self,
        path: tuple[str, ...],
        part: str,
        dirs: list[_Node | None],
        pending: list[str],
        hops: list[int],
    ) -> bool:
        """One part of a link target walked from ``dirs[-1]``: True once it leaves the
        archive."""
        if part in ("", "."):
            return False
        if part == "..":
            if len(dirs) == 1:
                return True
            dirs.pop()
            return False
        here = dirs[-1]
        child = here.children.get(part) if here is not None else None
        if child is not None and child.kind == "symlink":
            return self._hop(path, child, pending, hops)
        dirs.append(child)  # None: missing, or a file; judged lexically from here on
        return False

    def _parents(self, path: tuple[str, ...]) -> list[_Node | None]:
        """The nodes from the root down to the directory holding ``path`` (None past one
        that does not exist)."""
        dirs: list[_Node | None] = [self.root]
        for part in path[:-1]:
            node = dirs[-1]
            dirs.append(node.children.get(part) if node is not None else None)
        return dirs

    @staticmethod
    def _hop(path: tuple[str, ...], link: _Node, pending: list[str], hops: list[int]) -> bool:
        """Follow one more symlink of a chain: True when it is absolute (outside at once),
        else its parts are queued to be walked."""
        hops[0] += 1
        if hops[0] > MAX_SYMLINK_HOPS:
            raise unsafe("/".join(path), f"more than {MAX_SYMLINK_HOPS} links in a chain")
        if link.link.startswith("/"):
            return True
        pending.extend(reversed(link.link.split("/")))
        return False

    def _strip(self, parts: tuple[str, ...]) -> tuple[str, ...] | None:
        """Re-root ``parts`` under the strip prefix; None when the entry lies outside it."""
        if self.spec.strip_prefix is None:
            return parts
        prefix = split_member_name(self.spec.strip_prefix)
        if parts[: len(prefix)] != prefix:
            return None
        return parts[len(prefix) :]

    def _lookup(self, path: tuple[str, ...]) -> _Node | None:
        node: _Node | None = self.root
        for part in path:
            node = node.children.get(part) if node is not None else None
        return node

    def _place(self, member: Member, path: tuple[str, ...]) -> None:
        """Walks ``path`` once: every parent must be a directory (made implicit if new), the
        entry itself new (or a directory implied so far, if it is one)."""
        node = self._parent_dir(member, path)
        kind: Kind = "file" if member.kind == "hardlink" else member.kind
        existing = node.children.get(path[-1])
        if existing is None:
            node.children[path[-1]] = _Node(kind, link=member.linkname if kind == "symlink" else "")
        elif existing.kind is not None:
            raise unsafe(member.name, "duplicate entry")
        elif kind != "dir":
            raise unsafe(member.name, "duplicate entry (already a directory)")
        else:
            existing.kind = "dir"
        if member.kind == "file":
            self._count(member.name, member.size)
        elif member.kind == "hardlink":
            self.files += 1
        elif member.kind == "symlink":
            self.symlinks.append(path)

    def _parent_dir(self, member: Member, path: tuple[str, ...]) -> _Node:
        """The directory node ``path`` goes in, its missing parents made implicit; a parent
        that is a symlink or a file refuses the entry."""
        node = self.root
        for i, part in enumerate(path[:-1]):
            child = node.children.get(part)
            if child is None:
                child = node.children[part] = _Node()
            elif child.kind == "symlink":
                raise unsafe(
                    member.name, f"path goes through the symlink {'/'.join(path[: i + 1])!r}"
                )
            elif child.kind not in (None, "dir"):
                raise unsafe(member.name, f"path goes through the file {'/'.join(path[: i + 1])!r}")
            node = child
        return node

    def _count(self, name: str, size: int) -> None:
        if self.unpacked + size > self.spec.max_unpacked:
            raise too_big(self.spec.max_unpacked, f" (at entry {name!r})")
        self.unpacked += size
        self.files += 1

    def _check_link(self, member: Member, path: tuple[str, ...]) -> str:
        if len(member.linkname) > MAX_NAME:
            raise unsafe(member.name, f"link target longer than {MAX_NAME} characters")
        if member.kind == "symlink":
            if link_escapes(path, member.linkname):
                raise unsafe(
                    member.name, f"symlink to {member.linkname!r} points outside the archive"
                )
            return member.linkname
        if member.kind != "hardlink":
            return ""
        source = self._hardlink_source(member)
        found = self._lookup(source) if source is not None else None
        if found is None or found.kind != "file":
            raise unsafe(
                member.name,
                f"hardlink to {member.linkname!r} is not an earlier file in the archive",
            )
        assert source is not None
        return "/".join(source)

    def _hardlink_source(self, member: Member) -> tuple[str, ...] | None:
        if member.linkname.startswith("/") or ".." in member.linkname.split("/"):
            raise unsafe(member.name, f"hardlink to {member.linkname!r} points outside the archive")
        parts = self._strip(split_member_name(member.linkname))
        if not parts or self.spec.layout == "legacy":
            return None
        return parts

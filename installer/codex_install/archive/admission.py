"""The pure half of extraction: which entry names, kinds, links and sizes an archive may hold,
and where each admitted entry lands in the staging directory (the release layouts)."""

from __future__ import annotations

from dataclasses import dataclass, field

from codex_install.archive.spec import (
    BLOCK,
    ENTRYPOINT,
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
_REFUSED_KINDS: dict[Kind, str] = {
    "device": "device or fifo entries are not allowed",
    "unsupported": "unsupported entry type (sparse, multi-volume, ...)",
}


def split_member_name(name: str) -> tuple[str, ...]:
    """The path components of an entry name; refuses absolute paths and ``..``."""
    if not name:
        raise unsafe(name, "empty name")
    if "\0" in name:
        raise unsafe(name, "NUL byte in name")
    if name.startswith("/"):
        raise unsafe(name, "absolute path")
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
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


@dataclass
class Admission:
    """Decides, entry by entry, what may be written where.

    It remembers every path it admitted so it can refuse duplicates, paths through symlinks or
    files, hardlinks to anything but an earlier file, and an archive that unpacks too big.
    """

    spec: ExtractSpec
    entries: dict[tuple[str, ...], Kind] = field(default_factory=dict)
    implicit_dirs: set[tuple[str, ...]] = field(default_factory=set)
    symlinks: list[tuple[str, ...]] = field(default_factory=list)
    unpacked: int = 0
    files: int = 0

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
        self._check_parents(member.name, path)
        self._check_new(member.name, path, member.kind)
        link = self._check_link(member, path)
        self._record(member, path)
        return Planned(path, member.kind, member.size, member.mode, link)

    def count_trailing(self, size: int) -> None:
        """Bytes after the end-of-archive marker (already held to the cap by ``Blocks``).
        Tar streams are whole 512-byte blocks, which catches a plain .tar cut in its padding."""
        if size % BLOCK:
            raise corrupt("tar stream does not end on a block boundary")

    def check_complete(self) -> None:
        if self.entries.get(ENTRYPOINT) != "file":
            what = f"codex-{self.spec.target}" if self.spec.layout == "legacy" else "bin/codex"
            raise UnsafeArchiveError(f"archive has no {what} regular file; not a Codex release")

    def _strip(self, parts: tuple[str, ...]) -> tuple[str, ...] | None:
        """Re-root ``parts`` under the strip prefix; None when the entry lies outside it."""
        if self.spec.strip_prefix is None:
            return parts
        prefix = split_member_name(self.spec.strip_prefix)
        if parts[: len(prefix)] != prefix:
            return None
        return parts[len(prefix) :]

    def _record(self, member: Member, path: tuple[str, ...]) -> None:
        if member.kind == "file":
            self._count(member.name, member.size)
        elif member.kind == "hardlink":
            self.files += 1
        self.entries[path] = "file" if member.kind == "hardlink" else member.kind
        if member.kind == "symlink":
            self.symlinks.append(path)
        for i in range(1, len(path)):
            self.implicit_dirs.add(path[:i])

    def _count(self, name: str, size: int) -> None:
        if self.unpacked + size > self.spec.max_unpacked:
            raise too_big(self.spec.max_unpacked, f" (at entry {name!r})")
        self.unpacked += size
        self.files += 1

    def _check_parents(self, name: str, path: tuple[str, ...]) -> None:
        for i in range(1, len(path)):
            kind = self.entries.get(path[:i])
            if kind == "symlink":
                raise unsafe(name, f"path goes through the symlink {'/'.join(path[:i])!r}")
            if kind is not None and kind != "dir":
                raise unsafe(name, f"path goes through the file {'/'.join(path[:i])!r}")

    def _check_new(self, name: str, path: tuple[str, ...], kind: Kind) -> None:
        if path in self.entries:
            raise unsafe(name, "duplicate entry")
        if path in self.implicit_dirs and kind != "dir":
            raise unsafe(name, "duplicate entry (already a directory)")

    def _check_link(self, member: Member, path: tuple[str, ...]) -> str:
        if member.kind == "symlink":
            if link_escapes(path, member.linkname):
                raise unsafe(
                    member.name, f"symlink to {member.linkname!r} points outside the archive"
                )
            return member.linkname
        if member.kind != "hardlink":
            return ""
        source = self._hardlink_source(member)
        if source is None or self.entries.get(source) != "file":
            raise unsafe(
                member.name,
                f"hardlink to {member.linkname!r} is not an earlier file in the archive",
            )
        return "/".join(source)

    def _hardlink_source(self, member: Member) -> tuple[str, ...] | None:
        if member.linkname.startswith("/") or ".." in member.linkname.split("/"):
            raise unsafe(member.name, f"hardlink to {member.linkname!r} points outside the archive")
        parts = self._strip(split_member_name(member.linkname))
        if not parts or self.spec.layout == "legacy":
            return None
        return parts

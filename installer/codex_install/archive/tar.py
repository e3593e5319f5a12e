"""Our own streaming tar reader (``tarfile`` only parses single header blocks): 512-byte
blocks over decompressed chunks, pax and GNU long-name headers, one ``Member`` per entry."""

from __future__ import annotations

import tarfile
from collections.abc import Iterator

from codex_install.archive.spec import BLOCK, Kind, Member, corrupt, too_big

_MAX_META = 1 << 20  # pax / GNU long-name payloads are names, never megabytes
_MAX_MTIME = 1 << 33  # year 2242; anything else is junk we do not hand to utime()
_ZERO_BLOCK = bytes(BLOCK)
_KINDS: dict[bytes, Kind] = {
    tarfile.REGTYPE: "file",
    tarfile.AREGTYPE: "file",
    tarfile.CONTTYPE: "file",
    tarfile.LNKTYPE: "hardlink",
    tarfile.SYMTYPE: "symlink",
    tarfile.DIRTYPE: "dir",
    tarfile.CHRTYPE: "device",
    tarfile.BLKTYPE: "device",
    tarfile.FIFOTYPE: "device",
}
# Headers that describe the next entry rather than being one, and the pax key each sets
# (None: records parsed as pax; global "g" headers carry comments, never names).
_META: dict[bytes, str | None] = {
    tarfile.XHDTYPE: None,
    tarfile.XGLTYPE: None,
    tarfile.GNUTYPE_LONGNAME: "path",
    tarfile.GNUTYPE_LONGLINK: "linkpath",
}


class Blocks:
    """Reads a tar byte stream from decompressed chunks; member data is handed out as
    memoryview slices of those chunks (no copies).

    Every byte it pulls counts against ``limit``, whatever becomes of it (written, skipped, or
    after the end marker): the decompressor runs at most a bounded pipe ahead of this count, so
    a bomb is refused once ``limit`` bytes came out, not after inflating all of it.
    """

    def __init__(self, chunks: Iterator[bytes], limit: int) -> None:
        self._chunks = chunks
        self._view = memoryview(b"")
        self._pos = 0
        self._pulled = 0
        self._limit = limit

    def _fill(self) -> bool:
        # Everything pulled so far was consumed: past the cap, the stream is refused here,
        # at most one chunk after crossing it (``drain`` checks the exact total).
        self._check("")
        for chunk in self._chunks:
            self._pulled += len(chunk)
            self._view, self._pos = memoryview(chunk), 0
            return True
        return False

    def _check(self, where: str) -> None:
        if self._pulled > self._limit:
            raise too_big(self._limit, where)

    def reserve(self, size: int, name: str) -> None:
        """Refuses an entry whose stated size alone takes the stream past the limit, before any
        of its data is inflated (skipped entries included)."""
        position = self._pulled - (len(self._view) - self._pos)
        if position + size > self._limit:
            raise too_big(self._limit, f" (at entry {name!r})")

    def take(self, n: int) -> bytes:
        if len(self._view) - self._pos >= n:  # the common case: one header inside one chunk
            out = bytes(self._view[self._pos : self._pos + n])
            self._pos += n
            return out
        parts: list[bytes] = []
        for piece in self.pieces(n):
            parts.append(bytes(piece))
        return b"".join(parts)

    def pieces(self, n: int) -> Iterator[memoryview]:
        """Exactly ``n`` bytes, as views valid until the next call; truncation raises."""
        while n:
            if self._pos >= len(self._view) and not self._fill():
                raise corrupt("tar stream ended inside an entry")
            step = min(n, len(self._view) - self._pos)
            yield self._view[self._pos : self._pos + step]
            self._pos += step
            n -= step

    def skip(self, n: int) -> None:
        for _ in self.pieces(n):
            pass

    def drain(self) -> int:
        """Reads to the end of input; the number of bytes that were left."""
        count = len(self._view) - self._pos
        self._view, self._pos = memoryview(b""), 0
        self._check(" (after its end)")
        for chunk in self._chunks:
            self._pulled += len(chunk)
            self._check(" (after its end)")
            count += len(chunk)
        return count


def _padding(size: int) -> int:
    return -size % BLOCK


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


_PAX_LENGTH_DIGITS = 20  # a record length never has more digits than the 1 MiB cap needs


def parse_pax(data: bytes) -> dict[str, str]:
    """Records of a pax extended header: ``"<len> <key>=<value>\\n"``. Each record is looked at
    once (the length's digits within a bounded window), and each must move on: linear, and no
    record can hold the parser in place."""
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data) and data[pos] != 0:
        space = data.find(b" ", pos, pos + _PAX_LENGTH_DIGITS + 1)
        digits = data[pos:space] if space > pos else b""
        if not digits.isdigit():
            raise corrupt("malformed pax header")
        end = pos + int(digits)
        record = data[space + 1 : end]
        if end <= space + 1 or end > len(data) or not record.endswith(b"\n") or b"=" not in record:
            raise corrupt("malformed pax header")
        key, _, value = record[:-1].partition(b"=")
        records[_text(key)] = _text(value)
        pos = end
    return records


def read_members(blocks: Blocks) -> Iterator[tuple[Member, int]]:
    """Yields each member and the size of its data, which the caller must consume (padding
    is handled here). Returns at the end-of-archive marker."""
    pax: dict[str, str] = {}
    meta = 0  # bytes of extended headers before this entry: all of them together are capped
    while True:
        header = blocks.take(BLOCK)
        if header == _ZERO_BLOCK:
            return
        info = _header(header)
        if info.type in _META:
            meta += info.size
            if meta > _MAX_META:
                raise corrupt("oversized tar extended headers")
            _read_meta(blocks, info, pax)
            continue
        member = _member(info, pax)
        pax, meta = {}, 0
        size = member.size if member.kind == "file" else 0
        yield member, size
        blocks.skip(_padding(size))


def _header(block: bytes) -> tarfile.TarInfo:
    try:
        info = tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
    except tarfile.HeaderError as e:
        raise corrupt(f"bad tar header ({e})", block) from e
    if info.size < 0:
        raise corrupt("negative size in tar header")
    return info


def _read_meta(blocks: Blocks, info: tarfile.TarInfo, pax: dict[str, str]) -> None:
    """Reads an extended header's payload into ``pax``, the overrides for the next entry."""
    if info.size > _MAX_META:
        raise corrupt("oversized tar extended header")
    payload = blocks.take(info.size)
    blocks.skip(_padding(info.size))
    key = _META[info.type]
    if key is not None:
        pax[key] = _text(payload.split(b"\0", 1)[0])
    elif info.type == tarfile.XHDTYPE:
        pax.update(parse_pax(payload))


def _member(info: tarfile.TarInfo, pax: dict[str, str]) -> Member:
    name = pax.get("path", info.name)
    kind = _KINDS.get(info.type, "unsupported")
    if any(key.startswith("GNU.sparse") for key in pax):
        kind = "unsupported"
    size = _pax_size(pax) if "size" in pax else info.size
    if kind == "file" and name.endswith("/") and info.type == tarfile.AREGTYPE:
        kind = "dir"
    mtime = int(info.mtime) if 0 <= info.mtime < _MAX_MTIME else 0
    return Member(name, kind, size, info.mode, pax.get("linkpath", info.linkname), mtime)


def _pax_size(pax: dict[str, str]) -> int:
    try:
        size = int(pax["size"])
    except ValueError:
        size = -1
    if size < 0:
        raise corrupt("malformed pax size")
    return size

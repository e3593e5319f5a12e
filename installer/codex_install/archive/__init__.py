"""Safe, streaming extraction of Codex release archives (SPEC §5); the public names.

``spec`` holds the shared vocabulary, ``admission`` the pure entry rules, ``decompress``,
``tar`` and ``writer`` one stage each, and ``extract`` the threaded pipeline joining them.
"""

from __future__ import annotations

from codex_install.archive.admission import link_escapes, split_member_name
from codex_install.archive.decompress import ZstdFrameWalker
from codex_install.archive.extract import StreamExtractor, extract_file
from codex_install.archive.spec import ArchiveFormat, ExtractResult, ExtractSpec, archive_format
from codex_install.archive.tar import parse_pax

__all__ = [
    "ArchiveFormat",
    "ExtractResult",
    "ExtractSpec",
    "StreamExtractor",
    "ZstdFrameWalker",
    "archive_format",
    "extract_file",
    "link_escapes",
    "parse_pax",
    "split_member_name",
]

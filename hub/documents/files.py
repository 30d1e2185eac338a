"""What an uploaded file is, by its bytes, and reading one no further than the limit.

The browser's content type and the file's name are the sender's claims: a page saved as
`id.png` would be served as HTML by a browser that trusted them. The first bytes decide, and
only PDF, PNG and JPEG are taken (the signed release, a photo or scan of an ID)."""

from dataclasses import dataclass
from typing import BinaryIO

CHUNK = 64 * 1024


@dataclass(frozen=True)
class FileType:
    media_type: str
    extension: str
    magic: bytes


FILE_TYPES = (
    FileType("application/pdf", "pdf", b"%PDF-"),
    FileType("image/png", "png", b"\x89PNG\r\n\x1a\n"),
    FileType("image/jpeg", "jpg", b"\xff\xd8\xff"),
)
BY_MEDIA_TYPE = {t.media_type: t for t in FILE_TYPES}


class FileRefused(ValueError):
    """The file is not one the hub takes, or too large; nothing was kept."""


def sniff(content: bytes) -> FileType:
    """The file's type by its magic bytes, or FileRefused."""
    for file_type in FILE_TYPES:
        if content.startswith(file_type.magic):
            return file_type
    raise FileRefused("Attach a PDF, PNG or JPEG file; this file is none of them.")


def read_limited(source: BinaryIO, limit: int) -> bytes:
    """Reads at most `limit` bytes, a chunk at a time, and refuses the file as soon as it holds
    more: a large upload is never read in full."""
    chunks: list[bytes] = []
    size = 0
    while chunk := source.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise FileRefused(f"The file is larger than {limit // (1024 * 1024) or 1} MB.")
        chunks.append(chunk)
    return b"".join(chunks)

"""What a file really is, from its first bytes: a name or a browser's claim proves nothing."""

from __future__ import annotations

import struct

# What an MMS may carry, as a person would name it.
ALLOWED_TYPES = {
    "image/jpeg": "JPEG picture",
    "image/png": "PNG picture",
    "image/gif": "GIF picture",
    "image/webp": "WebP picture",
    "video/mp4": "MP4 video",
    "video/3gpp": "3GP video",
}
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "video/mp4": ".mp4",
    "video/3gpp": ".3gp",
}
# Bytes enough for every signature below.
HEAD_LENGTH = 32
_3GP_BRANDS = (b"3gp", b"3g2")


def sniffed_type(head: bytes) -> str | None:
    """The allowed content type `head` (a file's first bytes) starts like, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    # ISO base media files (MP4, 3GP): a box size, then "ftyp" and the major brand.
    if head[4:8] == b"ftyp":
        return "video/3gpp" if head[8:11] in _3GP_BRANDS else "video/mp4"
    return None


def image_size(content_type: str, head: bytes) -> tuple[int, int] | None:
    """Width and height where the header says them at a fixed place (PNG, GIF); else None."""
    if content_type == "image/png" and len(head) >= 24:
        width, height = struct.unpack(">II", head[16:24])
        return width, height
    if content_type == "image/gif" and len(head) >= 10:
        width, height = struct.unpack("<HH", head[6:10])
        return width, height
    return None

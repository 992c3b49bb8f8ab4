"""Files of each kind an MMS may carry, built by hand, and a storage of the test's own."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.carrier_accounts import conftest as carrier_accounts

# The fake Twilio (the operator's and every account's) and fresh account adapters, as the
# carrier accounts' tests have them.
fake = carrier_accounts.fake
_fresh_account_cache = carrier_accounts._fresh_account_cache


def png(width: int = 2, height: int = 3, padding: int = 0) -> bytes:
    """A real PNG of `width` by `height`, made `padding` bytes longer by a private chunk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80\x40\x20" * width for _ in range(height))
    extra = chunk(b"twWy", b"\x00" * padding) if padding else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + extra
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
GIF = b"GIF89a\x04\x00\x05\x00\x80\x00\x00" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 32
THREE_GP = b"\x00\x00\x00\x14ftyp3gp4\x00\x00\x00\x00" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


def upload(name: str, content: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture(autouse=True)
def _files(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "files")

"""Telnyx's webhook signature: Ed25519 over "{telnyx-timestamp}|{raw body}", checked with the
public key shown in the Telnyx portal, the timestamp no further than TOLERANCE_SECONDS from now
(an old request replayed is refused even with its valid signature)."""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

TOLERANCE_SECONDS = 300


def public_key_load(encoded: str) -> Ed25519PublicKey | None:
    """The portal's base64 public key; None when it is not 32 bytes of base64."""
    try:
        raw = base64.b64decode(encoded.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        return None


def signature_valid(
    public_key: Ed25519PublicKey | None,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now: float,
) -> bool:
    """Whether `signature` (base64) signs `timestamp|body` with `public_key`, and `timestamp`
    (Unix seconds) is within TOLERANCE_SECONDS of `now`."""
    if public_key is None or not timestamp or not signature:
        return False
    try:
        sent_at = int(timestamp.strip())
        decoded = base64.b64decode(signature.strip(), validate=True)
    except (ValueError, binascii.Error):
        return False
    if abs(now - sent_at) > TOLERANCE_SECONDS:
        return False
    try:
        public_key.verify(decoded, timestamp.strip().encode() + b"|" + body)
    except InvalidSignature:
        return False
    return True

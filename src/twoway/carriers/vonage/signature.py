"""Vonage's signed webhooks (Messages API): `Authorization: Bearer <JWT>`, the JWT signed HS256
with the account's signature secret, its `payload_hash` claim the SHA-256 of the raw body (so
the body is what was signed) and `iat` no further than TOLERANCE_SECONDS from now."""

from __future__ import annotations

import hashlib
import hmac

import jwt

TOLERANCE_SECONDS = 300


def signed_token_valid(
    authorization: str, body: bytes, secret: str, *, api_key: str, now: float
) -> bool:
    """Whether `authorization` carries a JWT that `secret` signed, for `body`, recent, and (when
    the token names one) for our `api_key`."""
    scheme, _, token = authorization.partition(" ")
    if not secret or scheme.lower() != "bearer" or not token.strip():
        return False
    try:
        # Only HS256: a token may not pick its own algorithm ("none", or RS256 with the secret
        # taken for a public key).
        claims = jwt.decode(
            token.strip(),
            secret,
            algorithms=["HS256"],
            options={"require": ["iat", "payload_hash"], "verify_iat": False},
        )
    except jwt.PyJWTError:
        return False
    iat = claims.get("iat")
    if not isinstance(iat, (int, float)) or abs(now - iat) > TOLERANCE_SECONDS:
        return False
    claimed_key = claims.get("api_key")
    if claimed_key is not None and api_key and claimed_key != api_key:
        return False
    payload_hash = str(claims.get("payload_hash") or "")
    return hmac.compare_digest(payload_hash.lower(), hashlib.sha256(body).hexdigest())

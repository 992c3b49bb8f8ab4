"""Carrier credentials at rest: a JSON object encrypted with Fernet (AES-128-CBC + HMAC-SHA256).

The keys come from CARRIER_CREDENTIALS_KEY when it is set (newest first: the first encrypts, every
one decrypts) and otherwise from SECRET_KEY. Each is stretched with HKDF under a label of its own,
so the encryption key is never Django's signing key itself. Keys derived from SECRET_KEY (and
SECRET_KEY_FALLBACKS) always decrypt too, so setting CARRIER_CREDENTIALS_KEY on an installation
that ran without it, or rotating SECRET_KEY the Django way, loses nothing; `twoway manage
rotate_carrier_credentials` then re-encrypts everything with the newest key.
"""

from __future__ import annotations

import base64
import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

# The HKDF context: changing it makes every stored credential unreadable.
KEY_LABEL = b"twoway carrier account credentials v1"


class CredentialsUnreadable(Exception):
    """No configured key decrypts the stored credentials (a key was changed or dropped)."""


def _fernet_key(secret: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEY_LABEL).derive(
        secret.encode()
    )
    return base64.urlsafe_b64encode(derived)


def _secrets() -> tuple[str, ...]:
    """Every configured secret, the one that encrypts first."""
    own = [key.strip() for key in getattr(settings, "CARRIER_CREDENTIALS_KEY", []) if key.strip()]
    django = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return tuple(dict.fromkeys([*own, *[str(key) for key in django if key]]))


@lru_cache(maxsize=4)
def _multi_fernet(secrets: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_fernet_key(secret)) for secret in secrets])


def _fernet() -> MultiFernet:
    return _multi_fernet(_secrets())


def credentials_encrypt(credentials: dict[str, str]) -> str:
    return _fernet().encrypt(json.dumps(credentials, sort_keys=True).encode()).decode("ascii")


def credentials_decrypt(token: str) -> dict[str, str]:
    try:
        plain = _fernet().decrypt(token.encode("ascii"))
    except (InvalidToken, ValueError):
        raise CredentialsUnreadable(
            "The credentials cannot be decrypted with the configured keys "
            "(CARRIER_CREDENTIALS_KEY, SECRET_KEY)."
        ) from None
    value = json.loads(plain)
    return {str(key): str(item) for key, item in value.items()}


def credentials_reencrypt(token: str) -> str:
    """The same credentials encrypted with the newest key (CredentialsUnreadable if none reads
    them)."""
    try:
        return _fernet().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, ValueError):
        raise CredentialsUnreadable(
            "The credentials cannot be decrypted with the configured keys "
            "(CARRIER_CREDENTIALS_KEY, SECRET_KEY)."
        ) from None


def masked(value: str) -> str:
    """A credential as it may be shown: its last 4 characters (none of a short one)."""
    if len(value) < 12:
        return "••••"
    return "••••" + value[-4:]

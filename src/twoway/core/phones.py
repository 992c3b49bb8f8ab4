"""Phone numbers: everything is stored as E.164; people may type them any common way."""

from __future__ import annotations

import functools

import phonenumbers


class InvalidPhoneNumber(ValueError):
    pass


def normalize_phone(text: str, region: str = "US") -> str:
    """E.164 for a number typed as 10 digits (with or without hyphens), 1+10 digits or E.164."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise InvalidPhoneNumber("Enter a phone number.")
    try:
        parsed = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"{cleaned!r} is not a phone number.") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber(
            f"{cleaned!r} is not a valid phone number: use 10 digits such as 415-555-0123 "
            "or international format such as +14155550123."
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def format_for_display(e164: str) -> str:
    """(415) 555-0123 for North American numbers, +44 20 … for others, short codes as they are."""
    if not e164.startswith("+"):
        return e164
    return _format_international(e164)


# Cached: the inbox list shows up to 100 numbers on every page and live refresh, mostly the
# same ones again, and parsing one takes about 50 µs. 10,000 short strings: about 1 MB.
@functools.lru_cache(maxsize=10_000)
def _format_international(e164: str) -> str:
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if parsed.country_code == 1:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)

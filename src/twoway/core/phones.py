"""Phone numbers: everything is stored as E.164; people may type them any common way."""

from __future__ import annotations

import functools

import phonenumbers

from twoway.core.text import NUL_MESSAGE, has_nul


class InvalidPhoneNumber(ValueError):
    pass


def normalize_phone(text: str, region: str = "US") -> str:
    """E.164 for a number typed as 10 digits (with or without hyphens), 1+10 digits or E.164.

    A number with an extension is refused: a text cannot reach an extension, and dropping it
    would text whoever answers the main line."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise InvalidPhoneNumber("Enter a phone number.")
    if has_nul(cleaned):
        # phonenumbers would skip one at the end; refused like a NUL in any other text.
        raise InvalidPhoneNumber(NUL_MESSAGE)
    try:
        parsed = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"{cleaned!r} is not a phone number.") from exc
    if parsed.extension:
        raise InvalidPhoneNumber(
            f"{cleaned!r} has an extension ({parsed.extension}); texts cannot reach an "
            "extension. Give the number of a phone that receives texts."
        )
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber(
            f"{cleaned!r} is not a valid phone number: use 10 digits such as 415-555-0123 "
            "or international format such as +14155550123."
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# Numbers phonenumbers knows cannot take a text: paid lines, voicemail access, shared-cost and
# "universal access" lines. (Whether a North American number is a landline cannot be told from
# the number, so those are left to the carrier.)
_NO_SMS_TYPES = {
    phonenumbers.PhoneNumberType.SHARED_COST: "a shared-cost line",
    phonenumbers.PhoneNumberType.VOICEMAIL: "a voicemail access number",
    phonenumbers.PhoneNumberType.UAN: "a universal access number",
}


def country_of(e164: str) -> str:
    """The ISO 3166 code of the country (or NANP territory) of an E.164 number; "" if none."""
    return _line_facts(e164)[1]


def is_premium_rate(e164: str) -> bool:
    return _line_facts(e164)[0] == phonenumbers.PhoneNumberType.PREMIUM_RATE


def no_sms_kind(e164: str) -> str | None:
    """What kind of line `e164` is when it is one that cannot receive texts, else None."""
    return _NO_SMS_TYPES.get(_line_facts(e164)[0])


# Every send asks all three of its destination (the recipient checks): one parse answers them,
# where a parse each made phone numbers a fifth of a batch send's CPU. 10,000 entries: ~2 MB.
@functools.lru_cache(maxsize=10_000)
def _line_facts(e164: str) -> tuple[int, str]:
    """The number's line type (phonenumbers.PhoneNumberType) and its region ("" if none)."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return phonenumbers.PhoneNumberType.UNKNOWN, ""
    return phonenumbers.number_type(parsed), phonenumbers.region_code_for_number(parsed) or ""


def is_country_code(code: str) -> bool:
    """True for an ISO 3166 code of a country or territory that has phone numbers."""
    return code in phonenumbers.SUPPORTED_REGIONS


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

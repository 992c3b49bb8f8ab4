"""SMS segment calculator following GSM 03.38 (GSM-7) and UCS-2/UTF-16 rules.

Carriers bill per segment, so the composer and the CLI must count exactly the way the
network splits a message:

* GSM-7: 160 septets in a single message, 153 per part once a User Data Header is needed.
  Extension-table characters are sent as ESC + char (2 septets) and the pair is never split.
* UCS-2: 70 UTF-16 code units single, 67 per part. Handsets and gateways do not split a
  user-perceived character (grapheme cluster), so a cluster that does not fit moves whole
  to the next part.

Pure Python on purpose: no Django, no third-party grapheme library.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

GSM7 = "GSM-7"
UCS2 = "UCS-2"

GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67

# GSM 03.38 default alphabet, in table order (0x00-0x7F) minus 0x1B, which is the escape to
# the extension table rather than a character. Position 0x09 is capital Ç: lower-case ç is
# not representable, a frequent surprise for French/Portuguese text.
GSM7_BASIC: frozenset[str] = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)

# Extension table: each of these costs ESC + char = 2 septets.
GSM7_EXTENSION: frozenset[str] = frozenset("\f^{}\\[~]|€")

# Non-GSM characters that people (and word processors) type in place of a GSM one. Swapping
# them keeps a message in GSM-7, which more than doubles the room per segment.
LOOKALIKE_REPLACEMENTS: dict[str, str] = {
    # single quotes, apostrophes, primes, accents used as apostrophes
    "\u2018": "'",  # left single quotation mark
    "\u2019": "'",  # right single quotation mark
    "\u201a": "'",  # single low-9 quotation mark
    "\u201b": "'",  # single high-reversed-9 quotation mark
    "\u2032": "'",  # prime
    "\u02bc": "'",  # modifier letter apostrophe
    "\u00b4": "'",  # acute accent
    "`": "'",  # backtick is not in GSM-7
    # double quotes
    "\u201c": '"',  # left double quotation mark
    "\u201d": '"',  # right double quotation mark
    "\u201e": '"',  # double low-9 quotation mark
    "\u201f": '"',  # double high-reversed-9 quotation mark
    "\u2033": '"',  # double prime
    "\u00ab": '"',  # left guillemet
    "\u00bb": '"',  # right guillemet
    # dashes and minus signs
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "-",  # figure dash
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2015": "-",  # horizontal bar
    "\u2212": "-",  # minus sign
    # ellipsis
    "\u2026": "...",  # horizontal ellipsis
    # spaces that render as a normal space
    "\u00a0": " ",  # no-break space
    "\u2002": " ",  # en space
    "\u2003": " ",  # em space
    "\u2007": " ",  # figure space
    "\u2009": " ",  # thin space
    "\u202f": " ",  # narrow no-break space
    # invisible characters that would otherwise force UCS-2 for nothing
    "\u200b": "",  # zero-width space
    "\u00ad": "",  # soft hyphen
    "\ufeff": "",  # byte order mark
    # symbols with a distinct code point that looks identical to a GSM Greek capital
    "\u2126": "Ω",  # ohm sign
    "\u2206": "Δ",  # increment
}
_LOOKALIKE_TABLE = str.maketrans(LOOKALIKE_REPLACEMENTS)


@dataclass(frozen=True)
class SegmentInfo:
    encoding: str  # GSM7 or UCS2
    segments: int
    characters: int  # Python str length, i.e. code points
    units: int  # septets (GSM-7, escapes count 2) or UTF-16 code units (UCS-2)
    non_gsm: list[str] = field(default_factory=list)  # distinct, in order of first appearance
    per_segment: int = GSM7_SINGLE  # capacity of each segment for this message
    remaining: int = GSM7_SINGLE  # units still free in the last segment

    def as_dict(self) -> dict[str, object]:
        """Stable shape printed by the CLI."""
        return {
            "encoding": self.encoding,
            "segments": self.segments,
            "characters": self.characters,
            "units": self.units,
            "non_gsm": list(self.non_gsm),
        }

    def as_composer_dict(self) -> dict[str, object]:
        """CLI shape plus the numbers the composer needs for its "n left" counter."""
        return {**self.as_dict(), "per_segment": self.per_segment, "remaining": self.remaining}


def replace_lookalikes(text: str) -> str:
    """Replace typographic look-alikes with their GSM-7 equivalents."""
    return text.translate(_LOOKALIKE_TABLE)


def segment_info(text: str) -> SegmentInfo:
    non_gsm = list(dict.fromkeys(ch for ch in text if not _is_gsm(ch)))
    if non_gsm:
        encoding, single, multi = UCS2, UCS2_SINGLE, UCS2_MULTI
        costs = _ucs2_costs(text)
    else:
        encoding, single, multi = GSM7, GSM7_SINGLE, GSM7_MULTI
        # Each character is an indivisible item: an escape pair is never split.
        costs = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    segments, per_segment, remaining = _pack(costs, single, multi)
    return SegmentInfo(
        encoding=encoding,
        segments=segments,
        characters=len(text),
        units=sum(costs),
        non_gsm=non_gsm,
        per_segment=per_segment,
        remaining=remaining,
    )


def _is_gsm(ch: str) -> bool:
    return ch in GSM7_BASIC or ch in GSM7_EXTENSION


def _utf16_len(s: str) -> int:
    # Astral code points need a surrogate pair; a lone surrogate in a str still counts 1.
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in s)


def _ucs2_costs(text: str) -> list[int]:
    """UTF-16 length of each unsplittable item (grapheme cluster)."""
    costs: list[int] = []
    for cluster in graphemes(text):
        size = _utf16_len(cluster)
        if size <= UCS2_MULTI:
            costs.append(size)
        else:
            # A cluster longer than a whole part (e.g. dozens of stacked combining marks) has
            # to be split somewhere; fall back to code points so surrogate pairs stay whole.
            costs.extend(_utf16_len(ch) for ch in cluster)
    return costs


def _pack(costs: list[int], single: int, multi: int) -> tuple[int, int, int]:
    """Return (segments, per_segment, remaining) for indivisible items of the given costs."""
    total = sum(costs)
    if total <= single:
        return (1 if total else 0), single, single - total
    parts, used = 1, 0
    for cost in costs:
        # An item that does not fit in what is left of this part starts the next one; the
        # unused tail of the part is simply wasted, as on the wire.
        if used + cost > multi:
            parts, used = parts + 1, 0
        used += cost
    return parts, multi, multi - used


# --- grapheme clusters -----------------------------------------------------------------
# A pragmatic subset of UAX #29 extended grapheme clusters covering what shows up in texts:
# CR LF, controls, combining/extending marks, ZWJ emoji sequences, regional-indicator flags,
# emoji modifiers, variation selectors, keycaps, tag sequences and Hangul syllables.

_ZWJ = "\u200d"


def graphemes(text: str) -> list[str]:
    clusters: list[str] = []
    for ch in text:
        if clusters and _joins(clusters[-1], ch):
            clusters[-1] += ch
        else:
            clusters.append(ch)
    return clusters


def _joins(cluster: str, ch: str) -> bool:
    """Whether ch continues the grapheme cluster that currently ends the text."""
    last = cluster[-1]
    if last == "\r":
        return ch == "\n"  # GB3, GB4
    if _is_control(last) or _is_control(ch):
        return False  # GB4, GB5
    if _is_extend(ch):
        return True  # GB9, GB9a
    if last == _ZWJ and _is_pictographic(ch) and _is_pictographic(cluster[0]):
        return True  # GB11: emoji ZWJ sequence
    if _is_regional(ch) and _is_regional(last):
        # GB12/13: indicators pair up left to right, so join only onto an odd run.
        run = 0
        for prev in reversed(cluster):
            if not _is_regional(prev):
                break
            run += 1
        return run % 2 == 1
    return _hangul_joins(last, ch)  # GB6-GB8


def _is_control(ch: str) -> bool:
    return ch in "\r\n" or unicodedata.category(ch) in ("Cc", "Zl", "Zp")


def _is_extend(ch: str) -> bool:
    cp = ord(ch)
    return (
        unicodedata.combining(ch) != 0
        or unicodedata.category(ch) in ("Mn", "Me", "Mc")
        or ch in (_ZWJ, "\u200c")
        or 0xFE00 <= cp <= 0xFE0F  # variation selectors, incl. text/emoji VS15/VS16
        or 0xE0100 <= cp <= 0xE01EF  # variation selectors supplement
        or 0x1F3FB <= cp <= 0x1F3FF  # emoji skin-tone modifiers
        or 0xE0020 <= cp <= 0xE007F  # tag characters (subdivision flags)
        or cp == 0x20E3  # combining enclosing keycap
    )


def _is_pictographic(ch: str) -> bool:
    # Approximates Extended_Pictographic; the plane-1 range also catches emoji newer than the
    # interpreter's Unicode database (reported there as unassigned).
    cp = ord(ch)
    return 0x1F000 <= cp <= 0x1FAFF or unicodedata.category(ch) == "So"


def _is_regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _hangul_kind(ch: str) -> str:
    cp = ord(ch)
    if 0x1100 <= cp <= 0x115F or 0xA960 <= cp <= 0xA97C:
        return "L"
    if 0x1160 <= cp <= 0x11A7 or 0xD7B0 <= cp <= 0xD7C6:
        return "V"
    if 0x11A8 <= cp <= 0x11FF or 0xD7CB <= cp <= 0xD7FB:
        return "T"
    if 0xAC00 <= cp <= 0xD7A3:
        return "LV" if (cp - 0xAC00) % 28 == 0 else "LVT"
    return ""


def _hangul_joins(last: str, ch: str) -> bool:
    a, b = _hangul_kind(last), _hangul_kind(ch)
    return (
        (a == "L" and b in ("L", "V", "LV", "LVT"))
        or (a in ("LV", "V") and b in ("V", "T"))
        or (a in ("LVT", "T") and b == "T")
    )

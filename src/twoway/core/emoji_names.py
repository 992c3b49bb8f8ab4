"""The emoji names people type between colons, as the server reads them.

`emoji_from_shortcodes` (core/text.py) sends `:thumbs_up:`, `:+1:` or `:smile:` as its emoji
with the emoji package's English names and aliases. The composer converts them as they are typed
and offers a picker searched by the same names, so it is given this table: every name the
server converts, each with the emoji the server puts in its place. A name that is an alias of one
emoji and the English name of another is the alias's (the server looks aliases up first), and
of two emoji sharing a name the first in the package's order wins, as on the server.
"""

from __future__ import annotations

import json
from functools import lru_cache

import emoji
from emoji.unicode_codes import STATUS

# The emoji package's own version: the composer's copy of the table is cached under it, so a
# new package (new emoji, renamed ones) is fetched afresh.
EMOJI_NAMES_VERSION = emoji.__version__

_FULLY_QUALIFIED = STATUS["fully_qualified"]


@lru_cache(maxsize=1)
def emoji_by_name() -> dict[str, str]:
    """Every name the server converts (without its colons) and the emoji it becomes."""
    usable = [
        (char, data)
        for char, data in emoji.EMOJI_DATA.items()
        if data["status"] <= _FULLY_QUALIFIED
    ]
    names: dict[str, str] = {}
    for char, data in usable:
        for alias in data.get("alias", ()):
            names.setdefault(alias.strip(":"), char)
    for char, data in usable:
        names.setdefault(data["en"].strip(":"), char)
    return names


def _picker_order(char: str) -> tuple[int, str]:
    # Faces and hands (the Emoticons and Supplemental Symbols blocks) first, where people look
    # for them; then the rest in code point order, which keeps flags, animals, food together.
    first = ord(char[0])
    return (0 if 0x1F600 <= first <= 0x1F64F or 0x1F90C <= first <= 0x1F9FF else 1, char)


@lru_cache(maxsize=1)
def emoji_names_json() -> bytes:
    """The table for the composer, as JSON: `[[emoji, name, other names...], ...]`, in the order
    the picker shows them; every name listed is one the server converts to that emoji."""
    grouped: dict[str, list[str]] = {}
    for name, char in emoji_by_name().items():
        grouped.setdefault(char, []).append(name)
    english = {char: data["en"].strip(":") for char, data in emoji.EMOJI_DATA.items()}
    rows = []
    for char in sorted(grouped, key=_picker_order):
        # The English name first: the picker shows it as the emoji's label.
        names = sorted(grouped[char], key=lambda name: name != english[char])
        rows.append([char, *names])
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode()

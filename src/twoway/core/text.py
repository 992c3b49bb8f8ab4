"""Text typed by people or sent over the API: what is refused at the edges.

A NUL character is refused: PostgreSQL cannot store one in a text column (SQLite can), so
without one rule the two databases would behave differently, and no person means one.
"""

from __future__ import annotations

import re

import emoji

NUL_MESSAGE = "Null characters are not allowed."

# The longest searches taken, in characters, on the web pages and in the API alike.
CONTACT_QUERY_MAX_LENGTH = 200
SEARCH_QUERY_MAX_LENGTH = 500

# Characters that show nothing: zero-width spaces and joiners, direction marks and embeddings,
# the word joiner and the byte-order mark. A text of only these (and white space) is empty to
# the person who gets it, but would be sent and billed.
_INVISIBLE = re.compile(r"[\s\u200b-\u200f\u2060\ufeff\u202a-\u202e\u2066-\u2069]*")


def has_nul(text: str) -> bool:
    return "\x00" in text


def query_problem(query: str, max_length: int) -> str:
    """What is wrong with a search typed by a person, as a sentence; "" when nothing is."""
    if has_nul(query):
        return NUL_MESSAGE
    if len(query) > max_length:
        return f"Search for at most {max_length} characters."
    return ""


def is_blank(text: str) -> bool:
    """True when `text` shows nothing: empty, white space or invisible marks only."""
    return _INVISIBLE.fullmatch(text) is not None


# A spreadsheet runs a cell starting with these as a formula; a contact's text must stay text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: str) -> str:
    """A cell for a CSV file people open in a spreadsheet: text, never a formula."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def csv_cell_read(value: str) -> str:
    """A cell as it was before `csv_cell` guarded it: the quote it put before a formula's first
    character taken off, any other quote kept (a name like 'Tis is the person's own)."""
    if value.startswith("'") and value[1:].startswith(_FORMULA_STARTS):
        return value[1:]
    return value


def emoji_from_shortcodes(text: str) -> str:
    """`:name:` shortcodes turned into their emoji, with the names people type in chat apps
    (`:thumbs_up:`, `:+1:`, `:smile:`: the emoji package's aliases); anything else between
    colons (a time, `:not_an_emoji:`) is left as it is."""
    if text.count(":") < 2:
        return text
    return emoji.emojize(text, language="alias")

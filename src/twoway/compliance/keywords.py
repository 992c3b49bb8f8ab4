"""Recognises the carrier-standard compliance keywords in an inbound text."""

from __future__ import annotations

import enum
import re

OPT_OUT_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})

# Phrases that probably mean "stop" but are not a keyword: an agent confirms them. Not after a
# negation ("don't stop texting me"); phones type the apostrophe as ' or as \u2019.
_NATURAL_OPT_OUT = re.compile(
    r"(?<!n't )(?<!n\u2019t )(?<!not )(?<!dont )(?<!never )"
    r"\b(stop (texting|messaging|sending|contacting)|please stop(?! by\b)|stop,? please|"
    r"unsubscribe|remove me|take me off|do ?n[o'\u2019]?t (text|message|contact) me|opt me out|"
    r"opt[- ]?out|no more (texts|messages))\b",
    re.IGNORECASE,
)
# Everything around the word that carriers ignore too: spaces, punctuation, emoji.
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")


class KeywordAction(enum.Enum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


def normalize_keyword(text: str) -> str:
    return _EDGES.sub("", text.strip()).upper()


def classify(text: str) -> KeywordAction | None:
    """The action of a message that is one keyword alone (any case, punctuation ignored)."""
    word = normalize_keyword(text)
    if not word or " " in word:
        return None
    if word in OPT_OUT_KEYWORDS:
        return KeywordAction.OPT_OUT
    if word in OPT_IN_KEYWORDS:
        return KeywordAction.OPT_IN
    if word in HELP_KEYWORDS:
        return KeywordAction.HELP
    return None


def looks_like_opt_out(text: str) -> bool:
    """True for natural-language requests to stop ("please stop texting me")."""
    if classify(text) is not None:
        return False
    words = re.findall(r"\w+", text.upper())
    if words and all(word in OPT_OUT_KEYWORDS for word in words):
        return True  # "STOP STOP", "Stop. Unsubscribe."
    return bool(_NATURAL_OPT_OUT.search(text))

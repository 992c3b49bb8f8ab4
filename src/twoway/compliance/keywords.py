"""Recognises compliance keywords in an inbound text: the carrier defaults every organization
has, plus the ones an organization adds (`organization_keywords.py`). No database here."""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


class KeywordAction(enum.Enum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


# The carrier defaults, which no organization can remove. Opt-out includes every word and phrase
# the US rule on revoking consent treats as a revocation when it is the whole reply (stop, quit,
# end, revoke, opt out, cancel, unsubscribe), and the French words Canadian carriers require.
OPT_OUT_KEYWORDS = frozenset(
    {
        "STOP",
        "STOPALL",
        "STOP ALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
        "OPT OUT",
        "ARRET",
        "ARRÊT",
    }
)
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_KEYWORDS = frozenset({"HELP", "INFO", "AIDE"})

# Longest keyword an organization may add, in characters once normalised.
KEYWORD_MAX_LENGTH = 40

# Phrases that probably mean "stop" but are not a keyword: an agent confirms them. Not after a
# negation ("don't stop texting me"); phones type the apostrophe as ' or as \u2019.
_NATURAL_OPT_OUT = re.compile(
    r"(?<!n't )(?<!n\u2019t )(?<!not )(?<!dont )(?<!never )"
    r"\b(stop (texting|messaging|sending|contacting)|please stop(?! by\b)|stop,? please|"
    r"unsubscribe|remove me|take me off|do ?n[o'\u2019]?t (text|message|contact) me|opt me out|"
    r"opt[- ]?out|no more (texts|messages)|no longer (want|wish to (get|receive))|"
    r"lose my number|delete my number|(do not|don'?t|stop) text(ing)? this number)\b",
    re.IGNORECASE,
)
# Everything around the words that carriers ignore too: spaces, punctuation, emoji.
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")
# Between words: any run of spaces, hyphens or underscores counts as one space ("opt-out").
_BETWEEN = re.compile(r"[\s\-_]+")


def normalize_keyword(text: str) -> str:
    """The keyword form of a text: Unicode compatibility forms folded (full-width or styled
    letters read as plain ones), the edges' spaces, punctuation and emoji dropped, words one
    space apart, upper case."""
    folded = unicodedata.normalize("NFKC", text)
    return _BETWEEN.sub(" ", _EDGES.sub("", folded.strip())).upper()


DEFAULT_KEYWORDS: Mapping[str, KeywordAction] = {
    **{word: KeywordAction.OPT_OUT for word in OPT_OUT_KEYWORDS},
    **{word: KeywordAction.OPT_IN for word in OPT_IN_KEYWORDS},
    **{word: KeywordAction.HELP for word in HELP_KEYWORDS},
}


@dataclass(frozen=True)
class KeywordMatch:
    action: KeywordAction
    keyword: str  # as normalised, e.g. "OPT OUT"
    default: bool  # a carrier default, not one the organization added


@dataclass(frozen=True)
class KeywordSet:
    """An organization's keywords: the defaults plus its own (normalised word → action)."""

    custom: Mapping[str, KeywordAction] = field(default_factory=dict)

    def match(self, text: str) -> KeywordMatch | None:
        """The keyword a text is, when the whole text is one (any case, punctuation ignored)."""
        word = normalize_keyword(text)
        if not word:
            return None
        if (action := DEFAULT_KEYWORDS.get(word)) is not None:
            return KeywordMatch(action, word, default=True)
        if (action := self.custom.get(word)) is not None:
            return KeywordMatch(action, word, default=False)
        return None

    def opt_out_words(self) -> frozenset[str]:
        custom = (w for w, a in self.custom.items() if a is KeywordAction.OPT_OUT)
        return OPT_OUT_KEYWORDS | frozenset(custom)

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]]) -> KeywordSet:
        """From stored (word, action value) pairs."""
        return cls({word: KeywordAction(action) for word, action in pairs})


DEFAULTS = KeywordSet()


def classify(text: str, keywords: KeywordSet = DEFAULTS) -> KeywordAction | None:
    """The action of a text that is one keyword alone."""
    found = keywords.match(text)
    return found.action if found else None


def looks_like_opt_out(text: str, keywords: KeywordSet = DEFAULTS) -> bool:
    """True for worded requests to stop ("please stop texting me"), which an agent confirms."""
    if keywords.match(text) is not None:
        return False
    folded = unicodedata.normalize("NFKC", text)
    words = re.findall(r"\w+", folded.upper())
    stop_words = keywords.opt_out_words()
    if words and all(word in stop_words for word in words):
        return True  # "STOP STOP", "Stop. Unsubscribe."
    return bool(_NATURAL_OPT_OUT.search(folded))


def keyword_action_of(text: str, keywords: KeywordSet = DEFAULTS) -> str:
    """What Twoway does with an inbound text: opt_out, opt_in, help, flag (an agent confirms a
    worded opt-out) or none; the name `twoway keywords` prints."""
    found = keywords.match(text)
    if found is not None:
        return found.action.value
    return "flag" if looks_like_opt_out(text, keywords) else "none"

"""Compliance keywords: one word alone, any case, surrounding spaces and punctuation
ignored; natural-language opt-outs are only flagged. No database needed."""

from __future__ import annotations

import pytest

from twoway.compliance.keywords import (
    HELP_KEYWORDS,
    OPT_IN_KEYWORDS,
    OPT_OUT_KEYWORDS,
    KeywordAction,
    KeywordSet,
    classify,
    keyword_action_of,
    looks_like_opt_out,
    normalize_keyword,
)

OPT_OUT = [
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
]
OPT_IN = ["START", "UNSTOP", "YES"]
HELP = ["HELP", "INFO", "AIDE"]


def spellings(word: str) -> list[str]:
    """The ways a person types one keyword: any case, with spaces, punctuation or an emoji."""
    return [
        word,
        word.lower(),
        word.capitalize(),
        f"  {word.lower()}. ",
        f"{word.capitalize()}!",
        f"{word}!!!",
        f'"{word.lower()}"',
        f"{word} 🙏",
        f"\n{word}\n",
        f"¡{word.lower()}?",
    ]


def test_keyword_sets_are_exactly_the_carrier_defaults() -> None:
    assert set(OPT_OUT) == OPT_OUT_KEYWORDS
    assert set(OPT_IN) == OPT_IN_KEYWORDS
    assert set(HELP) == HELP_KEYWORDS


@pytest.mark.parametrize("text", [s for w in OPT_OUT for s in spellings(w)])
def test_opt_out_keywords_in_any_spelling(text: str) -> None:
    assert classify(text) is KeywordAction.OPT_OUT
    # A keyword is acted on; it is not also flagged for an agent.
    assert not looks_like_opt_out(text)


@pytest.mark.parametrize("text", [s for w in OPT_IN for s in spellings(w)])
def test_opt_in_keywords_in_any_spelling(text: str) -> None:
    assert classify(text) is KeywordAction.OPT_IN
    assert not looks_like_opt_out(text)


@pytest.mark.parametrize("text", [s for w in HELP for s in spellings(w)])
def test_help_keywords_in_any_spelling(text: str) -> None:
    assert classify(text) is KeywordAction.HELP
    assert not looks_like_opt_out(text)


@pytest.mark.parametrize(
    ("text", "word"),
    [("  stop. ", "STOP"), ("Stop!", "STOP"), ("STOP 🙏", "STOP"), ("...Help?!", "HELP")],
)
def test_normalize_strips_edges_and_uppercases(text: str, word: str) -> None:
    assert normalize_keyword(text) == word


@pytest.mark.parametrize(
    "text",
    [
        "stop it now",
        "stopping",
        "please stop",
        "stop please",
        "STOP STOP",
        "stops",
        "nonstop",
        "s top",
        "st0p",
        "Yes please",
        "yes I'll be there",
        "yess",
        "helpful",
        "help me with my order",
        "information",
        "the end",
        "cancel my appointment",
        "start time?",
        "",
        "   ",
        "!!!",
        "🙏",
    ],
)
def test_anything_but_one_keyword_alone_is_not_a_keyword(text: str) -> None:
    assert classify(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "please stop texting me",
        "Please STOP texting me!!",
        "stop messaging me",
        "Stop sending me these",
        "take me off your list",
        "Take me off your list please",
        "remove me from this list",
        "don't text me again",
        "Don\u2019t text me again",  # the apostrophe phones type
        "do not contact me",
        "dont message me",
        "opt me out",
        "I want to opt out",
        "how do I unsubscribe?",
        "unsubscribe please",
        "no more texts",
        "please stop",
        "stop please",
        "STOP STOP",
        "Stop. Unsubscribe.",
        "I no longer want these texts",
        "Please lose my number",
        "do not text this number",
    ],
)
def test_natural_language_opt_outs_are_flagged(text: str) -> None:
    assert classify(text) is None  # never acted on automatically
    assert looks_like_opt_out(text)


@pytest.mark.parametrize(
    "text",
    [
        "don't stop texting me the reminders, they help",
        "Please don\u2019t stop sending these",
        "do not remove me from the list",
        "please don't take me off the list",
        "never unsubscribe me",
        "Can I stop by at 5?",
        "please stop by the front desk",
        "the bus stop on Main St",
        "stopping by later",
        "cancel my appointment please",
        "I'll be at the end of the hall",
        "Hi, is my order ready? Can I pick it up at 5pm?",
        "Yes please",
    ],
)
def test_ordinary_replies_are_not_flagged(text: str) -> None:
    assert classify(text) is None
    assert not looks_like_opt_out(text)


# --- Unicode forms, whole-reply phrases, an organization's own keywords -----------------------


@pytest.mark.parametrize(
    "text",
    [
        "\uff33\uff34\uff2f\uff30",  # full-width letters
        "\U0001d412\U0001d413\U0001d40e\U0001d40f",  # mathematical bold
        "\uff53\uff54\uff4f\uff50\uff01",
        "Opt-out",
        "opt   out.",
        "OPT_OUT",
        "arrêt",
        "Arret!",
        "🛑 stop 🛑",
    ],
)
def test_compatibility_forms_and_phrase_spellings_opt_out(text: str) -> None:
    assert classify(text) is KeywordAction.OPT_OUT
    assert keyword_action_of(text) == "opt_out"


def test_normalized_form_folds_width_case_and_separators() -> None:
    assert normalize_keyword("  \uff2f\uff30\uff34\uff0d\uff4f\uff55\uff54!! ") == "OPT OUT"
    assert normalize_keyword("stop\u00a0all") == "STOP ALL"


# Business replies that only look like keywords: neither acted on nor flagged.
BUSINESS_REPLIES = [
    "Cancel my appointment please",
    "Can you stop by at 3?",
    "I need to cancel and rebook",
    "End of the day works for me",
    "Yes please, Tuesday at 10",
    "Help me find the address?",
    "Start time is 9?",
    "Quit smoking program info",
    "Please stop by the front desk",
    "Stop at the second door",
    "I'll be there, don't stop the reminders",
]


@pytest.mark.parametrize("text", BUSINESS_REPLIES)
def test_business_replies_are_neither_keywords_nor_flags(text: str) -> None:
    assert classify(text) is None
    assert not looks_like_opt_out(text)
    assert keyword_action_of(text) == "none"


def test_an_organizations_own_keywords_act_like_the_defaults() -> None:
    own = KeywordSet.of([("PARAR", "opt_out"), ("AYUDA", "help"), ("NO MORE", "opt_out")])

    assert classify("parar", own) is KeywordAction.OPT_OUT
    assert classify("Ayuda!", own) is KeywordAction.HELP
    assert classify("no-more", own) is KeywordAction.OPT_OUT
    found = own.match("\uff30\uff21\uff32\uff21\uff32")
    assert found is not None and (found.keyword, found.default) == ("PARAR", False)
    default = own.match("stop")
    assert default is not None and default.default
    # Another organization's keywords are not these.
    assert classify("parar") is None
    # Repeated own opt-out words read as a worded opt-out, like "STOP STOP".
    assert looks_like_opt_out("parar parar", own)
    assert not looks_like_opt_out("parar parar")

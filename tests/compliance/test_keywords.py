"""Compliance keywords (PRODUCT C9): one word alone, any case, surrounding spaces and punctuation
ignored; natural-language opt-outs are only flagged. No database needed."""

from __future__ import annotations

import pytest

from twoway.compliance.keywords import (
    HELP_KEYWORDS,
    OPT_IN_KEYWORDS,
    OPT_OUT_KEYWORDS,
    KeywordAction,
    classify,
    looks_like_opt_out,
    normalize_keyword,
)

OPT_OUT = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"]
OPT_IN = ["START", "UNSTOP", "YES"]
HELP = ["HELP", "INFO"]


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


def test_keyword_sets_are_exactly_the_carrier_standard() -> None:
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
        "opt-out",
        "how do I unsubscribe?",
        "unsubscribe please",
        "no more texts",
        "please stop",
        "stop please",
        "STOP STOP",
        "Stop. Unsubscribe.",
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

"""A text no person sent is shown with its sender in words, in the thread and the export."""

from __future__ import annotations

import pytest

from twoway.conversations.sender_words import sender_words


@pytest.mark.parametrize(
    ("label", "words"),
    [
        ("keyword:STOP", "automatic reply to STOP"),
        ("keyword:OPT OUT", "automatic reply to OPT OUT"),
        ("keyword:", "automatic reply"),
        ("api", "API"),
        ("", "automation"),
        ("consent message", "consent message"),
    ],
)
def test_a_label_in_words(label: str, words: str) -> None:
    assert sender_words(label) == words

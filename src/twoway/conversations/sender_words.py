"""What the thread and the export call a text's sender when it is no person: the label its
writer stored (`Message.sent_by_label`), in words."""

from __future__ import annotations

_WORDS = {
    "": "automation",
    "api": "API",
    "do-not-reply": "automatic reply: number not in use",
}
_KEYWORD = "keyword:"


def sender_words(label: str) -> str:
    """`keyword:STOP` is "automatic reply to STOP"; a label with no words of its own (one a
    person typed, such as a canned response's) is shown as it is."""
    if label.startswith(_KEYWORD):
        keyword = label.removeprefix(_KEYWORD)
        return f"automatic reply to {keyword}" if keyword else "automatic reply"
    return _WORDS.get(label, label)

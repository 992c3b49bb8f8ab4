"""How a person is named wherever Twoway shows them: the name they set, else their e-mail."""

from __future__ import annotations

from typing import Any


def person_name(user: Any) -> str:
    """A user's display name: their full name when they set one, else their e-mail address."""
    if user is None:
        return ""
    return str(user.get_full_name() or user.email)

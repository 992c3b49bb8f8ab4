"""Compliance replies as they are sent: an organization's texts with its name in them."""

from __future__ import annotations

from twoway.accounts.models import RENDERED_MAX_LENGTH


def rendered_too_long(label: str, template: str, name: str) -> str:
    """Why `template` with "{org}" as `name` is too long to send, or "" when it fits.

    `Organization.render` cuts a reply at the longest text carriers accept; the settings forms
    use this so that no reply an admin writes is ever cut."""
    length = len(template.replace("{org}", name))
    if length <= RENDERED_MAX_LENGTH:
        return ""
    return (
        f"{label} would be {length:,} characters long with “{{org}}” replaced by the "
        f"organization's name; texts carriers accept are at most {RENDERED_MAX_LENGTH:,}."
    )

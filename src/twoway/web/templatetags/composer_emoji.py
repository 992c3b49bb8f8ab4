from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.urls import reverse

from twoway.core.emoji_names import EMOJI_NAMES_VERSION

register = template.Library()


@register.simple_tag
def emoji_names_url() -> str:
    """The emoji table's address under the emoji package's version: a new package, a new
    address, so browsers never keep a stale copy."""
    return reverse("emoji_names") + "?" + urlencode({"v": EMOJI_NAMES_VERSION})

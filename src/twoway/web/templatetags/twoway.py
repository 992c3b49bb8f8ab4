import datetime

from django import template
from django.utils.dates import MONTHS_3
from django.utils.safestring import SafeString

from twoway.conversations.search import highlight as search_highlight
from twoway.core.phones import format_for_display

register = template.Library()


@register.filter
def phone(value: str) -> str:
    """(202) 555-0172 for a North American E.164 number, international format otherwise."""
    return format_for_display(value or "")


@register.filter
def highlight(value: str, terms: tuple[str, ...]) -> SafeString:
    """A search hit's text, escaped, around its first match, with the matched words in <mark>."""
    return search_highlight(value or "", terms)


@register.filter(expects_localtime=True, is_safe=True)
def time_tag(value: datetime.datetime | None) -> SafeString:
    """`<time datetime="(ISO 8601)">Nov 3, 14:05</time>`, as `date:'c'` and `date:"M j, H:i"`
    would write it, for lists of hundreds of timestamps: the date filter looks its formats up
    on every call and was the larger part of a thread's rendering time."""
    if not value:
        return SafeString('<time datetime=""></time>')
    shown = f"{MONTHS_3[value.month].title()} {value.day}, {value:%H:%M}"
    return SafeString(f'<time datetime="{value.isoformat()}">{shown}</time>')

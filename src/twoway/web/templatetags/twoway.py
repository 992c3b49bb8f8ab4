from django import template

from twoway.core.phones import format_for_display

register = template.Library()


@register.filter
def phone(value: str) -> str:
    """(202) 555-0172 for a North American E.164 number, international format otherwise."""
    return format_for_display(value or "")

from __future__ import annotations

import datetime
from collections.abc import Iterable
from html import escape
from typing import TYPE_CHECKING

from django import template
from django.urls import reverse
from django.utils.dates import MONTHS_3
from django.utils.safestring import SafeString
from django.utils.timezone import get_current_timezone, localtime
from django.utils.timezone import now as timezone_now

from twoway.accounts.names import person_name
from twoway.contacts.selectors import flagged_opt_out_text as _flagged_opt_out_text
from twoway.conversations.access import answer_refusal as conversation_answer_refusal
from twoway.conversations.consent_state import consent_message_state
from twoway.conversations.search import highlight as search_highlight
from twoway.conversations.sender_words import sender_words
from twoway.core.phones import format_for_display

if TYPE_CHECKING:
    from twoway.contacts.models import Contact
    from twoway.conversations.models import Conversation

register = template.Library()


@register.simple_tag
def flagged_opt_out_text(contact: object) -> str:
    """The words of the contact's worded opt-out that waits for an agent (escaped by Django)."""
    return _flagged_opt_out_text(contact)  # type: ignore[arg-type]


@register.filter
def phone(value: str) -> str:
    """(202) 555-0172 for a North American E.164 number, international format otherwise."""
    return format_for_display(value or "")


@register.filter
def consent_state(contact: Contact) -> str:
    """What became of the contact's consent message (`conversations.consent_state`)."""
    return consent_message_state(contact)


@register.filter
def person(user: object) -> str:
    """A person's display name (`accounts.names.person_name`)."""
    return person_name(user)


@register.filter
def sender(label: str) -> str:
    """A text's sender when no person sent it, in words (`conversations.sender_words`)."""
    return sender_words(label)


@register.filter
def answer_refusal(conversation: Conversation) -> str:
    """Why nobody can answer the conversation any more (its number released); empty if they can."""
    return conversation_answer_refusal(conversation)


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
    return SafeString(_time_element(value, MONTHS_3[value.month].title()))


def _time_element(value: datetime.datetime, month: str) -> str:
    # The year only when it is not this one: search and exports reach back years.
    year = "" if value.year == _this_year() else f" {value.year},"
    return f'<time datetime="{value.isoformat()}">{month} {value.day},{year} {value:%H:%M}</time>'


def _this_year() -> int:
    return timezone_now().astimezone(get_current_timezone()).year


def _url_around_id(name: str) -> tuple[str, str]:
    """The URL named `name` (of one integer argument) split around that argument: reversed
    once per list, then joined per row, instead of a `reverse` per row and link."""
    marker = 9_876_543_210_123
    head, tail = reverse(name, args=[marker]).split(str(marker))
    return head, tail


@register.simple_tag
def conversation_items(
    conversations: Iterable[Conversation], folder: str, filter_query: str, open_id: object
) -> SafeString:
    """The inbox list's rows (`<li>` each), as the template they replaced wrote them, byte for
    byte. Written in Python because the list is on every inbox page and is re-fetched on every
    live event: as a template, its 100 rows (about 25 variables, 2 `{% url %}` and a few
    filters each) took about two thirds of the list's CPU time (docs/performance.md, "Inbox")."""
    page_head, page_tail = _url_around_id("conversation")
    panel_head, panel_tail = _url_around_id("conversation_panel")
    # `escape` is the standard library's, which Django's calls, without its lazy-text wrapper.
    query = f"?folder={escape(folder)}{escape(filter_query)}"
    # As `time_tag` writes them, with the month names and time zone looked up once, not per row.
    months = {number: str(name).title() for number, name in MONTHS_3.items()}
    zone = get_current_timezone()
    rows = []
    for c in conversations:
        pk = c.pk
        page_url = f"{page_head}{pk}{page_tail}{query}"
        who = escape(format_for_display(c.contact.name or c.contact_number or ""))
        unread = c.unread_count
        badge = (
            f'<span class="badge unread" title="{unread} message{"" if unread == 1 else "s"}'
            f' since your last reply">{unread}</span>'
            if unread
            else ""
        )
        muted = '<span class="muted-flag" title="Muted">muted</span>' if c.muted else ""
        if c.assignee:
            name = person_name(c.assignee)
            tag = f'<span class="assignee-tag" data-assignee>{escape(name)}</span>'
        elif c.assignee_team:
            team = escape(c.assignee_team.name)
            tag = f'<span class="assignee-tag" data-assignee>Team {team}</span>'
        else:
            tag = ""
        open_class, current = (" open", ' aria-current="true"') if pk == open_id else ("", "")
        at = c.last_message_at and localtime(c.last_message_at, zone)
        when = _time_element(at, months[at.month]) if at else time_tag(None)
        rows.append(
            f'\n  <li class="conversation-item{open_class}" data-conversation="{pk}">'
            f'\n    <input type="checkbox" class="pick" name="conversation" value="{pk}"'
            f' form="bulk-actions" aria-label="Select {who}">'
            f'\n    <a href="{page_url}"'
            f'\n       hx-get="{panel_head}{pk}{panel_tail}" hx-push-url="{page_url}"'
            f'\n       data-open-conversation="{pk}"{current}>'
            f'\n      <span class="who">{who}</span>'
            f"\n      {badge}"
            f"\n      {muted}"
            f'\n      <span class="preview">{escape(c.last_message_preview)}</span>'
            f"\n      {tag}"
            f"\n      {when}"
            "\n    </a>\n  </li>\n  "
        )
    return SafeString("".join(rows))

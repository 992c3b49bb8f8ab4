"""Export one conversation's history for a few days, as CSV or HTML.

The range is whole days in the organization's time zone, at most `MAX_EXPORT_DAYS` of them: a
normal conversation's week is a few hundred rows at most, so it is built in the request, well
within 30 seconds.
"""

from __future__ import annotations

import csv
import datetime
import io
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from twoway.accounts.names import person_name
from twoway.conversations.models import Conversation, Message
from twoway.conversations.sender_words import sender_words
from twoway.core.errors import InvalidInput
from twoway.core.phones import format_for_display
from twoway.core.text import csv_cell

MAX_EXPORT_DAYS = 7
EXPORT_FORMATS = ("csv", "html")
CSV_COLUMNS = [
    "time",
    "direction",
    "kind",
    "from",
    "to",
    "by",
    "status",
    "segments",
    "error",
    "body",
    "media",
]


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    content: bytes


def export_range_check(start: datetime.date, end: datetime.date) -> None:
    if end < start:
        raise InvalidInput("The end date is before the start date.", code="invalid_range")
    if (end - start).days >= MAX_EXPORT_DAYS:
        raise InvalidInput(
            f"Export at most {MAX_EXPORT_DAYS} days at a time (for example June 1 to June 7).",
            code="range_too_long",
        )


def _export_messages(
    conversation: Conversation, start: datetime.date, end: datetime.date, tz: zoneinfo.ZoneInfo
) -> list[Message]:
    since = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
    until = datetime.datetime.combine(
        end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
    )
    return list(
        Message.objects.filter(
            conversation=conversation, created_at__gte=since, created_at__lt=until
        )
        .select_related("sent_by")
        .prefetch_related("media")
        .order_by("created_at", "id")
    )


def _author(message: Message) -> str:
    if message.is_inbound:
        return "contact"
    if message.sent_by is not None:
        return person_name(message.sent_by)
    return sender_words(message.sent_by_label)


def _rows(messages: list[Message], tz: zoneinfo.ZoneInfo) -> list[dict[str, str]]:
    return [
        {
            "time": m.created_at.astimezone(tz).isoformat(timespec="seconds"),
            "direction": "note" if m.is_note else m.get_direction_display().lower(),
            "kind": m.kind,
            "from": m.from_number,
            "to": m.to_number,
            "by": _author(m),
            "status": m.status,
            "segments": "" if m.is_note else str(m.segments),
            "error": " ".join(filter(None, [m.error_code, m.error_message])),
            "body": m.body,
            "media": " ".join(_media_links(m)),
        }
        for m in messages
    ]


def _media_links(message: Message) -> list[str]:
    """Links to an MMS's pictures and videos (the media app's, through the relation): they open
    for members signed in who may see the conversation, so an export shares no file."""
    return [
        settings.TWOWAY_PUBLIC_URL + reverse("media_file", args=[item.pk])
        for item in message.media.all()  # type: ignore[attr-defined]
        if item.status == "ready"
    ]


def conversation_export(
    *,
    conversation: Conversation,
    start: datetime.date,
    end: datetime.date,
    export_format: str,
) -> ExportFile:
    """The conversation's messages and notes from `start` to `end` (whole days, inclusive)."""
    if export_format not in EXPORT_FORMATS:
        raise InvalidInput("Pick CSV or HTML.", code="invalid_format")
    export_range_check(start, end)
    organization = conversation.organization
    tz = zoneinfo.ZoneInfo(organization.time_zone)
    rows = _rows(_export_messages(conversation, start, end, tz), tz)
    contact_number = conversation.contact_number
    filename = f"conversation-{contact_number.lstrip('+')}-{start:%Y%m%d}-{end:%Y%m%d}"
    if export_format == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in rows)
        # The BOM makes Excel read the file as UTF-8 (names, emoji).
        content = ("\ufeff" + out.getvalue()).encode()
        return ExportFile(f"{filename}.csv", "text/csv; charset=utf-8", content)
    html = render_to_string(
        "conversations/export.html",
        {
            "organization": organization,
            "contact_name": conversation.contact.name,
            "contact_number": format_for_display(contact_number),
            "business_number": format_for_display(conversation.phone_number.number),
            "start": start,
            "end": end,
            "time_zone": organization.time_zone,
            "rows": rows,
        },
    )
    return ExportFile(f"{filename}.html", "text/html; charset=utf-8", html.encode())

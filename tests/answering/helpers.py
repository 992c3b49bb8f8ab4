"""Shared steps of the answering tests: a fixed clock, canned responses, texts in."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest

from twoway.accounts.models import Organization
from twoway.answering.models import Answering
from twoway.canned.models import CannedResponse
from twoway.carrier_events.processing import carrier_events_process_pending
from twoway.carrier_events.store import carrier_event_record
from twoway.carriers.base import InboundMessage
from twoway.conversations.models import Direction, Message
from twoway.numbers.models import PhoneNumber

NEW_YORK = ZoneInfo("America/New_York")
# A Tuesday in the organization's zone (America/New_York, the default).
TUESDAY = dt.date(2026, 12, 8)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), NEW_YORK)


class Clock:
    """Every `timezone.now()` of Twoway (and of Django's auto_now fields) reads this."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, now: dt.datetime) -> None:
        self.now = now
        monkeypatch.setattr("django.utils.timezone.now", lambda: self.now)


def canned(org: Organization, name: str, body: str) -> CannedResponse:
    return CannedResponse.objects.create(organization=org, name=name, body=body)


def away_on(org: Organization, response: CannedResponse) -> Answering:
    answering, _ = Answering.objects.get_or_create(organization=org)
    answering.away_enabled = True
    answering.away_response = response
    answering.save()
    return answering


def text_in(number: PhoneNumber, body: str, frm: str) -> Message:
    sid = f"SIM{uuid.uuid4().hex}"
    carrier_event_record(
        "simulator",
        InboundMessage(carrier_message_id=sid, from_number=frm, to_number=number.number, body=body),
    )
    carrier_events_process_pending()
    return Message.objects.get(carrier="simulator", carrier_message_id=sid)


def answers_to(frm: str) -> list[tuple[str, str]]:
    """(who, text) of the automatic answers sent to a handset, oldest first."""
    found = Message.objects.filter(direction=Direction.OUTBOUND, to_number=frm).order_by("pk")
    return [(m.sent_by_label, m.body) for m in found]

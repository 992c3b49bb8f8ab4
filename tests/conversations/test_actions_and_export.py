"""Conversation actions (archive, unarchive, mark unread, mute, delete) and the export."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import logged_in
from twoway.accounts.models import Membership, Organization
from twoway.compliance.models import ConsentEvent
from twoway.contacts.models import Contact, ContactPhone
from twoway.conversations.export import conversation_export
from twoway.conversations.models import Conversation, Direction, Folder, Message, Status
from twoway.conversations.services import (
    conversation_archive,
    conversation_delete,
    conversation_mark_unread,
    conversation_unarchive,
)
from twoway.core.errors import InvalidInput
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber
from twoway.realtime.models import RealtimeEvent

pytestmark = pytest.mark.django_db
CONTACT = "+14155550123"


@pytest.fixture
def conversation(org: Organization, number: PhoneNumber) -> Conversation:
    contact = Contact.objects.create(organization=org, name="Pat")
    ContactPhone.objects.create(organization=org, contact=contact, number=CONTACT)
    return Conversation.objects.create(
        organization=org, contact=contact, phone_number=number, contact_number=CONTACT
    )


def _inbound(conversation: Conversation, body: str, at: datetime.datetime | None = None) -> Message:
    message = Message.objects.create(
        organization_id=conversation.organization_id,
        conversation=conversation,
        direction=Direction.INBOUND,
        body=body,
        status=Status.RECEIVED,
        from_number=CONTACT,
    )
    if at:
        Message.objects.filter(pk=message.pk).update(created_at=at)
    return message


def test_archive_keeps_history_and_a_new_inbound_brings_it_back(
    conversation: Conversation, admin: Membership
) -> None:
    from twoway.conversations.services import conversation_record_inbound

    _inbound(conversation, "hello")
    conversation_archive(conversation=conversation)
    conversation.refresh_from_db()
    assert conversation.folder == Folder.ARCHIVED
    assert Message.objects.filter(conversation=conversation).count() == 1
    assert RealtimeEvent.objects.filter(kind="conversation.updated").exists()
    conversation_record_inbound(conversation=conversation, message=_inbound(conversation, "again"))
    conversation.refresh_from_db()
    assert conversation.folder == Folder.NEEDS_ATTENTION


def test_unarchive_goes_where_the_last_word_says(conversation: Conversation) -> None:
    Conversation.objects.filter(pk=conversation.pk).update(folder=Folder.ARCHIVED, unread_count=0)
    assert conversation_unarchive(conversation=conversation).folder == Folder.PARTICIPATING
    Conversation.objects.filter(pk=conversation.pk).update(folder=Folder.ARCHIVED, unread_count=2)
    assert conversation_unarchive(conversation=conversation).folder == Folder.NEEDS_ATTENTION


def test_mark_unread_counts_the_contacts_messages_since_our_reply(
    conversation: Conversation, admin: Membership
) -> None:
    _inbound(conversation, "one", timezone.now() - datetime.timedelta(minutes=10))
    message_send(
        phone_number=conversation.phone_number, to=CONTACT, body="answer", membership=admin
    )
    assert conversation_mark_unread(conversation=conversation).unread_count == 1  # none since
    _inbound(conversation, "two", timezone.now() + datetime.timedelta(minutes=1))
    _inbound(conversation, "three", timezone.now() + datetime.timedelta(minutes=2))
    marked = conversation_mark_unread(conversation=conversation)
    assert (marked.folder, marked.unread_count) == (Folder.NEEDS_ATTENTION, 2)


def test_delete_removes_every_message_and_keeps_the_ledgers(
    conversation: Conversation, admin: Membership
) -> None:
    message = _inbound(conversation, "STOP")
    event = ConsentEvent.objects.create(
        organization_id=conversation.organization_id,
        contact=conversation.contact,
        kind="opt_out",
        source="keyword",
        message=message,
    )
    conversation_delete(conversation=conversation)
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    assert not Message.objects.filter(pk=message.pk).exists()
    event.refresh_from_db()
    assert event.message_id is None
    assert Contact.objects.filter(pk=conversation.contact_id).exists()
    assert RealtimeEvent.objects.filter(
        kind="conversation.deleted", conversation_id=conversation.pk
    ).exists()


def test_delete_asks_for_confirmation_first(conversation: Conversation, admin: Membership) -> None:
    client = logged_in(admin)
    page = client.get(f"/inbox/c/{conversation.pk}/delete/")
    assert page.status_code == 200 and "cannot be undone" in page.content.decode()
    assert Conversation.objects.filter(pk=conversation.pk).exists()
    response = client.post(f"/inbox/c/{conversation.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    assert not Conversation.objects.filter(pk=conversation.pk).exists()


def test_delete_is_refused_with_a_reason_when_the_organization_disabled_it(
    conversation: Conversation, admin: Membership
) -> None:
    Organization.objects.filter(pk=conversation.organization_id).update(
        allow_conversation_delete=False
    )
    response = logged_in(admin).post(f"/inbox/c/{conversation.pk}/delete/")
    assert response.status_code == 403
    assert "turned off for your organization" in response.content.decode()
    assert Conversation.objects.filter(pk=conversation.pk).exists()


def test_htmx_actions_swap_the_panel(conversation: Conversation, standard: Membership) -> None:
    client = logged_in(standard)
    response = client.post(f"/inbox/c/{conversation.pk}/mute/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'id="conversation-panel"' in response.content.decode()
    assert "Unmute" in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.muted
    client.post(f"/inbox/c/{conversation.pk}/unmute/")
    conversation.refresh_from_db()
    assert not conversation.muted


# ---- export ---------------------------------------------------------------------------------


def test_export_csv_has_the_days_asked_for_and_defuses_formulas(
    conversation: Conversation,
) -> None:
    now = timezone.now()
    _inbound(conversation, '=HYPERLINK("http://evil")', now)
    _inbound(conversation, "too old", now - datetime.timedelta(days=10))
    today = timezone.localdate()
    exported = conversation_export(
        conversation=conversation,
        start=today - datetime.timedelta(days=5),
        end=today + datetime.timedelta(days=1),  # 7 days, inclusive
        export_format="csv",
    )
    assert exported.filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [row["body"] for row in rows] == ['\'=HYPERLINK("http://evil")']
    assert rows[0]["direction"] == "inbound" and rows[0]["by"] == "contact"


def test_export_html_escapes_what_the_contact_wrote(conversation: Conversation) -> None:
    _inbound(conversation, "<script>alert(1)</script>")
    today = timezone.localdate()
    exported = conversation_export(
        conversation=conversation,
        start=today - datetime.timedelta(days=1),
        end=today + datetime.timedelta(days=1),
        export_format="html",
    )
    html = exported.content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)" in html


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        ("2026-01-01", "2026-01-08", "range_too_long"),  # 8 days
        ("2026-01-05", "2026-01-01", "invalid_range"),
    ],
)
def test_export_refuses_ranges_it_cannot_do(
    conversation: Conversation, start: str, end: str, code: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        conversation_export(
            conversation=conversation,
            start=datetime.date.fromisoformat(start),
            end=datetime.date.fromisoformat(end),
            export_format="csv",
        )
    assert caught.value.code == code


def test_export_page_and_its_errors(conversation: Conversation, standard: Membership) -> None:
    client: Client = logged_in(standard)
    form = client.get(f"/inbox/c/{conversation.pk}/export/")
    assert form.status_code == 200 and 'name="start"' in form.content.decode()
    bad = client.get(
        f"/inbox/c/{conversation.pk}/export/",
        {"start": "2026-01-01", "end": "2026-01-20", "format": "csv"},
    )
    assert bad.status_code == 400 and "at most 7 days" in bad.content.decode()
    garbled = client.get(
        f"/inbox/c/{conversation.pk}/export/", {"start": "soon", "end": "2026-01-02"}
    )
    assert garbled.status_code == 400 and "YYYY-MM-DD" in garbled.content.decode()
    ok = client.get(
        f"/inbox/c/{conversation.pk}/export/",
        {"start": "2026-01-01", "end": "2026-01-07", "format": "html"},
    )
    assert ok.status_code == 200 and ok["Content-Type"].startswith("text/html")
    assert (
        (ok["Content-Disposition"])
        == 'attachment; filename="conversation-14155550123-20260101-20260107.html"'
    )


def test_api_export_validates_the_range(conversation: Conversation, admin: Membership) -> None:
    from twoway.accounts.models import ApiKey

    _, raw = ApiKey.issue(owner=admin, name="t")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    url = f"/api/v1/conversations/{conversation.pk}/export"
    # The schema describes the range, so a request outside it is a 422 like any other.
    response = client.get(url, {"start": "2026-01-01", "end": "2026-02-01"})
    assert response.status_code == 422
    assert "Export at most 7 days" in response.json()["detail"][0]["msg"]
    assert client.get(url, {"start": "x", "end": "2026-02-01"}).status_code == 422

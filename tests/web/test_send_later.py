"""Send later in the inbox: Schedule in the composer (times in the organization's time zone),
the scheduled text in its thread with Edit and Cancel, and their refusals."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import logged_in, make_conversation
from twoway.accounts.models import Membership, Organization
from twoway.conversations.models import Conversation, Message, Status
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db

HANDSET = "+12025550172"
EASTERN = zoneinfo.ZoneInfo("America/New_York")


@pytest.fixture
def conversation(org: Organization, number: PhoneNumber) -> Conversation:
    return make_conversation(org, number, HANDSET)  # type: ignore[no-any-return]


@pytest.fixture
def client(admin: Membership) -> Client:
    return logged_in(admin)


def _local(minutes: float) -> str:
    """A time `minutes` from now as the picker sends it, in the organization's time zone."""
    when = timezone.now().astimezone(EASTERN) + dt.timedelta(minutes=minutes)
    return when.replace(microsecond=0, tzinfo=None).isoformat()


def _schedule(client: Client, conversation: Conversation, body: str, send_at: str) -> object:
    return client.post(f"/inbox/c/{conversation.pk}/schedule/", {"body": body, "send_at": send_at})


def test_the_composer_offers_send_later_in_the_organizations_time_zone(
    client: Client, conversation: Conversation
) -> None:
    page = client.get(f"/inbox/c/{conversation.pk}/").content.decode()
    assert "Send later" in page and "Times in America/New_York" in page
    assert 'type="datetime-local"' in page


def test_schedule_stores_the_text_for_the_local_time_and_shows_it(
    client: Client, conversation: Conversation
) -> None:
    typed = _local(90)
    response = _schedule(client, conversation, "Your cleaning is tomorrow", typed)
    assert response.status_code == 200  # type: ignore[attr-defined]
    message = Message.objects.get()
    assert message.status == Status.SCHEDULED
    assert message.send_at == dt.datetime.fromisoformat(typed).replace(tzinfo=EASTERN)
    html = response.content.decode()  # type: ignore[attr-defined]
    shown = dt.datetime.fromisoformat(typed)
    assert "Scheduled</span>" in html and f"for {shown:%b} {shown.day}, {shown:%H:%M}" in html
    assert "data-scheduled-cancel" in html and "<summary>Edit</summary>" in html


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "Pick the date and time"),
        ("tomorrow", "is not a date and time"),
        ("2020-01-01T09:00", "already passed"),
        ("2099-01-01T09:00", "at most a year ahead"),
    ],
)
def test_a_time_that_cannot_be_used_is_refused_and_the_text_kept(
    client: Client, conversation: Conversation, typed: str, says: str
) -> None:
    response = _schedule(client, conversation, "Keep me", typed)
    assert response.status_code == 422  # type: ignore[attr-defined]
    html = response.content.decode()  # type: ignore[attr-defined]
    assert says in html and "Keep me" in html
    assert '<details class="send-later" open>' in html
    assert not Message.objects.exists()


def test_edit_changes_the_words_and_time_and_cancel_keeps_it_as_cancelled(
    client: Client, conversation: Conversation
) -> None:
    _schedule(client, conversation, "First draft", _local(60))
    message = Message.objects.get()
    later = _local(180)
    edited = client.post(
        f"/inbox/c/{conversation.pk}/scheduled/{message.uid}/edit/",
        {"body": "Second draft", "send_at": later},
    )
    assert edited.status_code == 200
    message.refresh_from_db()
    assert message.body == "Second draft"
    assert message.send_at == dt.datetime.fromisoformat(later).replace(tzinfo=EASTERN)
    refused = client.post(
        f"/inbox/c/{conversation.pk}/scheduled/{message.uid}/edit/",
        {"body": "Third", "send_at": "2020-01-01T09:00"},
    )
    assert refused.status_code == 422
    html = refused.content.decode()
    assert "already passed" in html and '<details class="scheduled-edit" open>' in html
    assert "Third" in html  # what was typed stays in the open form
    message.refresh_from_db()
    assert message.body == "Second draft"

    cancelled = client.post(f"/inbox/c/{conversation.pk}/scheduled/{message.uid}/cancel/")
    assert cancelled.status_code == 200
    assert "Canceled</span>" in cancelled.content.decode()
    message.refresh_from_db()
    assert message.status == Status.CANCELED
    again = client.post(f"/inbox/c/{conversation.pk}/scheduled/{message.uid}/cancel/")
    assert again.status_code == 422 and "no longer scheduled" in again.content.decode()


def test_another_organizations_texts_are_not_found(
    client: Client, conversation: Conversation, other_org: Organization
) -> None:
    from tests.conftest import make_member

    _schedule(client, conversation, "Ours", _local(60))
    message = Message.objects.get()
    outsider = logged_in(make_member(other_org, "out@other.test", "administrative"))
    url = f"/inbox/c/{conversation.pk}/scheduled/{message.uid}"
    assert outsider.post(f"{url}/cancel/").status_code == 404
    assert outsider.post(f"{url}/edit/", {"body": "x", "send_at": _local(5)}).status_code == 404
    assert Message.objects.get().status == Status.SCHEDULED

"""Every time a member sees is in the organization's time zone, in one format: the thread, the
list, notifications and search agree, and the thread's header names the zone."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import logged_in, make_conversation
from twoway.accounts.models import Membership, Organization
from twoway.conversations.models import Direction, Message, Status
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db

# 15:07 UTC on 2 March: 10:07 in New York (EST), 07:07 in Los Angeles.
AT = dt.datetime(2026, 3, 2, 15, 7, tzinfo=dt.UTC)


@pytest.fixture
def texted(org: Organization, number: PhoneNumber) -> int:
    conversation = make_conversation(org, number, "+12025550111", name="Rosa Diaz")
    Message.objects.create(
        organization=org,
        conversation=conversation,
        direction=Direction.INBOUND,
        body="Is the clinic open?",
        status=Status.RECEIVED,
        from_number="+12025550111",
        to_number=number.number,
        carrier="simulator",
    )
    Message.objects.update(created_at=AT)
    conversation.last_message_at = AT
    conversation.save()
    return conversation.pk


@pytest.mark.parametrize(("zone", "shown"), [("America/New_York", "10:07"), ("UTC", "15:07")])
def test_thread_list_and_search_show_the_organizations_zone(
    org: Organization, standard: Membership, texted: int, zone: str, shown: str
) -> None:
    org.time_zone = zone
    org.save()
    client = logged_in(standard)

    thread = client.get(f"/inbox/c/{texted}/").content.decode()
    assert f"Mar 2, {shown}</time>" in thread
    assert f"times in {zone}" in thread
    listed = client.get("/inbox/list/?folder=needs_attention").content.decode()
    assert f"{shown}" in listed or "Mar 2" in listed
    found = client.get("/search/", {"q": "clinic"}).content.decode()
    assert f"Mar 2, {shown}</time>" in found
    assert zone in found


def test_an_unknown_zone_name_falls_back_to_utc(
    org: Organization, standard: Membership, texted: int
) -> None:
    org.time_zone = "Mars/Olympus_Mons"
    org.save()
    page = logged_in(standard).get(f"/inbox/c/{texted}/")
    assert page.status_code == 200
    assert "Mar 2, 15:07</time>" in page.content.decode()

"""A released number's conversations stay readable, to the members it was open to and through
every way in (the thread, search, the contact card, the API), but nothing can be sent from it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import logged_in, make_member
from twoway.accounts.models import ApiKey, Membership, Organization, Role
from twoway.conversations.models import Conversation, Message
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db

CLIENT = "+12025550172"


@pytest.fixture
def released(number: PhoneNumber, standard: Membership) -> Conversation:
    message_send(phone_number=number, to=CLIENT, body="Your crown is ready", membership=standard)
    # What the release does to the row (numbers.activation.held_numbers_release).
    PhoneNumber.all_objects.filter(pk=number.pk).update(
        released_at=timezone.now(), is_dedicated=False, held_until=None
    )
    return Conversation.objects.get(phone_number_id=number.pk)


@pytest.mark.parametrize("who", ["admin", "standard"])
def test_the_thread_opens_read_only_saying_why(
    released: Conversation, who: str, request: pytest.FixtureRequest
) -> None:
    client = logged_in(request.getfixturevalue(who))
    for url in (f"/inbox/c/{released.pk}/", f"/inbox/c/{released.pk}/panel/"):
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert "Your crown is ready" in page
        assert "was released on" in page and "cannot be answered" in page
        assert 'name="body"' not in page  # no composer


def test_sending_into_it_is_refused_and_stores_nothing(
    released: Conversation, standard: Membership
) -> None:
    before = Message.objects.count()
    response = logged_in(standard).post(
        f"/inbox/c/{released.pk}/send/", {"body": "Anyone there?"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 403
    assert "cannot be answered" in response.content.decode()
    assert Message.objects.count() == before


def test_search_and_the_contact_card_find_it(released: Conversation, admin: Membership) -> None:
    client = logged_in(admin)
    results = client.get("/search/", {"q": "crown"}).content.decode()
    assert f"/inbox/c/{released.pk}/" in results
    card = client.get(f"/contacts/{released.contact_id}/").content.decode()
    assert f"/inbox/c/{released.pk}/" in card


def test_the_api_reads_it(released: Conversation, standard: Membership) -> None:
    _, raw = ApiKey.issue(owner=standard, name="test")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get(f"/api/v1/conversations/{released.pk}").status_code == 200
    thread = api.get(f"/api/v1/conversations/{released.pk}/messages")
    assert thread.status_code == 200
    assert "Your crown is ready" in thread.content.decode()


def test_it_stays_closed_to_whoever_the_number_was_not_open_to(
    released: Conversation, org: Organization, other_org: Organization
) -> None:
    PhoneNumber.all_objects.filter(pk=released.phone_number_id).update(access_everyone=False)
    outsider = make_member(org, "outsider@acme.test", Role.STANDARD)
    stranger = make_member(other_org, "stranger@other.test", Role.ADMINISTRATIVE)
    for member in (outsider, stranger):
        assert logged_in(member).get(f"/inbox/c/{released.pk}/").status_code == 404
        results = logged_in(member).get("/search/", {"q": "crown"}).content.decode()
        assert f"/inbox/c/{released.pk}/" not in results

"""The inbox list's bulk actions: archive, unarchive, mark read and unread the ticked
conversations the member sees, in one request; the list comes back with its filters."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.conftest import make_conversation
from twoway.accounts.models import Organization
from twoway.conversations.models import Conversation, Folder
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db


def _listed(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-conversation="(\d+)"', html)}


def test_bulk_archive_read_and_unread(
    admin_client: Client, org: Organization, number: PhoneNumber
) -> None:
    one, two, three = (make_conversation(org, number, f"+1202555010{i}") for i in range(1, 4))
    Conversation.objects.update(unread_count=2)
    url = "/inbox/bulk/?folder=needs_attention"
    response = admin_client.post(
        url, {"action": "archive", "conversation": [one.pk, two.pk]}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert _listed(response.content.decode()) == {three.pk}  # the list, redrawn
    assert {c.pk for c in Conversation.objects.filter(folder=Folder.ARCHIVED)} == {one.pk, two.pk}

    admin_client.post(url, {"action": "read", "conversation": [three.pk]})
    three.refresh_from_db()
    assert (three.unread_count, three.folder) == (0, Folder.NEEDS_ATTENTION)
    admin_client.post(url, {"action": "unread", "conversation": [three.pk]})
    three.refresh_from_db()
    assert three.unread_count >= 1

    response = admin_client.post(
        "/inbox/bulk/?folder=archived", {"action": "unarchive", "conversation": [one.pk]}
    )
    assert response.status_code == 302 and "folder=archived" in response["Location"]
    one.refresh_from_db()
    assert one.folder != Folder.ARCHIVED


def test_another_organizations_conversation_is_left_alone(
    admin_client: Client, other_org: Organization, number: PhoneNumber
) -> None:
    theirs_number = PhoneNumber.objects.create(organization=other_org, number="+14155550177")
    theirs = make_conversation(other_org, theirs_number, "+12025550109")
    response = admin_client.post(
        "/inbox/bulk/", {"action": "archive", "conversation": [theirs.pk]}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    theirs.refresh_from_db()
    assert theirs.folder == Folder.NEEDS_ATTENTION


@pytest.mark.parametrize(
    "data", [{"action": "archive"}, {"action": "explode", "conversation": ["1"]}, {}]
)
def test_nothing_ticked_or_an_unknown_action_is_refused(admin_client: Client, data: dict) -> None:
    assert admin_client.post("/inbox/bulk/", data).status_code == 400


def test_each_row_has_a_box_for_the_bulk_form(
    admin_client: Client, org: Organization, number: PhoneNumber
) -> None:
    conversation = make_conversation(org, number, "+12025550101")
    html = admin_client.get("/inbox/").content.decode()
    assert 'id="bulk-actions"' in html
    assert f'name="conversation" value="{conversation.pk}" form="bulk-actions"' in html

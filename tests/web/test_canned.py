"""Settings, Canned responses, and the composer's picker: its list and one response filled in
for the open conversation (the browser side is in tests/browser/test_canned.py)."""

from __future__ import annotations

import pytest

from tests.conftest import logged_in, make_conversation, make_member
from twoway.accounts.models import Membership, Organization, Role
from twoway.canned.models import CannedResponse
from twoway.conversations.models import Message
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db

PAGE = "/settings/canned-responses/"
ADD = "/settings/canned-responses/add/"


def test_an_admin_adds_one_for_everyone(admin: Membership) -> None:
    client = logged_in(admin)
    answer = client.post(ADD, {"scope": "organization", "name": "Hours", "body": "At 9"})
    assert answer.status_code == 302
    canned = CannedResponse.objects.get()
    assert canned.owner_id is None
    page = client.get(PAGE).content.decode()
    assert f'action="/settings/canned-responses/{canned.pk}/"' in page
    assert "Canned response “Hours” added." in page


def test_a_member_sees_the_organizations_read_only_and_keeps_their_own(
    org: Organization, standard: Membership
) -> None:
    shared = CannedResponse.objects.create(organization=org, name="Hours", body="At 9")
    client = logged_in(standard)
    page = client.get(PAGE).content.decode()
    assert "At 9" in page
    assert f"/settings/canned-responses/{shared.pk}/" not in page
    assert 'name="scope" value="organization"' not in page
    # Told that no one else sees theirs, and where to keep them from the top bar.
    assert "Only you see these." in page
    assert 'href="/settings/canned-responses/"' in page

    refused = client.post(ADD, {"scope": "organization", "name": "x", "body": "y"})
    assert refused.status_code == 403
    refused = client.post(f"{PAGE}{shared.pk}/", {"name": "Mine", "body": "x"})
    assert refused.status_code == 403
    assert client.post(f"{PAGE}{shared.pk}/", {"delete": "1"}).status_code == 403
    shared.refresh_from_db()
    assert (shared.name, shared.body) == ("Hours", "At 9")

    assert (
        client.post(ADD, {"scope": "personal", "name": "Mine", "body": "On it"}).status_code == 302
    )
    mine = CannedResponse.objects.get(owner=standard)
    assert client.post(f"{PAGE}{mine.pk}/", {"name": "Mine", "body": "Later"}).status_code == 302
    mine.refresh_from_db()
    assert mine.body == "Later"
    assert client.post(f"{PAGE}{mine.pk}/", {"delete": "1"}).status_code == 302
    assert not CannedResponse.objects.filter(pk=mine.pk).exists()


def test_an_unknown_field_is_refused_with_what_was_typed_kept(standard: Membership) -> None:
    answer = logged_in(standard).post(
        ADD, {"scope": "personal", "name": "Nick", "body": "Hi {nickname}"}
    )
    assert answer.status_code == 422
    page = answer.content.decode()
    assert "{nickname} is not a merge field." in page
    assert "Hi {nickname}</textarea>" in page
    assert CannedResponse.objects.count() == 0


def test_a_colleagues_personal_one_is_not_found(org: Organization, standard: Membership) -> None:
    colleague = make_member(org, "colleague@acme.test", Role.ADMINISTRATIVE)
    mine = CannedResponse.objects.create(organization=org, owner=standard, name="M", body="Mine")
    client = logged_in(colleague)
    assert "Mine" not in client.get(PAGE).content.decode()
    assert client.post(f"{PAGE}{mine.pk}/", {"delete": "1"}).status_code == 404
    assert CannedResponse.objects.filter(pk=mine.pk).exists()


def test_the_picker_lists_the_organizations_then_the_members_own(
    org: Organization, number: PhoneNumber, standard: Membership
) -> None:
    conversation = make_conversation(org, number, "+12025550101")
    CannedResponse.objects.create(organization=org, owner=standard, name="Alpha", body="Mine")
    CannedResponse.objects.create(organization=org, name="Zulu", body="Shared")
    other = make_member(org, "colleague@acme.test", Role.STANDARD)
    CannedResponse.objects.create(organization=org, owner=other, name="Theirs", body="Not yours")
    client = logged_in(standard)
    listed = client.get(f"/inbox/c/{conversation.pk}/canned/").content.decode()
    assert listed.index("Zulu") < listed.index("Alpha")
    assert "Theirs" not in listed
    # The composer carries the picker's button, named for screen readers, with its shortcut.
    panel = client.get(f"/inbox/c/{conversation.pk}/").content.decode()
    assert 'aria-label="Canned responses"' in panel
    assert "Ctrl+/" in panel


def test_the_picker_fills_one_in_and_warns_of_empty_fields(
    org: Organization, number: PhoneNumber, standard: Membership
) -> None:
    conversation = make_conversation(org, number, "+12025550101")
    conversation.contact.first_name = "Dana"
    conversation.contact.save()
    canned = CannedResponse.objects.create(
        organization=org, name="Bill", body="Hi {first_name}, your balance is due {last_name}"
    )
    answer = logged_in(standard).get(f"/inbox/c/{conversation.pk}/canned/{canned.pk}/")
    assert answer.status_code == 200
    assert answer.json() == {
        "name": "Bill",
        "text": "Hi Dana, your balance is due {last_name}",
        "empty_fields": ["last_name"],
        "unknown_fields": [],
        "warning": "This contact has no value for {last_name}. Left in the text as written: "
        "fill in or remove before sending.",
    }
    assert Message.objects.count() == 0


def test_the_picker_of_a_conversation_the_member_does_not_see_is_not_found(
    org: Organization, number: PhoneNumber, other_org: Organization
) -> None:
    conversation = make_conversation(org, number, "+12025550101")
    canned = CannedResponse.objects.create(organization=org, name="Hours", body="At 9")
    outsider = logged_in(make_member(other_org, "boss@other.test", Role.ADMINISTRATIVE))
    assert outsider.get(f"/inbox/c/{conversation.pk}/canned/").status_code == 404
    assert outsider.get(f"/inbox/c/{conversation.pk}/canned/{canned.pk}/").status_code == 404

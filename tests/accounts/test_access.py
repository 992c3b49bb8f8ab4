"""Who may use which number (inbox settings), and what that means for the inbox."""

from __future__ import annotations

import pytest

from tests.conftest import logged_in
from twoway.accounts.access import require_admin
from twoway.accounts.models import Membership, Team
from twoway.conversations.access import access_conversation
from twoway.core.errors import NotFound, PermissionDenied
from twoway.messaging.services import message_send
from twoway.numbers.access import numbers_usable_by
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db


@pytest.fixture
def restricted(org) -> PhoneNumber:
    return PhoneNumber.objects.create(
        organization=org, number="+14155550199", carrier="simulator", access_everyone=False
    )


def test_numbers_open_to_everyone_are_usable_by_every_member(
    number: PhoneNumber, standard: Membership, limited: Membership
) -> None:
    assert list(numbers_usable_by(standard)) == [number]
    assert list(numbers_usable_by(limited)) == [number]


def test_restricted_number_only_for_admins_listed_users_and_teams(
    org,
    number: PhoneNumber,
    restricted: PhoneNumber,
    admin: Membership,
    standard: Membership,
    limited: Membership,
) -> None:
    assert set(numbers_usable_by(admin)) == {number, restricted}
    assert list(numbers_usable_by(standard)) == [number]
    restricted.access_users.add(standard)
    assert set(numbers_usable_by(standard)) == {number, restricted}
    team = Team.objects.create(organization=org, name="Front desk")
    team.members.add(limited)
    assert list(numbers_usable_by(limited)) == [number]
    restricted.access_teams.add(team)
    assert set(numbers_usable_by(limited)) == {number, restricted}
    # Listed both ways, still listed once.
    restricted.access_users.add(limited)
    assert list(numbers_usable_by(limited)).count(restricted) == 1


def test_conversations_of_a_restricted_number_are_hidden_from_others(
    restricted: PhoneNumber, admin: Membership, standard: Membership
) -> None:
    conversation = message_send(
        phone_number=restricted, to="2025550172", body="Hi", membership=admin
    ).conversation
    with pytest.raises(NotFound):
        access_conversation(standard, conversation.pk)
    client = logged_in(standard)
    assert client.get(f"/inbox/c/{conversation.pk}/").status_code == 404
    assert (
        "No conversations here." in client.get("/inbox/list/?folder=participating").content.decode()
    )
    page = client.get("/inbox/new/").content.decode()
    assert restricted.number not in page and "(415) 555-0199" not in page
    response = client.post(
        "/inbox/new/", {"from_id": restricted.pk, "to": "2025550173", "body": "x"}
    )
    # The form comes back with the reason; the status says the number is not theirs.
    assert response.status_code == 404
    assert "not yours to use" in response.content.decode()
    restricted.access_users.add(standard)
    assert client.get(f"/inbox/c/{conversation.pk}/").status_code == 200


def test_only_admins_pass_require_admin(admin: Membership, standard: Membership) -> None:
    require_admin(admin)
    with pytest.raises(PermissionDenied):
        require_admin(standard)
    assert logged_in(standard).get("/settings/").status_code == 403
    assert logged_in(admin).get("/settings/").status_code == 200


def test_assistant_backed_number_keeps_conversations_in_participating(
    org, number: PhoneNumber
) -> None:
    from twoway.carrier_events.processing import carrier_events_process_pending
    from twoway.carrier_events.store import carrier_event_record
    from twoway.carriers.base import InboundMessage
    from twoway.conversations.models import Conversation, Folder

    number.routing_mode = "assistant"
    number.save()
    carrier_event_record(
        "simulator",
        InboundMessage(
            carrier_message_id="va-1",
            from_number="+12025550172",
            to_number=number.number,
            body="Hours?",
        ),
    )
    carrier_events_process_pending()
    conversation = Conversation.objects.get()
    assert (conversation.folder, conversation.unread_count) == (Folder.PARTICIPATING, 1)

"""Assigning a conversation to a person or a team: the service, its refusals, the inbox filter."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.conftest import make_conversation, make_member
from twoway.accounts.models import Membership, Organization, Role, Team
from twoway.conversations.models import Conversation, Folder, Kind, Message
from twoway.conversations.selectors import (
    conversations_for_api,
    folder_counts,
    inbox_page,
)
from twoway.conversations.services import conversation_assign
from twoway.core.errors import InvalidInput
from twoway.numbers.access import members_who_see, teams_who_see
from twoway.numbers.models import PhoneNumber
from twoway.realtime.models import RealtimeEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(org: Organization, number: PhoneNumber) -> Conversation:
    return make_conversation(org, number, "+14155550123")


def _state(conversation: Conversation) -> dict[str, Any]:
    """What an assignment may change: the two columns, the notes, the realtime events."""
    row = Conversation.objects.filter(pk=conversation.pk).values("assignee_id", "assignee_team_id")
    return {
        "row": list(row),
        "notes": Message.objects.filter(conversation=conversation, kind=Kind.NOTE).count(),
        "events": RealtimeEvent.objects.count(),
    }


def _notes(conversation: Conversation) -> list[tuple[str, str, int | None]]:
    return list(
        Message.objects.filter(conversation=conversation, kind=Kind.NOTE)
        .order_by("pk")
        .values_list("body", "sent_by_label", "sent_by_id")
    )


# ---- the service ----------------------------------------------------------------------------


def test_assign_to_a_person_records_who_did_it(
    conversation: Conversation, admin: Membership, sam: Membership
) -> None:
    events = RealtimeEvent.objects.count()
    result = conversation_assign(conversation=conversation, actor=admin, user_id=sam.user_id)
    assert (result.assignee_id, result.assignee_team_id) == (sam.user_id, None)
    conversation.refresh_from_db()
    assert conversation.assignee_id == sam.user_id
    assert _notes(conversation) == [
        ("admin@acme.test assigned this conversation to Sam Rivera.", "assignment", admin.user_id)
    ]
    kinds = list(RealtimeEvent.objects.order_by("pk").values_list("kind", flat=True)[events:])
    assert kinds == ["conversation.updated", "message.created"]


def test_assign_to_a_team_then_a_person_then_nobody(
    conversation: Conversation, admin: Membership, sam: Membership, front_desk: Team
) -> None:
    conversation_assign(conversation=conversation, actor=admin, team_id=front_desk.pk)
    conversation.refresh_from_db()
    assert (conversation.assignee_id, conversation.assignee_team_id) == (None, front_desk.pk)
    conversation_assign(conversation=conversation, actor=admin, user_id=sam.user_id)
    conversation.refresh_from_db()
    assert (conversation.assignee_id, conversation.assignee_team_id) == (sam.user_id, None)
    conversation_assign(conversation=conversation, actor=admin)
    conversation.refresh_from_db()
    assert (conversation.assignee_id, conversation.assignee_team_id) == (None, None)
    assert [body for body, _, _ in _notes(conversation)] == [
        "admin@acme.test assigned this conversation to the team Front desk.",
        "admin@acme.test assigned this conversation to Sam Rivera (was the team Front desk).",
        "admin@acme.test unassigned this conversation (was Sam Rivera).",
    ]


def test_assigning_to_whoever_has_it_already_writes_nothing(
    conversation: Conversation, admin: Membership, sam: Membership
) -> None:
    conversation_assign(conversation=conversation, actor=admin, user_id=sam.user_id)
    before = _state(conversation)
    conversation_assign(conversation=conversation, actor=admin, user_id=sam.user_id)
    assert _state(conversation) == before
    # Nor does unassigning an unassigned conversation.
    other = make_conversation(conversation.organization, conversation.phone_number, "+14155550124")
    before = _state(other)
    conversation_assign(conversation=other, actor=admin)
    assert _state(other) == before


def test_an_admin_may_assign_to_themselves(conversation: Conversation, admin: Membership) -> None:
    conversation_assign(conversation=conversation, actor=admin, user_id=admin.user_id)
    conversation.refresh_from_db()
    assert conversation.assignee_id == admin.user_id


def _restricted(number: PhoneNumber) -> None:
    number.access_everyone = False
    number.save()


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("both", "two_assignees"),
        ("user_of_another_org", "assignee_not_member"),
        ("user_who_does_not_exist", "assignee_not_member"),
        ("user_without_membership", "assignee_not_member"),
        ("deactivated_user", "assignee_inactive"),
        ("user_who_cannot_see_the_number", "assignee_no_access"),
        ("team_of_another_org", "team_not_found"),
        ("team_that_does_not_exist", "team_not_found"),
        ("team_the_number_is_not_open_to", "team_no_access"),
    ],
)
def test_refusals_leave_nothing_written(
    conversation: Conversation,
    admin: Membership,
    sam: Membership,
    front_desk: Team,
    other_org: Organization,
    case: str,
    code: str,
) -> None:
    from django.contrib.auth import get_user_model

    # It was someone's already: a refusal must not take it from them either.
    conversation_assign(conversation=conversation, actor=admin, user_id=admin.user_id)
    outsider = make_member(other_org, "outsider@other.test", Role.ADMINISTRATIVE)
    their_team = Team.objects.create(organization=other_org, name="Theirs")
    kwargs: dict[str, int] = {}
    if case == "both":
        kwargs = {"user_id": sam.user_id, "team_id": front_desk.pk}
    elif case == "user_of_another_org":
        kwargs = {"user_id": outsider.user_id}
    elif case == "user_who_does_not_exist":
        kwargs = {"user_id": 987654}
    elif case == "user_without_membership":
        loner = get_user_model().objects.create_user(username="loner", email="loner@x.test")
        kwargs = {"user_id": loner.pk}
    elif case == "deactivated_user":
        sam.user.is_active = False
        sam.user.save()
        kwargs = {"user_id": sam.user_id}
    elif case == "user_who_cannot_see_the_number":
        _restricted(conversation.phone_number)
        kwargs = {"user_id": sam.user_id}
    elif case == "team_of_another_org":
        kwargs = {"team_id": their_team.pk}
    elif case == "team_that_does_not_exist":
        kwargs = {"team_id": 987654}
    elif case == "team_the_number_is_not_open_to":
        _restricted(conversation.phone_number)
        kwargs = {"team_id": front_desk.pk}
    before = _state(conversation)
    with pytest.raises(InvalidInput) as raised:
        conversation_assign(conversation=conversation, actor=admin, **kwargs)
    assert raised.value.code == code
    assert raised.value.message
    assert _state(conversation) == before


def test_number_access_through_a_person_or_a_team_is_enough(
    org: Organization, conversation: Conversation, admin: Membership, sam: Membership
) -> None:
    number = conversation.phone_number
    _restricted(number)
    alex = make_member(org, "alex@acme.test", Role.LIMITED)
    night = Team.objects.create(organization=org, name="Night")
    night.members.add(alex)
    number.access_users.add(sam)
    number.access_teams.add(night)
    assert set(members_who_see(number)) == {admin, sam, alex}
    assert list(teams_who_see(number)) == [night]
    # A Limited user answers conversations, so may be given one.
    conversation_assign(conversation=conversation, actor=admin, user_id=alex.user_id)
    conversation_assign(conversation=conversation, actor=admin, team_id=night.pk)
    conversation.refresh_from_db()
    assert conversation.assignee_team_id == night.pk


def test_the_database_refuses_both_assignees(
    conversation: Conversation, sam: Membership, front_desk: Team
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(
            assignee_id=sam.user_id, assignee_team_id=front_desk.pk
        )


def test_deleting_the_team_unassigns(
    conversation: Conversation, admin: Membership, front_desk: Team
) -> None:
    conversation_assign(conversation=conversation, actor=admin, team_id=front_desk.pk)
    front_desk.delete()
    conversation.refresh_from_db()
    assert conversation.assignee_team_id is None


# ---- the inbox filter -----------------------------------------------------------------------


@pytest.fixture
def assigned(
    org: Organization,
    number: PhoneNumber,
    admin: Membership,
    sam: Membership,
    front_desk: Team,
) -> dict[str, Conversation]:
    """One conversation per kind of assignment."""
    rows = {
        name: make_conversation(org, number, f"+1415555020{i}")
        for i, name in enumerate(["sam", "team", "admin", "nobody"])
    }
    conversation_assign(conversation=rows["sam"], actor=admin, user_id=sam.user_id)
    conversation_assign(conversation=rows["team"], actor=admin, team_id=front_desk.pk)
    conversation_assign(conversation=rows["admin"], actor=admin, user_id=admin.user_id)
    return rows


def _names(rows: dict[str, Conversation], found: Any) -> set[str]:
    by_pk = {c.pk: name for name, c in rows.items()}
    return {by_pk[c.pk] for c in found}


@pytest.mark.parametrize(
    ("who", "assignee", "expected"),
    [
        ("sam", "", {"sam", "team", "admin", "nobody"}),
        ("sam", "me", {"sam", "team"}),
        ("admin", "me", {"admin"}),
        ("sam", "none", {"nobody"}),
        ("sam", "user:sam", {"sam"}),
        ("sam", "team:front_desk", {"team"}),
        ("sam", "bogus", {"sam", "team", "admin", "nobody"}),
    ],
)
def test_inbox_filter(
    assigned: dict[str, Conversation],
    admin: Membership,
    sam: Membership,
    front_desk: Team,
    who: str,
    assignee: str,
    expected: set[str],
) -> None:
    member = {"sam": sam, "admin": admin}[who]
    assignee = assignee.replace("user:sam", f"user:{sam.user_id}").replace(
        "team:front_desk", f"team:{front_desk.pk}"
    )
    found = inbox_page(member, Folder.NEEDS_ATTENTION, assignee).conversations
    assert _names(assigned, found) == expected
    assert folder_counts(member, assignee)[Folder.NEEDS_ATTENTION] == len(expected)
    if assignee != "bogus":
        assert _names(assigned, conversations_for_api(member, None, assignee or None)) == expected


def test_the_filter_never_shows_what_the_member_cannot_see(
    assigned: dict[str, Conversation], sam: Membership, number: PhoneNumber
) -> None:
    _restricted(number)
    assert inbox_page(sam, Folder.NEEDS_ATTENTION, "me").conversations == []


def test_the_inbox_list_costs_the_same_whatever_the_number_of_rows(
    assigned: dict[str, Conversation],
    org: Organization,
    number: PhoneNumber,
    admin: Membership,
    sam: Membership,
    front_desk: Team,
) -> None:
    def list_mine() -> tuple[int, list[tuple[str | None, str | None]]]:
        with CaptureQueriesContext(connection) as captured:
            rows = inbox_page(sam, Folder.NEEDS_ATTENTION, "me").conversations
            labels = [
                (c.assignee and c.assignee.email, c.assignee_team and c.assignee_team.name)
                for c in rows
            ]
        return len(captured), labels

    few, labels = list_mine()
    assert sorted(labels, key=str) == sorted(
        [("sam@acme.test", None), (None, "Front desk")], key=str
    )
    for i in range(6):
        row = make_conversation(org, number, f"+1415555030{i}")
        kwargs = {"team_id": front_desk.pk} if i % 2 else {"user_id": sam.user_id}
        conversation_assign(conversation=row, actor=admin, **kwargs)
    many, labels = list_mine()
    assert len(labels) == 8
    assert many == few

"""Issue 3's permission matrix: every role and every action, through the web UI and the API.

`EXPECTED` is the table: for each action, what each role gets. Each cell is run twice, once
logged in to the web UI (Django's test client) and once with a personal API key of a member of
that role. An allowed action must work and its effect must be there; a forbidden one must answer
403 (404 where the row is invisible to that member) with nothing changed in the organization.

The cross-organization half lives in test_cross_organization.py.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import logged_in, make_member
from twoway.accounts.models import ApiKey, Membership, Organization, Role, Team
from twoway.contacts.models import Contact, ContactPhone
from twoway.conversations.models import Conversation, Direction, Folder, Message, Status
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db

OK, DENIED, HIDDEN, NA = "ok", 403, 404, "n/a"

ROLES = ["admin", "admin_no_sms", "standard", "standard_no_sms", "limited"]
CONTACT = "+14155550123"
NEW_CONTACT = "+14155550188"

# Every role by every action. `web` and `api` are the expected outcome through each door; NA
# where that door has no such action (settings and keys are not on the API: a key must not mint
# keys or change who may do what).
EXPECTED: dict[str, dict[str, dict[str, Any]]] = {
    # Anyone who sees the conversation (its number is open to them) may read it.
    "view": {"web": dict.fromkeys(ROLES, OK), "api": dict.fromkeys(ROLES, OK)},
    # Starting a conversation: Administrative and Standard, with "Send SMS to clients".
    "initiate": {
        "web": {
            "admin": OK,
            "admin_no_sms": DENIED,
            "standard": OK,
            "standard_no_sms": DENIED,
            "limited": DENIED,
        },
        "api": {
            "admin": OK,
            "admin_no_sms": DENIED,
            "standard": OK,
            "standard_no_sms": DENIED,
            "limited": DENIED,
        },
    },
    # Answering an existing conversation: every role, with "Send SMS to clients".
    "reply": {
        "web": {
            "admin": OK,
            "admin_no_sms": DENIED,
            "standard": OK,
            "standard_no_sms": DENIED,
            "limited": OK,
        },
        "api": {
            "admin": OK,
            "admin_no_sms": DENIED,
            "standard": OK,
            "standard_no_sms": DENIED,
            "limited": OK,
        },
    },
    # A number closed to everyone but admins: others may not even see it.
    "send_from_restricted_number": {
        "web": {
            "admin": OK,
            "admin_no_sms": DENIED,
            "standard": HIDDEN,
            "standard_no_sms": DENIED,
            "limited": DENIED,
        },
        "api": {
            "admin": OK,
            "admin_no_sms": DENIED,
            "standard": HIDDEN,
            "standard_no_sms": HIDDEN,
            "limited": HIDDEN,
        },
    },
    "note": {"web": dict.fromkeys(ROLES, OK), "api": dict.fromkeys(ROLES, OK)},
    # Triage is part of answering: everyone who sees the conversation.
    "archive": {"web": dict.fromkeys(ROLES, OK), "api": dict.fromkeys(ROLES, OK)},
    "unarchive": {"web": dict.fromkeys(ROLES, OK), "api": dict.fromkeys(ROLES, OK)},
    "mark_unread": {"web": dict.fromkeys(ROLES, OK), "api": dict.fromkeys(ROLES, OK)},
    "mute": {"web": dict.fromkeys(ROLES, OK), "api": dict.fromkeys(ROLES, OK)},
    # Handing out work: everyone who sees the conversation except Limited users.
    "assign": {
        "web": {**dict.fromkeys(ROLES, OK), "limited": DENIED},
        "api": {**dict.fromkeys(ROLES, OK), "limited": DENIED},
    },
    # Administrative only, while the organization allows it...
    "delete": {
        "web": {
            "admin": OK,
            "admin_no_sms": OK,
            "standard": DENIED,
            "standard_no_sms": DENIED,
            "limited": DENIED,
        },
        "api": {
            "admin": OK,
            "admin_no_sms": OK,
            "standard": DENIED,
            "standard_no_sms": DENIED,
            "limited": DENIED,
        },
    },
    # ... and nobody once an admin has switched it off.
    "delete_when_disabled": {
        "web": dict.fromkeys(ROLES, DENIED),
        "api": dict.fromkeys(ROLES, DENIED),
    },
    # Everyone who sees the conversation except Limited users.
    "export": {
        "web": {**dict.fromkeys(ROLES, OK), "limited": DENIED},
        "api": {**dict.fromkeys(ROLES, OK), "limited": DENIED},
    },
    # Settings (here: creating a team) are for administrators; not on the API.
    "settings": {
        "web": {
            "admin": OK,
            "admin_no_sms": OK,
            "standard": DENIED,
            "standard_no_sms": DENIED,
            "limited": DENIED,
        },
        "api": dict.fromkeys(ROLES, NA),
    },
    # Managing numbers (here: releasing one) is for administrators. The API lists the numbers a
    # key's owner may use: all for admins, the open one for the others.
    "numbers": {
        "web": {
            "admin": OK,
            "admin_no_sms": OK,
            "standard": DENIED,
            "standard_no_sms": DENIED,
            "limited": DENIED,
        },
        "api": dict.fromkeys(ROLES, OK),
    },
    # Browsing and editing contacts: Administrative and Standard.
    "contacts": {
        "web": {**dict.fromkeys(ROLES, OK), "limited": DENIED},
        "api": {**dict.fromkeys(ROLES, OK), "limited": DENIED},
    },
    # Everyone creates their own API keys (web only)...
    "api_key_create": {"web": dict.fromkeys(ROLES, OK), "api": dict.fromkeys(ROLES, NA)},
    # ... and only admins revoke another member's (it is not even listed for the others).
    "api_key_revoke_others": {
        "web": {
            "admin": OK,
            "admin_no_sms": OK,
            "standard": HIDDEN,
            "standard_no_sms": HIDDEN,
            "limited": HIDDEN,
        },
        "api": dict.fromkeys(ROLES, NA),
    },
}


@dataclass
class World:
    org: Organization
    members: dict[str, Membership]
    number: PhoneNumber  # open to everyone
    restricted: PhoneNumber  # open to nobody but admins
    spare: PhoneNumber  # no conversations: can be released
    contact: Contact
    conversation: Conversation
    bystander: Membership  # owns a key others may try to revoke
    bystander_key: ApiKey


@pytest.fixture
def world(org: Organization) -> World:
    members = {
        "admin": make_member(org, "admin@acme.test", Role.ADMINISTRATIVE),
        "admin_no_sms": make_member(org, "admin2@acme.test", Role.ADMINISTRATIVE),
        "standard": make_member(org, "standard@acme.test", Role.STANDARD),
        "standard_no_sms": make_member(org, "standard2@acme.test", Role.STANDARD),
        "limited": make_member(org, "limited@acme.test", Role.LIMITED),
    }
    for role in ("admin_no_sms", "standard_no_sms"):
        members[role].can_send_sms = False
        members[role].save()
    number = PhoneNumber.objects.create(
        organization=org, number="+14155550100", carrier="simulator", mps_limit=100
    )
    restricted = PhoneNumber.objects.create(
        organization=org,
        number="+14155550101",
        carrier="simulator",
        mps_limit=100,
        access_everyone=False,
    )
    spare = PhoneNumber.objects.create(
        organization=org, number="+14155550102", carrier="simulator", mps_limit=100
    )
    contact = Contact.objects.create(organization=org, name="Pat Client")
    ContactPhone.objects.create(organization=org, contact=contact, number=CONTACT)
    conversation = Conversation.objects.create(
        organization=org,
        contact=contact,
        phone_number=number,
        contact_number=CONTACT,
        folder=Folder.NEEDS_ATTENTION,
        unread_count=1,
        last_message_at=timezone.now(),
    )
    Message.objects.create(
        organization=org,
        conversation=conversation,
        direction=Direction.INBOUND,
        body="Can I move my appointment?",
        status=Status.RECEIVED,
        from_number=CONTACT,
        to_number=number.number,
    )
    bystander = make_member(org, "bystander@acme.test", Role.STANDARD)
    bystander_key, _ = ApiKey.issue(owner=bystander, name="Bystander's CRM")
    return World(
        org, members, number, restricted, spare, contact, conversation, bystander, bystander_key
    )


def snapshot(org: Organization) -> dict[str, list[Any]]:
    """Every row of the organization a permission could guard, to prove nothing changed."""
    return {
        "conversations": list(
            Conversation.objects.filter(organization=org)
            .order_by("pk")
            .values("pk", "folder", "unread_count", "muted", "assignee_id", "assignee_team_id")
        ),
        "messages": list(
            Message.objects.filter(organization=org).order_by("pk").values("pk", "body", "kind")
        ),
        "contacts": list(
            Contact.objects.filter(organization=org)
            .order_by("pk")
            .values("pk", "name", "email", "opt_in_status")
        ),
        "numbers": list(
            PhoneNumber.objects.filter(organization=org).order_by("pk").values("pk", "number")
        ),
        "teams": list(Team.objects.filter(organization=org).values("pk", "name")),
        "keys": list(
            ApiKey.objects.filter(organization=org).order_by("pk").values("pk", "revoked_at")
        ),
    }


# ---- the actions, through each door ---------------------------------------------------------
# Each returns the response; `EFFECTS` checks that an allowed action did what it says.


def _api(member: Membership) -> Client:
    _, raw = ApiKey.issue(owner=member, name="matrix")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def _conv_url(w: World, action: str = "") -> str:
    return f"/inbox/c/{w.conversation.pk}/" + (f"{action}/" if action else "")


def _api_conv_url(w: World, action: str = "") -> str:
    return f"/api/v1/conversations/{w.conversation.pk}" + (f"/{action}" if action else "")


def _send_api(client: Client, sender: str, to: str) -> Any:
    payload = {"from": sender, "to": to, "body": "See you at 3"}
    return client.post("/api/v1/messages", payload, content_type="application/json")


def _archived(w: World) -> None:
    Conversation.objects.filter(pk=w.conversation.pk).update(folder=Folder.ARCHIVED)


def _participating(w: World) -> None:
    Conversation.objects.filter(pk=w.conversation.pk).update(
        folder=Folder.PARTICIPATING, unread_count=0
    )


def _delete_disabled(w: World) -> None:
    Organization.objects.filter(pk=w.org.pk).update(allow_conversation_delete=False)


WEEK = {
    "start": str(timezone.localdate() - datetime.timedelta(days=6)),
    "end": str(timezone.localdate()),
}

WEB_ACTIONS: dict[str, Callable[[Client, World], Any]] = {
    "view": lambda c, w: c.get(_conv_url(w)),
    "initiate": lambda c, w: c.post(
        "/inbox/new/", {"from_id": w.number.pk, "to": NEW_CONTACT, "body": "Hello"}
    ),
    "reply": lambda c, w: c.post(_conv_url(w, "send"), {"body": "See you at 3"}),
    "send_from_restricted_number": lambda c, w: c.post(
        "/inbox/new/", {"from_id": w.restricted.pk, "to": NEW_CONTACT, "body": "Hello"}
    ),
    "note": lambda c, w: c.post(_conv_url(w, "note"), {"body": "Called back"}),
    "archive": lambda c, w: c.post(_conv_url(w, "archive")),
    "unarchive": lambda c, w: c.post(_conv_url(w, "unarchive")),
    "mark_unread": lambda c, w: c.post(_conv_url(w, "unread")),
    "mute": lambda c, w: c.post(_conv_url(w, "mute")),
    "assign": lambda c, w: c.post(
        _conv_url(w, "assign"), {"assignee": f"user:{w.bystander.user_id}"}
    ),
    "delete": lambda c, w: c.post(_conv_url(w, "delete")),
    "delete_when_disabled": lambda c, w: c.post(_conv_url(w, "delete")),
    "export": lambda c, w: c.get(_conv_url(w, "export"), {**WEEK, "format": "csv"}),
    "settings": lambda c, w: c.post("/settings/teams/", {"new-name": "Front desk"}),
    "numbers": lambda c, w: c.post(f"/settings/numbers/{w.spare.pk}/release/"),
    "contacts": lambda c, w: c.post(
        f"/contacts/{w.contact.pk}/",
        {"first_name": "Pat", "last_name": "Renamed", "email": "pat@client.test"},
    ),
    "api_key_create": lambda c, w: c.post("/settings/api-keys/", {"name": "My CRM"}),
    "api_key_revoke_others": lambda c, w: c.post(
        f"/settings/api-keys/{w.bystander_key.pk}/revoke/"
    ),
}

API_ACTIONS: dict[str, Callable[[Client, World], Any]] = {
    "view": lambda c, w: c.get(_api_conv_url(w, "messages")),
    "initiate": lambda c, w: _send_api(c, w.number.number, NEW_CONTACT),
    "reply": lambda c, w: _send_api(c, w.number.number, CONTACT),
    "send_from_restricted_number": lambda c, w: _send_api(c, w.restricted.number, NEW_CONTACT),
    "note": lambda c, w: c.post(
        _api_conv_url(w, "notes"), {"body": "Called back"}, content_type="application/json"
    ),
    "archive": lambda c, w: c.post(_api_conv_url(w, "archive")),
    "unarchive": lambda c, w: c.post(_api_conv_url(w, "unarchive")),
    "mark_unread": lambda c, w: c.post(_api_conv_url(w, "unread")),
    "mute": lambda c, w: c.post(_api_conv_url(w, "mute")),
    "assign": lambda c, w: c.post(
        _api_conv_url(w, "assignee"),
        {"user_id": w.bystander.user_id},
        content_type="application/json",
    ),
    "delete": lambda c, w: c.delete(_api_conv_url(w)),
    "delete_when_disabled": lambda c, w: c.delete(_api_conv_url(w)),
    "export": lambda c, w: c.get(_api_conv_url(w, "export"), {**WEEK, "format": "csv"}),
    "numbers": lambda c, w: c.get("/api/v1/numbers"),
    "contacts": lambda c, w: c.patch(
        f"/api/v1/contacts/{w.contact.pk}",
        {"name": "Pat Renamed", "email": "pat@client.test"},
        content_type="application/json",
    ),
}

# State an action needs before it runs (unarchive needs an archived conversation...).
SETUP: dict[str, Callable[[World], None]] = {
    "unarchive": _archived,
    "mark_unread": _participating,
    "delete_when_disabled": _delete_disabled,
}


def _sent_to(number: str) -> bool:
    return Message.objects.filter(to_number=number, direction=Direction.OUTBOUND).exists()


def _conversation(w: World) -> Conversation:
    return Conversation.objects.get(pk=w.conversation.pk)


EFFECTS: dict[str, Callable[[World, Membership, str, Any], bool]] = {
    "view": lambda w, m, door, r: b"Can I move my appointment?" in r.content,
    "initiate": lambda w, m, door, r: _sent_to(NEW_CONTACT),
    "reply": lambda w, m, door, r: Message.objects.filter(
        conversation=w.conversation, body="See you at 3", sent_by=m.user
    ).exists(),
    "send_from_restricted_number": lambda w, m, door, r: Message.objects.filter(
        from_number=w.restricted.number, to_number=NEW_CONTACT
    ).exists(),
    "note": lambda w, m, door, r: Message.objects.filter(
        conversation=w.conversation, kind="note", body="Called back", sent_by=m.user
    ).exists(),
    "archive": lambda w, m, door, r: _conversation(w).folder == Folder.ARCHIVED,
    # The contact's question is still unanswered, so it goes back to Needs attention.
    "unarchive": lambda w, m, door, r: _conversation(w).folder == Folder.NEEDS_ATTENTION,
    "mark_unread": lambda w, m, door, r: (
        (_conversation(w).folder, _conversation(w).unread_count) == (Folder.NEEDS_ATTENTION, 1)
    ),
    "mute": lambda w, m, door, r: _conversation(w).muted,
    "assign": lambda w, m, door, r: (
        _conversation(w).assignee_id == w.bystander.user_id
        and Message.objects.filter(
            conversation=w.conversation, kind="note", sent_by_label="assignment", sent_by=m.user
        ).exists()
    ),
    "delete": lambda w, m, door, r: (
        not Conversation.objects.filter(pk=w.conversation.pk).exists()
        and not Message.objects.filter(organization=w.org).exists()
    ),
    "export": lambda w, m, door, r: (
        r["Content-Type"].startswith("text/csv")
        and "attachment" in r["Content-Disposition"]
        and "Can I move my appointment?" in r.content.decode()
    ),
    "settings": lambda w, m, door, r: Team.objects.filter(
        organization=w.org, name="Front desk"
    ).exists(),
    "numbers": lambda w, m, door, r: (
        not PhoneNumber.objects.filter(pk=w.spare.pk).exists()
        if door == "web"
        # The restricted number is listed to admins only.
        else {n["number"] for n in r.json()}
        == (
            {w.number.number, w.restricted.number, w.spare.number}
            if m.is_admin
            else {w.number.number, w.spare.number}
        )
    ),
    "contacts": lambda w, m, door, r: Contact.objects.filter(
        pk=w.contact.pk, name="Pat Renamed", email="pat@client.test"
    ).exists(),
    "api_key_create": lambda w, m, door, r: (
        ApiKey.objects.filter(owner=m, name="My CRM", revoked_at__isnull=True).exists()
        and b"tw_" in r.content
    ),
    "api_key_revoke_others": lambda w, m, door, r: (
        ApiKey.objects.get(pk=w.bystander_key.pk).revoked_at is not None
    ),
}

CELLS = [
    (door, action, role)
    for action, doors in EXPECTED.items()
    for door in ("web", "api")
    for role in ROLES
    if doors[door][role] != NA
]


def test_the_table_covers_every_role_and_action() -> None:
    for action, doors in EXPECTED.items():
        for door in ("web", "api"):
            assert set(doors[door]) == set(ROLES), (action, door)
            actions = WEB_ACTIONS if door == "web" else API_ACTIONS
            has_action = any(v != NA for v in doors[door].values())
            assert (action in actions) == has_action, (action, door)
        assert action in EFFECTS or all(
            v != OK for door in doors.values() for v in door.values()
        ), action


@pytest.mark.parametrize(("door", "action", "role"), CELLS)
def test_permission_matrix(world: World, door: str, action: str, role: str) -> None:
    member = world.members[role]
    if setup := SETUP.get(action):
        setup(world)
    client = logged_in(member) if door == "web" else _api(member)
    before = snapshot(world.org)
    response = (WEB_ACTIONS if door == "web" else API_ACTIONS)[action](client, world)
    expected = EXPECTED[action][door][role]
    if expected == OK:
        assert response.status_code < 400, (response.status_code, response.content[:500])
        assert EFFECTS[action](world, member, door, response), response.content[:500]
    else:
        assert response.status_code == expected, (response.status_code, response.content[:500])
        assert snapshot(world.org) == before
        if door == "api":
            assert response.json()["error"]["message"]


def test_a_deactivated_members_key_stops_working(world: World) -> None:
    member = world.members["standard"]
    client = _api(member)
    assert client.get("/api/v1/numbers").status_code == 200
    member.user.is_active = False
    member.user.save()
    assert client.get("/api/v1/numbers").status_code == 401
    assert _send_api(client, world.number.number, CONTACT).status_code == 401


def test_a_key_follows_its_owners_role_as_it_changes(world: World) -> None:
    member = world.members["standard"]
    client = _api(member)
    assert _send_api(client, world.number.number, NEW_CONTACT).status_code == 201
    member.role = Role.LIMITED
    member.save()
    response = _send_api(client, world.number.number, "+14155550199")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "cannot_initiate"


def test_number_access_given_to_a_member_opens_the_number_to_their_key(world: World) -> None:
    member = world.members["standard"]
    client = _api(member)
    assert _send_api(client, world.restricted.number, NEW_CONTACT).status_code == 404
    world.restricted.access_users.add(member)
    assert _send_api(client, world.restricted.number, NEW_CONTACT).status_code == 201


def test_conversations_on_a_closed_number_are_invisible_to_others(world: World) -> None:
    hidden = Conversation.objects.create(
        organization=world.org,
        contact=world.contact,
        phone_number=world.restricted,
        contact_number=CONTACT,
    )
    standard = world.members["standard"]
    assert logged_in(standard).get(f"/inbox/c/{hidden.pk}/").status_code == 404
    api = _api(standard)
    assert api.get(f"/api/v1/conversations/{hidden.pk}").status_code == 404
    assert hidden.pk not in {c["id"] for c in api.get("/api/v1/conversations").json()["items"]}
    admin_ids = {
        c["id"] for c in _api(world.members["admin"]).get("/api/v1/conversations").json()["items"]
    }
    assert hidden.pk in admin_ids


def test_the_inbox_offers_only_the_actions_a_role_may_take(world: World) -> None:
    url = _conv_url(world)
    admin_page = logged_in(world.members["admin"]).get(url).content.decode()
    assert "Delete…" in admin_page and "Export" in admin_page
    standard_page = logged_in(world.members["standard"]).get(url).content.decode()
    assert "Delete…" not in standard_page and "Export" in standard_page
    limited_page = logged_in(world.members["limited"]).get(url).content.decode()
    assert "Delete…" not in limited_page and ">Export<" not in limited_page
    no_sms_page = logged_in(world.members["standard_no_sms"]).get(url).content.decode()
    assert "data-no-send" in no_sms_page and 'name="body"' not in no_sms_page
    _delete_disabled(world)
    assert "Delete…" not in logged_in(world.members["admin"]).get(url).content.decode()

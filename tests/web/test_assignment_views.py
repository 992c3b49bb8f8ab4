"""Assignment in the inbox: the Assign control, who holds a conversation, the assignee filter."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from tests.conftest import logged_in, make_conversation, make_member
from twoway.accounts.models import Membership, Organization, Role, Team
from twoway.conversations.models import Conversation, Folder, Kind, Message
from twoway.conversations.services import conversation_assign
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(org: Organization, number: PhoneNumber) -> Conversation:
    return make_conversation(org, number, "+14155550123", name="Pat Client")


def _assign(client: Client, conversation: Conversation, value: str, **extra: Any) -> Any:
    return client.post(f"/inbox/c/{conversation.pk}/assign/", {"assignee": value}, **extra)


def test_the_assign_control_lists_who_sees_the_number(
    org: Organization,
    admin_client: Client,
    conversation: Conversation,
    sam: Membership,
    front_desk: Team,
) -> None:
    gone = make_member(org, "gone@acme.test", Role.STANDARD)
    gone.user.is_active = False
    gone.user.save()
    page = admin_client.get(f"/inbox/c/{conversation.pk}/").content.decode()
    control = page[page.index('name="assignee"', page.index("conversation-actions")) :]
    control = control[: control.index("</select>")]
    assert f'value="team:{front_desk.pk}"' in control and "Team Front desk" in control
    assert f'value="user:{sam.user_id}"' in control and "Sam Rivera" in control
    assert "gone@acme.test" not in control
    assert "data-assignee>Unassigned<" in page

    # A number restricted to admins: only they are offered; the team is not.
    conversation.phone_number.access_everyone = False
    conversation.phone_number.save()
    page = admin_client.get(f"/inbox/c/{conversation.pk}/").content.decode()
    control = page[page.index('name="assignee"', page.index("conversation-actions")) :]
    control = control[: control.index("</select>")]
    assert "Sam Rivera" not in control and "Front desk" not in control
    assert "admin@acme.test" in control


def test_assign_shows_the_assignee_in_the_header_the_list_and_the_thread(
    admin_client: Client, conversation: Conversation, sam: Membership
) -> None:
    response = _assign(admin_client, conversation, f"user:{sam.user_id}")
    assert response.status_code == 302
    assert response["Location"] == f"/inbox/c/{conversation.pk}/?folder=needs_attention"
    conversation.refresh_from_db()
    assert conversation.assignee_id == sam.user_id
    page = admin_client.get(response["Location"]).content.decode()
    assert "data-assignee>Assigned to Sam Rivera<" in page
    assert 'class="assignee-tag" data-assignee>Sam Rivera<' in page
    assert "admin@acme.test assigned this conversation to Sam Rivera." in page
    assert f'<option value="user:{sam.user_id}" selected>' in page


def test_assign_to_a_team_with_htmx_swaps_the_panel(
    admin_client: Client, conversation: Conversation, front_desk: Team
) -> None:
    response = _assign(admin_client, conversation, f"team:{front_desk.pk}", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith("<section") or 'id="conversation-panel"' in html
    assert "data-assignee>Assigned to team Front desk<" in html
    conversation.refresh_from_db()
    assert conversation.assignee_team_id == front_desk.pk
    # And back to nobody.
    response = _assign(admin_client, conversation, "", HTTP_HX_REQUEST="true")
    assert "data-assignee>Unassigned<" in response.content.decode()
    conversation.refresh_from_db()
    assert (conversation.assignee_id, conversation.assignee_team_id) == (None, None)


@pytest.mark.parametrize(
    "value",
    [
        "user:987654",
        "team:987654",
        "me",
        "nonsense",
        "user:",
        "user:" + "9" * 18,
        "team:" + "9" * 30,
    ],
)
def test_a_refused_assignee_is_explained_and_changes_nothing(
    admin_client: Client, conversation: Conversation, value: str
) -> None:
    response = _assign(admin_client, conversation, value, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert 'role="alert"' in response.content.decode()
    conversation.refresh_from_db()
    assert (conversation.assignee_id, conversation.assignee_team_id) == (None, None)
    assert not Message.objects.filter(conversation=conversation, kind=Kind.NOTE).exists()


def test_limited_users_see_no_assign_control_and_are_refused(
    limited: Membership, conversation: Conversation, sam: Membership
) -> None:
    client = logged_in(limited)
    page = client.get(f"/inbox/c/{conversation.pk}/").content.decode()
    assert "/assign/" not in page
    assert _assign(client, conversation, f"user:{sam.user_id}").status_code == 403
    conversation.refresh_from_db()
    assert conversation.assignee_id is None


def test_an_assignee_who_lost_access_stays_shown_and_pressing_assign_keeps_them(
    admin_client: Client, conversation: Conversation, sam: Membership, front_desk: Team
) -> None:
    for value, holder in ((f"user:{sam.user_id}", "Sam Rivera"), (f"team:{front_desk.pk}", None)):
        assert _assign(admin_client, conversation, value).status_code in (200, 302)
        number = conversation.phone_number
        number.access_everyone = False  # Sam and the team can no longer see it
        number.save()
        page = admin_client.get(f"/inbox/c/{conversation.pk}/").content.decode()
        label = holder or "Team Front desk"
        assert f'<option value="{value}" selected>{label} (cannot see this number now)' in page
        notes = Message.objects.filter(conversation=conversation, kind=Kind.NOTE).count()
        # The menu as shown, submitted: nothing moves, nothing is written.
        assert _assign(admin_client, conversation, value).status_code in (200, 302)
        conversation.refresh_from_db()
        kept = conversation.assignee_id if holder else conversation.assignee_team_id
        assert kept == int(value.split(":")[1])
        assert Message.objects.filter(conversation=conversation, kind=Kind.NOTE).count() == notes
        number.access_everyone = True
        number.save()


def test_assign_needs_post(admin_client: Client, conversation: Conversation) -> None:
    assert admin_client.get(f"/inbox/c/{conversation.pk}/assign/").status_code == 405


@pytest.fixture
def inbox(
    org: Organization,
    number: PhoneNumber,
    admin: Membership,
    sam: Membership,
    front_desk: Team,
) -> dict[str, Conversation]:
    """Conversations assigned in each way, in both active folders."""
    rows = {
        "Mine Waiting": ("+14155550201", Folder.NEEDS_ATTENTION, {"user_id": sam.user_id}),
        "Team Waiting": ("+14155550202", Folder.NEEDS_ATTENTION, {"team_id": front_desk.pk}),
        "Boss Waiting": ("+14155550203", Folder.NEEDS_ATTENTION, {"user_id": admin.user_id}),
        "Nobody Waiting": ("+14155550204", Folder.NEEDS_ATTENTION, {}),
        "Mine Replied": ("+14155550205", Folder.PARTICIPATING, {"user_id": sam.user_id}),
    }
    made = {}
    for name, (handset, folder, kwargs) in rows.items():
        made[name] = make_conversation(org, number, handset, name=name, folder=folder)
        conversation_assign(conversation=made[name], actor=admin, **kwargs)
    return made


def _listed(html: str) -> set[str]:
    return set(re.findall(r'<span class="who">([^<]+)</span>', html))


@pytest.mark.parametrize(
    ("assignee", "expected"),
    [
        ("", {"Mine Waiting", "Team Waiting", "Boss Waiting", "Nobody Waiting"}),
        ("me", {"Mine Waiting", "Team Waiting"}),
        ("none", {"Nobody Waiting"}),
        ("team", {"Team Waiting"}),
        ("boss", {"Boss Waiting"}),
    ],
)
def test_the_inbox_filter(
    inbox: dict[str, Conversation],
    sam: Membership,
    admin: Membership,
    front_desk: Team,
    assignee: str,
    expected: set[str],
) -> None:
    value = {"team": f"team:{front_desk.pk}", "boss": f"user:{admin.user_id}"}.get(
        assignee, assignee
    )
    client = logged_in(sam)
    html = client.get("/inbox/", {"assignee": value}).content.decode()
    assert _listed(html) == expected
    assert f'data-count="needs_attention">{len(expected)}<' in html
    # The partial the live inbox refreshes filters the same way.
    partial = client.get("/inbox/list/", {"assignee": value, "folder": "needs_attention"})
    assert _listed(partial.content.decode()) == expected
    if value:
        assert f'<option value="{value}" selected>' in html


def test_the_filter_is_kept_across_folder_tabs_and_into_a_thread(
    inbox: dict[str, Conversation], sam: Membership
) -> None:
    client = logged_in(sam)
    html = client.get("/inbox/", {"assignee": "me"}).content.decode()
    assert 'href="/inbox/?folder=participating&amp;assignee=me"' in html
    assert 'hx-get="/inbox/list/?folder=needs_attention&amp;assignee=me"' in html
    thread_link = (
        f'href="/inbox/c/{inbox["Mine Waiting"].pk}/?folder=needs_attention&amp;assignee=me"'
    )
    assert thread_link in html
    participating = client.get("/inbox/", {"folder": "participating", "assignee": "me"})
    assert _listed(participating.content.decode()) == {"Mine Replied"}
    # An open thread keeps the list filtered.
    page = client.get(
        f"/inbox/c/{inbox['Mine Waiting'].pk}/", {"folder": "needs_attention", "assignee": "me"}
    ).content.decode()
    listed = page[: page.index('id="conversation-panel"')]
    assert _listed(listed) == {"Mine Waiting", "Team Waiting"}


def test_an_unknown_filter_shows_everything(
    inbox: dict[str, Conversation], admin_client: Client
) -> None:
    html = admin_client.get("/inbox/", {"assignee": "user:x' OR 1=1"}).content.decode()
    assert len(_listed(html)) == 4
    assert "assignee=user" not in html


def test_the_inbox_does_not_query_per_row(
    inbox: dict[str, Conversation],
    sam: Membership,
    org: Organization,
    number: PhoneNumber,
    django_assert_max_num_queries: Any,
) -> None:
    client = logged_in(sam)
    client.get("/inbox/")  # session and caches warm

    def queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get("/inbox/", {"assignee": "me"}).status_code == 200
        return len(captured)

    before = queries()
    team = Team.objects.get(name="Front desk")
    for i in range(10):
        row = make_conversation(org, number, f"+1415555030{i}", name=f"More {i}")
        Conversation.objects.filter(pk=row.pk).update(assignee_team=team)
    assert queries() == before

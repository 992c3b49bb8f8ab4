"""The open conversation's header redrawn alone, when another agent or a new text changes it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import logged_in, make_conversation, make_member
from twoway.accounts.models import Membership, Organization, Role
from twoway.conversations.models import Conversation
from twoway.conversations.services import conversation_archive, conversation_assign
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def conversation(org: Organization, number: PhoneNumber) -> Conversation:
    return make_conversation(org, number, "+14155550123", name="Pat Client")


def _header(client: Client, conversation: Conversation) -> Any:
    return client.get(reverse("conversation_header", args=[conversation.pk]), **HX)


def test_the_panel_header_listens_for_changes_to_its_conversation(
    admin_client: Client, conversation: Conversation
) -> None:
    html = admin_client.get(
        reverse("conversation_panel", args=[conversation.pk]), **HX
    ).content.decode()
    header = html[html.index("<header") : html.index("</header>")]
    assert f'hx-get="/inbox/c/{conversation.pk}/header/"' in header
    assert f'hx-trigger="sse:conversation-{conversation.pk}-updated"' in header
    assert 'hx-swap="outerHTML"' in header
    # The assign menu keeps an id, so htmx gives focus back to it after a redraw.
    assert f'<select id="assign-{conversation.pk}"' in header


def test_the_header_shows_another_agents_assignment_and_archive(
    admin: Membership, sam: Membership, conversation: Conversation
) -> None:
    viewer = logged_in(admin)
    before = _header(viewer, conversation).content.decode()
    assert "data-assignee>Unassigned<" in before and ">Archive</button>" in before

    conversation_assign(conversation=conversation, actor=admin, user_id=sam.user_id)
    conversation_archive(conversation=conversation)

    response = _header(viewer, conversation)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith('<header class="thread-header"')
    assert html.count("<header") == 1 and "</header>" in html
    assert "data-assignee>Assigned to Sam Rivera<" in html
    assert ">Unarchive</button>" in html and ">Archive</button>" not in html
    assert f'value="user:{sam.user_id}" selected' in html
    assert 'data-folder-state="archived"' in html
    # The header only: neither the thread nor the composer.
    assert 'id="thread"' not in html and 'id="composer-body"' not in html


def test_the_header_of_another_organizations_conversation_is_404(
    other_org: Organization, conversation: Conversation
) -> None:
    outsider = logged_in(make_member(other_org, "boss@other.test", Role.ADMINISTRATIVE))
    assert _header(outsider, conversation).status_code == 404


def test_the_header_of_a_conversation_the_member_cannot_see_is_404(
    org: Organization, conversation: Conversation
) -> None:
    member = logged_in(make_member(org, "kim@acme.test", Role.STANDARD))
    assert _header(member, conversation).status_code == 200
    conversation.phone_number.access_everyone = False
    conversation.phone_number.save()
    assert _header(member, conversation).status_code == 404

"""The Server-Sent Events stream an open inbox listens to."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import AsyncClient

from tests.conftest import make_member
from twoway.accounts.models import Membership, Role
from twoway.realtime.models import RealtimeEvent


def publish(
    *, organization_id: int, kind: str, conversation_id: int | None = None
) -> RealtimeEvent:
    """An event row of any kind, as the stream reads it (what produces them is tested apart)."""
    return RealtimeEvent.objects.create(
        organization_id=organization_id, kind=kind, conversation_id=conversation_id
    )


pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.anyio]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
async def _close_stream_connections() -> AsyncIterator[None]:
    """The stream reads through sync_to_async's own thread; its connection must not outlive
    the test, or PostgreSQL refuses to drop the test database."""
    yield
    await sync_to_async(connections.close_all)()


async def _read(response, until: str, timeout: float = 5.0) -> str:
    """Read the stream until `until` shows up (bounded in time)."""
    seen = ""

    async def consume() -> None:
        nonlocal seen
        async for chunk in response.streaming_content:
            seen += chunk.decode() if isinstance(chunk, bytes) else chunk
            if until in seen:
                return

    await asyncio.wait_for(consume(), timeout)
    return seen


async def test_stream_sends_events_after_the_given_id(admin: Membership, other_org) -> None:
    before = await sync_to_async(publish)(
        organization_id=admin.organization_id, kind="conversation.updated", conversation_id=7
    )
    client = AsyncClient()
    await sync_to_async(client.force_login)(admin.user)
    response = await client.get(f"/events/?after={before.pk}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    await sync_to_async(publish)(
        organization_id=other_org.pk, kind="message.created", conversation_id=99
    )
    mine = await sync_to_async(publish)(
        organization_id=admin.organization_id, kind="message.created", conversation_id=8
    )
    text = await _read(response, "event: conversation-8")
    assert f"id: {mine.pk}\nevent: inbox\n" in text
    assert "conversation-7" not in text  # before the id the client already had
    assert "conversation-99" not in text  # another organization's


async def test_stream_resumes_from_last_event_id(admin: Membership) -> None:
    first = await sync_to_async(publish)(
        organization_id=admin.organization_id, kind="message.status", conversation_id=1
    )
    await sync_to_async(publish)(
        organization_id=admin.organization_id, kind="message.status", conversation_id=2
    )
    client = AsyncClient()
    await sync_to_async(client.force_login)(admin.user)
    response = await client.get("/events/", headers={"Last-Event-ID": str(first.pk)})
    text = await _read(response, "event: conversation-2")
    assert "conversation-1\n" not in text


async def test_stream_needs_a_member(org, django_user_model) -> None:
    client = AsyncClient()
    response = await client.get("/events/")
    assert response.status_code == 403
    member = await sync_to_async(make_member)(org, "x@acme.test", Role.LIMITED)
    await sync_to_async(client.force_login)(member.user)
    response = await client.get("/events/?after=abc")
    assert response.status_code == 400


def _two_numbers_one_open(org) -> tuple[Membership, int, int]:
    """A Standard member who may use one of two numbers; a conversation on each number."""
    from twoway.contacts.models import Contact
    from twoway.conversations.models import Conversation
    from twoway.numbers.models import PhoneNumber

    agent = make_member(org, "agent@acme.test", Role.STANDARD)
    open_number = PhoneNumber.objects.create(organization=org, number="+14155550100")
    closed_number = PhoneNumber.objects.create(
        organization=org, number="+14155550101", access_everyone=False
    )
    contact = Contact.objects.create(organization=org, name="Client")
    ids = [
        Conversation.objects.create(
            organization=org, contact=contact, phone_number=number, contact_number="+14155550142"
        ).pk
        for number in (open_number, closed_number)
    ]
    return agent, ids[0], ids[1]


async def test_stream_hides_conversations_on_numbers_the_member_cannot_use(org) -> None:
    agent, visible, hidden = await sync_to_async(_two_numbers_one_open)(org)
    client = AsyncClient()
    await sync_to_async(client.force_login)(agent.user)
    response = await client.get("/events/?after=0")
    for conversation_id in (hidden, visible):
        await sync_to_async(publish)(
            organization_id=org.pk, kind="message.created", conversation_id=conversation_id
        )
    await sync_to_async(publish)(organization_id=org.pk, kind="numbers.changed")
    text = await _read(response, '"kind": "numbers.changed"')
    assert f"event: conversation-{visible}\n" in text
    assert f'"conversation": {hidden}' not in text
    assert f"conversation-{hidden}" not in text


async def test_stream_ends_when_the_member_is_deactivated(admin: Membership) -> None:
    client = AsyncClient()
    await sync_to_async(client.force_login)(admin.user)
    response = await client.get("/events/?after=0")
    await sync_to_async(type(admin.user).objects.filter(pk=admin.user_id).update)(is_active=False)
    await sync_to_async(publish)(
        organization_id=admin.organization_id, kind="message.created", conversation_id=5
    )

    async def until_closed() -> str:
        chunks = [chunk async for chunk in response.streaming_content]
        return "".join(c.decode() if isinstance(c, bytes) else c for c in chunks)

    text = await asyncio.wait_for(until_closed(), 5.0)  # the stream ends by itself
    assert "conversation-5" not in text


async def test_only_conversation_updates_tell_the_open_header(admin: Membership) -> None:
    """The header (assignee, folder, mute) hears `conversation-<id>-updated`, sent for
    conversation.updated alone: a delivery status or a new message redraws the thread only."""
    before = await sync_to_async(publish)(organization_id=admin.organization_id, kind="inbox.hello")
    client = AsyncClient()
    await sync_to_async(client.force_login)(admin.user)
    response = await client.get(f"/events/?after={before.pk}")
    for kind, conversation_id in (
        ("message.status", 3),
        ("message.created", 4),
        ("conversation.updated", 5),
    ):
        await sync_to_async(publish)(
            organization_id=admin.organization_id, kind=kind, conversation_id=conversation_id
        )
    text = await _read(response, "event: conversation-5-updated\n")
    assert "event: conversation-3\n" in text and "event: conversation-4\n" in text
    assert "event: conversation-5\n" in text
    assert "conversation-3-updated" not in text and "conversation-4-updated" not in text
    assert text.count("-updated\n") == 1

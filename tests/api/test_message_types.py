"""The API sends every message type by its sender rules."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from twoway.accounts.models import ApiKey, Membership, Organization
from twoway.conversations.models import Conversation, Message
from twoway.numbers.activation import two_way_activate
from twoway.numbers.models import PhoneNumber
from twoway.numbers.services import system_number_ensure_simulated

pytestmark = pytest.mark.django_db


@pytest.fixture
def system() -> PhoneNumber:
    return system_number_ensure_simulated()


@pytest.fixture
def dedicated(org: Organization, admin: Membership, system: PhoneNumber) -> PhoneNumber:
    Organization.objects.filter(pk=org.pk).update(two_way_enabled=False)
    admin.organization.refresh_from_db()
    return two_way_activate(actor=admin)


@pytest.fixture
def api(admin: Membership) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {ApiKey.issue(owner=admin, name='Booking')[1]}")


def post(api: Client, **payload: object) -> tuple[int, dict[str, Any]]:
    response = api.post("/api/v1/messages", payload, content_type="application/json")
    return response.status_code, response.json()


def test_a_transactional_text_needs_no_from_and_leaves_from_the_system_number(
    api: Client, dedicated: PhoneNumber, system: PhoneNumber
) -> None:
    status, answer = post(api, to="202-555-0172", body="Booked for 3pm", category="transactional")
    assert status == 201
    assert answer["from"] == system.number
    conversation = Conversation.objects.get(pk=answer["conversation_id"])
    assert conversation.phone_number == dedicated


def test_a_marketing_text_opens_no_conversation(api: Client, dedicated: PhoneNumber) -> None:
    status, answer = post(api, to="202-555-0172", body="Spring sale", category="marketing")
    assert status == 201
    assert answer["conversation_id"] is None
    assert not Conversation.objects.exists()


def test_a_direct_text_needs_a_from(api: Client, dedicated: PhoneNumber) -> None:
    status, answer = post(api, to="202-555-0172", body="Hi")
    assert status == 400
    assert answer["error"]["code"] == "sender_required"
    assert not Message.objects.exists()


def test_a_direct_text_while_two_way_is_off_is_refused_clearly(
    api: Client, org: Organization, number: PhoneNumber
) -> None:
    Organization.objects.filter(pk=org.pk).update(two_way_enabled=False)
    status, answer = post(api, to="202-555-0172", body="Hi", **{"from": number.number})
    assert status == 400
    assert answer["error"]["code"] == "two_way_off"
    assert "Two-way texting is off" in answer["error"]["message"]
    assert not Message.objects.exists()

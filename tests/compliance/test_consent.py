"""The consent message: sent once, ahead of the first text to a contact."""

from __future__ import annotations

import pytest

from tests.conftest import logged_in
from twoway.accounts.models import Membership, Organization
from twoway.compliance.models import ConsentEvent, ConsentEventKind
from twoway.contacts.models import ConsentStatus
from twoway.conversations.models import Category, Folder, Message
from twoway.messaging import claiming
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db
TO = "+12025550172"


@pytest.fixture
def requiring(org: Organization) -> Organization:
    org.consent_required = True
    org.consent_message = "{org} texts about appointments. Reply STOP to opt out."
    org.save()
    return org


def send(number: PhoneNumber, body: str, **kwargs) -> Message:
    return message_send(phone_number=number, to=TO, body=body, **kwargs)


def test_first_text_is_preceded_by_the_consent_message_once(
    requiring: Organization, number: PhoneNumber, admin: Membership
) -> None:
    first = send(number, "Your cleaning is on Tuesday.", membership=admin)
    send(number, "See you then!", membership=admin)
    bodies = list(Message.objects.order_by("id").values_list("category", "body"))
    assert bodies == [
        (Category.CONSENT, "Acme Dental texts about appointments. Reply STOP to opt out."),
        (Category.DIRECT, "Your cleaning is on Tuesday."),
        (Category.DIRECT, "See you then!"),
    ]
    contact = first.conversation.contact
    contact.refresh_from_db()
    assert contact.consent_status == ConsentStatus.SENT
    entry = ConsentEvent.objects.get(contact=contact)
    assert (entry.kind, entry.source) == (ConsentEventKind.CONSENT_SENT, "message")
    # The consent message leaves first, and does not count as the agent's answer.
    claimed = [c.request.body for c in claiming.claim_due(limit=10)]
    assert claimed[0].startswith("Acme Dental texts about appointments")
    assert first.conversation.folder == Folder.PARTICIPATING


def test_no_consent_message_when_not_required_or_for_auto_replies(
    org: Organization, number: PhoneNumber
) -> None:
    send(number, "Hello")
    assert not Message.objects.filter(category=Category.CONSENT).exists()
    org.consent_required = True
    org.save()
    message_send(phone_number=number, to="+12025550173", body="Reply", category=Category.AUTO_REPLY)
    assert not Message.objects.filter(category=Category.CONSENT).exists()


def test_refused_text_sends_no_consent_message_either(
    requiring: Organization, number: PhoneNumber
) -> None:
    from twoway.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        send(number, "x" * 1000)
    assert not Message.objects.exists() and not ConsentEvent.objects.exists()


def test_the_thread_shows_the_consent_status(
    requiring: Organization, number: PhoneNumber, admin: Membership
) -> None:
    conversation = send(number, "Hi", membership=admin).conversation
    page = logged_in(admin).get(f"/inbox/c/{conversation.pk}/").content.decode()
    assert 'data-consent="sent"' in page and "Consent message sent" in page

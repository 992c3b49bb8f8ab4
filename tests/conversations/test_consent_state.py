"""The consent badge says what became of the consent message, never "sent" for one that was not
delivered."""

from __future__ import annotations

import pytest

from tests.conftest import logged_in
from twoway.accounts.models import Membership, Organization
from twoway.conversations.models import Category, Message, Status
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("status", "error", "badge"),
    [
        (
            Status.UNDELIVERED,
            "The handset is switched off.",
            "Consent message undelivered: The handset is switched off.",
        ),
        (Status.FAILED, "Not a mobile number.", "Consent message failed: Not a mobile number."),
        (Status.DELIVERED, "", "Consent message delivered"),
        (Status.QUEUED, "", "Consent message sent"),
    ],
)
def test_the_badge_follows_the_consent_message(
    org: Organization,
    admin: Membership,
    number: PhoneNumber,
    status: str,
    error: str,
    badge: str,
) -> None:
    Organization.objects.filter(pk=org.pk).update(consent_required=True)
    admin.organization.refresh_from_db()
    sent = message_send(phone_number=number, to="+12025550172", body="Hello", membership=admin)
    Message.objects.filter(category=Category.CONSENT).update(status=status, error_message=error)
    client = logged_in(admin)
    header = client.get(f"/inbox/c/{sent.conversation_id}/").content.decode()
    card = client.get(f"/contacts/{sent.conversation.contact_id}/").content.decode()
    for page in (header, card):
        assert badge in page

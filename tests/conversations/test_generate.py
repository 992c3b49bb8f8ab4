"""The generated inbox (`twoway generate-inbox`): rows as Twoway itself would have left them."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import logged_in
from twoway.accounts.models import Membership, Role
from twoway.contacts.models import Contact, ContactPhone
from twoway.conversations.access import conversations_visible_to
from twoway.conversations.models import Conversation, Direction, Folder, Kind, Message
from twoway.conversations.selectors import FOLDER_COUNT_CAP, folder_counts
from twoway.sample_inbox.generate import PLANTED_WORDS, InboxGenerated, inbox_generate

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def generated() -> InboxGenerated:
    return inbox_generate(conversations=120, messages=900, password="generated-pw-1", numbers=3)


def test_sizes_and_people(generated: InboxGenerated) -> None:
    org = generated.organization_id
    assert Conversation.objects.filter(organization_id=org).count() == 120
    assert Message.objects.filter(organization_id=org).count() == generated.messages == 900
    assert Contact.objects.filter(organization_id=org).count() == generated.contacts
    assert ContactPhone.objects.filter(organization_id=org).count() >= generated.contacts
    roles = dict(Membership.objects.filter(organization_id=org).values_list("user__email", "role"))
    assert roles == {
        generated.admin_email: Role.ADMINISTRATIVE,
        generated.standard_email: Role.STANDARD,
    }
    assert Client().login(username=generated.admin_email, password="generated-pw-1")
    assert len(generated.standard_numbers) < len(generated.numbers)
    # Ids continue after the generated rows (PostgreSQL's sequences were moved on).
    conversation = Conversation.objects.filter(organization_id=org).first()
    assert conversation is not None
    copy = Conversation.objects.create(
        organization_id=org,
        contact=conversation.contact,
        phone_number=conversation.phone_number,
        contact_number="+19995550000",
    )
    assert copy.pk > max(c.pk for c in Conversation.objects.exclude(pk=copy.pk))


def test_conversations_agree_with_their_messages(generated: InboxGenerated) -> None:
    conversations = Conversation.objects.filter(organization_id=generated.organization_id)
    assert {c.folder for c in conversations} == set(Folder.values)
    for conversation in conversations:
        texts = list(conversation.messages.filter(kind=Kind.MESSAGE).order_by("created_at", "id"))
        last = texts[-1]
        assert conversation.last_message_at == last.created_at
        assert conversation.last_message_preview == last.body[:160]
        trailing = 0
        for message in reversed(texts):
            if message.direction != Direction.INBOUND:
                break
            trailing += 1
        assert conversation.unread_count == trailing
        if conversation.folder == Folder.NEEDS_ATTENTION:
            assert last.direction == Direction.INBOUND
        if conversation.folder == Folder.PARTICIPATING:
            assert last.direction == Direction.OUTBOUND
        numbers = {conversation.contact_number, conversation.phone_number.number}
        assert all({m.from_number, m.to_number} == numbers for m in texts)
        assert conversation.contact.phones.filter(number=conversation.contact_number).exists()
    contacts = Contact.objects.filter(organization_id=generated.organization_id)
    for contact in contacts.prefetch_related("conversations"):
        times = [c.last_message_at for c in contact.conversations.all() if c.last_message_at]
        assert contact.last_activity_at == max(times, default=None)


def test_planted_words_and_access(generated: InboxGenerated) -> None:
    for word in PLANTED_WORDS:
        found = set(
            Message.objects.filter(body__contains=f" {word} ").values_list(
                "conversation_id", flat=True
            )
        )
        assert found == set(generated.planted[word])
    standard = Membership.objects.get(user__email=generated.standard_email)
    seen = set(conversations_visible_to(standard).values_list("phone_number__number", flat=True))
    assert seen == set(generated.standard_numbers)


def test_folder_counts_stop_at_the_cap(
    generated: InboxGenerated, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = Membership.objects.get(user__email=generated.admin_email)
    exact = folder_counts(admin)
    assert sum(exact.values()) == 120
    monkeypatch.setattr("twoway.conversations.selectors.FOLDER_COUNT_CAP", 9)
    monkeypatch.setattr("twoway.web.inbox.FOLDER_COUNT_CAP", 9)
    assert folder_counts(admin) == {folder: min(n, 10) for folder, n in exact.items()}
    page = logged_in(admin).get("/inbox/?folder=archived").content.decode()
    assert 'data-count="archived">9+<' in page
    assert FOLDER_COUNT_CAP >= 99

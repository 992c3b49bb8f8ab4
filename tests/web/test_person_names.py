"""People are named by the name they set, wherever the thread names them."""

from __future__ import annotations

import pytest

from tests.conftest import logged_in
from twoway.accounts.models import Membership
from twoway.conversations.services import note_add
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db


def test_the_thread_names_the_sender_and_the_note_author_by_their_name(
    sam: Membership, number: PhoneNumber
) -> None:
    sent = message_send(phone_number=number, to="2025550172", body="Hello", membership=sam)
    assert sent.conversation is not None
    note_add(conversation=sent.conversation, body="Called back", author_id=sam.user_id)

    page = logged_in(sam).get(f"/inbox/c/{sent.conversation.pk}/").content.decode()
    assert "· Sam Rivera" in page and "note by Sam Rivera" in page
    assert "sam@acme.test" not in page.split('id="thread"')[1].split("</ol>")[0]

"""The contacts table's page, its Text and Chat, and New conversation's suggestions."""

from __future__ import annotations

import re

import pytest

from tests.conftest import logged_in, make_conversation, make_member
from twoway.accounts.models import Membership, Organization, Role
from twoway.contacts.models import Contact, ContactGroup, ContactPhone, OptInStatus
from twoway.conversations.models import Conversation, Message
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db


def _contact(org: Organization, name: str, *numbers: str, **fields: object) -> Contact:
    contact = Contact.objects.create(organization=org, name=name, **fields)
    for n, number in enumerate(numbers):
        ContactPhone.objects.create(
            organization=org, contact=contact, number=number, label=["mobile", "work"][n % 2]
        )
    return contact


def _row(page: str, contact: Contact) -> str:
    match = re.search(rf'<tr data-contact="{contact.pk}">.*?</tr>', page, re.S)
    assert match, f"no row for {contact}"
    return match.group(0)


def test_the_table_keeps_its_search_and_filters_in_the_url(
    org: Organization, standard: Membership
) -> None:
    vip = ContactGroup.objects.create(organization=org, name="VIP")
    dana = _contact(org, "Dana Whitfield", "+14155550166", client_type="Member")
    dana.groups.add(vip)
    _contact(org, "Dan Other", "+14155550111", client_type="Guest")
    client = logged_in(standard)
    page = client.get("/contacts/", {"q": "dan", "group": vip.pk}).content.decode()
    assert "Dana Whitfield" in page and "Dan Other" not in page
    # The form shows what the address says, so a reload or a shared link shows the same.
    assert 'value="dan"' in page and f'<option value="{vip.pk}" selected>' in page
    assert '<option value="Member">' in page and '<option value="Guest">' in page
    rows = client.get("/contacts/", {"client_type": "Guest"}, HTTP_HX_REQUEST="true")
    body = rows.content.decode()
    assert "Dan Other" in body and "Dana" not in body and "<h1>" not in body


def test_show_more_carries_the_filters_and_the_cursor(
    org: Organization, standard: Membership
) -> None:
    for n in range(55):
        _contact(org, f"Member {n:02}", client_type="Member")
    _contact(org, "Guest", client_type="Guest")
    client = logged_in(standard)
    first = client.get("/contacts/", {"client_type": "Member"}).content.decode()
    assert first.count("<tr data-contact=") == 50
    link = re.search(r'hx-get="(/contacts/\?[^"]+)"', first)
    assert link and "client_type=Member" in link.group(1) and "after=" in link.group(1)
    more = client.get(link.group(1).replace("&amp;", "&"), HTTP_HX_REQUEST="true").content.decode()
    assert more.count("<tr data-contact=") == 5
    assert "Member 54" in more and "Member 49" not in more and "Guest" not in more
    assert "Show more contacts" not in more
    assert client.get("/contacts/", {"after": "garbage"}).status_code == 400


def test_text_opens_the_conversation_or_new_conversation(
    org: Organization, standard: Membership, number: PhoneNumber
) -> None:
    talked = make_conversation(org, number, "+14155550166", name="Dana Whitfield")
    ContactPhone.objects.create(organization=org, contact=talked.contact, number="+14155550166")
    fresh = _contact(org, "Lee New", "+13125550199")
    silent = _contact(org, "Sam No-Phone")
    page = logged_in(standard).get("/contacts/").content.decode()
    assert f'href="/inbox/c/{talked.pk}/"' in _row(page, talked.contact)
    assert 'href="/inbox/new/?to=%2B13125550199"' in _row(page, fresh)
    assert "Chat" in _row(page, fresh)
    row = _row(page, silent)
    assert "No phone number, so it cannot be texted." in row
    assert "Chat" not in row and ">Text<" not in row


def test_chat_shows_the_live_thread_and_sends_like_the_inbox(
    org: Organization, standard: Membership, number: PhoneNumber
) -> None:
    conversation = make_conversation(org, number, "+14155550166", name="Dana Whitfield")
    ContactPhone.objects.create(
        organization=org, contact=conversation.contact, number="+14155550166"
    )
    client = logged_in(standard)
    window = client.get(f"/contacts/{conversation.contact_id}/chat/").content.decode()
    assert "Chat with Dana Whitfield" in window
    assert f'hx-trigger="sse:conversation-{conversation.pk}"' in window and "sse-connect=" in window
    assert f'hx-post="/inbox/c/{conversation.pk}/send/"' in window
    sent = client.post(f"/inbox/c/{conversation.pk}/send/", {"body": "See you Friday"})
    assert sent.status_code == 200 and "See you Friday" in sent.content.decode()
    assert Message.objects.get(conversation=conversation).body == "See you Friday"


def test_chat_starts_a_conversation_on_the_first_send(
    org: Organization, standard: Membership, number: PhoneNumber
) -> None:
    contact = _contact(org, "Lee New", "+13125550199", "+13125550100")
    client = logged_in(standard)
    window = client.get(f"/contacts/{contact.pk}/chat/").content.decode()
    assert "No messages yet." in window and f'<option value="{number.pk}" selected>' in window
    answer = client.post(
        f"/contacts/{contact.pk}/chat/start/", {"from_id": number.pk, "body": "Welcome!"}
    )
    conversation = Conversation.objects.get(contact=contact)
    assert conversation.contact_number == "+13125550199"  # the primary number
    assert answer.status_code == 200
    body = answer.content.decode()
    assert "Welcome!" in body and f"sse:conversation-{conversation.pk}" in body
    # Opened again, the chat is that conversation.
    again = client.get(f"/contacts/{contact.pk}/chat/").content.decode()
    assert f"/inbox/c/{conversation.pk}/send/" in again


def test_chat_to_an_opted_out_contact_needs_confirmation(
    org: Organization, standard: Membership, number: PhoneNumber
) -> None:
    contact = _contact(org, "Lee Out", "+13125550199", opt_in_status=OptInStatus.OPTED_OUT)
    client = logged_in(standard)
    refused = client.post(
        f"/contacts/{contact.pk}/chat/start/", {"from_id": number.pk, "body": "Hi"}
    )
    assert refused.status_code == 422 and "opted out" in refused.content.decode()
    assert 'name="confirm_opted_out"' in refused.content.decode()
    assert not Conversation.objects.exists()
    confirmed = client.post(
        f"/contacts/{contact.pk}/chat/start/",
        {"from_id": number.pk, "body": "Hi", "confirm_opted_out": "on"},
    )
    assert confirmed.status_code == 200 and Conversation.objects.filter(contact=contact).exists()


def test_who_may_not_start_a_conversation_from_the_chat(
    org: Organization, limited: Membership, number: PhoneNumber
) -> None:
    contact = _contact(org, "Lee New", "+13125550199")
    # Limited users meet contacts only in their conversations.
    client = logged_in(limited)
    assert client.get(f"/contacts/{contact.pk}/chat/").status_code == 403
    assert (
        client.post(
            f"/contacts/{contact.pk}/chat/start/", {"from_id": number.pk, "body": "Hi"}
        ).status_code
        == 403
    )
    # A Standard user without the SMS permission is told why, and cannot send.
    quiet = make_member(org, "quiet@acme.test", Role.STANDARD)
    quiet.can_send_sms = False
    quiet.save()
    window = logged_in(quiet).get(f"/contacts/{contact.pk}/chat/").content.decode()
    assert "Send SMS to clients" in window and "chat-start" not in window
    answer = logged_in(quiet).post(
        f"/contacts/{contact.pk}/chat/start/", {"from_id": number.pk, "body": "Hi"}
    )
    assert answer.status_code == 403
    assert not Conversation.objects.exists()


def test_a_contact_without_a_phone_cannot_be_texted_from_the_chat(
    org: Organization, standard: Membership, number: PhoneNumber
) -> None:
    contact = _contact(org, "Sam No-Phone")
    client = logged_in(standard)
    window = client.get(f"/contacts/{contact.pk}/chat/").content.decode()
    assert "has no phone number, so they cannot be texted" in window and "<textarea" not in window
    answer = client.post(
        f"/contacts/{contact.pk}/chat/start/", {"from_id": number.pk, "body": "Hi"}
    )
    assert answer.status_code == 422 and not Message.objects.exists()


def test_another_organizations_contact_is_not_found(
    org: Organization, other_org: Organization, standard: Membership, number: PhoneNumber
) -> None:
    theirs = _contact(other_org, "Their Client", "+13125550199")
    client = logged_in(standard)
    assert client.get(f"/contacts/{theirs.pk}/chat/").status_code == 404
    assert (
        client.post(
            f"/contacts/{theirs.pk}/chat/start/", {"from_id": number.pk, "body": "Hi"}
        ).status_code
        == 404
    )
    assert "Their Client" not in client.get("/contacts/", {"q": "their"}).content.decode()
    assert (
        "Their Client"
        not in client.get("/inbox/new/suggestions/", {"to": "their"}).content.decode()
    )
    assert not Message.objects.exists()


def test_suggestions_list_each_number_of_a_client(org: Organization, standard: Membership) -> None:
    dana = _contact(org, "Dana Whitfield", "+14155550166", "+13125550199", email="dana@example.com")
    _contact(org, "Dana No-Phone", email="dana.np@example.com")
    client = logged_in(standard)
    body = client.get("/inbox/new/suggestions/", {"to": "example.com"}).content.decode()
    assert body.count('role="option"') == 3
    phones = list(dana.phones.order_by("pk"))
    assert f'id="to-option-{phones[0].pk}"' in body and 'data-number="+14155550166"' in body
    assert 'data-number="+13125550199"' in body and "work" in body
    assert 'aria-disabled="true"' in body and "No phone number" in body
    assert 'role="option"' not in client.get("/inbox/new/suggestions/", {"to": ""}).content.decode()
    limited = make_member(org, "lim@acme.test", Role.LIMITED)
    assert logged_in(limited).get("/inbox/new/suggestions/", {"to": "dana"}).status_code == 403


def test_new_conversation_offers_the_lookup(standard: Membership) -> None:
    page = logged_in(standard).get("/inbox/new/").content.decode()
    assert 'role="combobox"' in page and 'aria-controls="to-suggestions"' in page
    assert 'hx-get="/inbox/new/suggestions/"' in page

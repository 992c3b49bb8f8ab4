"""The inbox pages: access, sending from the UI, isolation between organizations."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import logged_in, make_member
from twoway.accounts.models import Membership, Role
from twoway.conversations.models import Conversation, Folder, Message, Status
from twoway.conversations.selectors import THREAD_PAGE
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db


def _start(membership: Membership, number: PhoneNumber, to: str = "+12025550172") -> Message:
    return message_send(phone_number=number, to=to, body="Hello", membership=membership)


def test_pages_need_login(client: Client) -> None:
    for url in ["/inbox/", "/inbox/new/", "/simulator/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_user_without_organization_is_told_so(client: Client, django_user_model) -> None:
    user = django_user_model.objects.create_user(username="lone@x.test", password="pw-123456789")
    client.force_login(user)
    response = client.get("/inbox/")
    assert response.status_code == 403
    assert "does not belong to an organization" in response.content.decode()


def test_new_conversation_lands_in_the_thread(admin_client: Client, number: PhoneNumber) -> None:
    response = admin_client.post(
        "/inbox/new/", {"from_id": number.pk, "to": "202-555-0172", "body": "Hi there"}
    )
    conversation = Conversation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/inbox/c/{conversation.pk}/"
    assert conversation.contact_number == "+12025550172"
    assert conversation.folder == Folder.PARTICIPATING
    message = conversation.messages.get()
    assert (message.body, message.status) == ("Hi there", Status.QUEUED)
    page = admin_client.get(response["Location"]).content.decode()
    assert "Hi there" in page and 'data-status="queued"' in page


@pytest.mark.parametrize(
    ("to", "body", "error"),
    [
        ("12345", "Hi", "not a valid phone number"),
        ("202-555-0172", "   ", "Type a message first."),
        ("202-555-0172", "x" * 551, "at most 550"),
    ],
)
def test_new_conversation_bad_input_shows_error_and_stores_nothing(
    admin_client: Client, number: PhoneNumber, to: str, body: str, error: str
) -> None:
    response = admin_client.post("/inbox/new/", {"from_id": number.pk, "to": to, "body": body})
    assert response.status_code == 422
    assert error in response.content.decode()
    assert not Conversation.objects.exists() and not Message.objects.exists()


def test_new_conversation_with_garbage_sender_is_an_error(
    admin_client: Client, number: PhoneNumber
) -> None:
    response = admin_client.post("/inbox/new/", {"from_id": "x", "to": "2025550172", "body": "a"})
    assert response.status_code == 422
    assert "Pick a number to send from." in response.content.decode()


def test_limited_user_cannot_start_but_can_reply(
    limited: Membership, admin: Membership, number: PhoneNumber
) -> None:
    client = logged_in(limited)
    assert client.get("/inbox/new/").status_code == 403
    response = client.post("/inbox/new/", {"from_id": number.pk, "to": "2025550172", "body": "a"})
    assert response.status_code == 403
    assert not Message.objects.exists()
    conversation = _start(admin, number).conversation
    response = client.post(f"/inbox/c/{conversation.pk}/send/", {"body": "A reply"})
    assert response.status_code == 200
    assert conversation.messages.filter(body="A reply").exists()


def test_send_in_thread_to_opted_out_contact_needs_confirmation(
    admin_client: Client, admin: Membership, number: PhoneNumber
) -> None:
    conversation = _start(admin, number).conversation
    conversation.contact.opt_in_status = "opted_out"
    conversation.contact.save()
    url = f"/inbox/c/{conversation.pk}/send/"
    response = admin_client.post(url, {"body": "Are you sure?"})
    assert response.status_code == 422
    assert "has opted out of texts" in response.content.decode()
    assert not conversation.messages.filter(body="Are you sure?").exists()
    response = admin_client.post(url, {"body": "Are you sure?", "confirm_opted_out": "on"})
    assert response.status_code == 200
    assert conversation.messages.filter(body="Are you sure?").exists()


def test_send_answers_with_the_emptied_composer_and_the_thread_from_since(
    admin_client: Client, admin: Membership, number: PhoneNumber
) -> None:
    """Send redraws the composer and the thread, not the header (it redraws itself live); the
    thread keeps what the reader had loaded, from `since` on, as its live redraw does."""
    conversation = _start(admin, number).conversation
    oldest = conversation.messages.get()
    for index in range(THREAD_PAGE):
        message_send(
            phone_number=number, to="+12025550172", body=f"Later {index}", membership=admin
        )
    url = f"/inbox/c/{conversation.pk}/send/"
    html = admin_client.post(url, {"body": "Newest"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-swap-oob="innerHTML"' in html and "Newest" in html
    assert f'data-uid="{oldest.uid}"' not in html  # a page of the newest only
    assert "<textarea" in html and "Newest</textarea>" not in html  # emptied
    assert 'id="thread-header"' not in html
    html = admin_client.post(
        url, {"body": "Newest again", "since": str(oldest.uid)}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert f'data-uid="{oldest.uid}"' in html and "Newest again" in html


def test_a_refused_send_keeps_the_text_in_the_composer(
    admin_client: Client, admin: Membership, number: PhoneNumber
) -> None:
    conversation = _start(admin, number).conversation
    response = admin_client.post(f"/inbox/c/{conversation.pk}/send/", {"body": "x" * 2000})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'role="alert"' in html and "x" * 2000 + "</textarea>" in html
    assert conversation.messages.count() == 1


def test_counter_counts_segments_like_the_pipeline(admin_client: Client) -> None:
    html = admin_client.post("/inbox/counter/", {"body": "A" * 161}).content.decode()
    assert 'data-segments="2"' in html and 'data-encoding="GSM-7"' in html
    html = admin_client.post("/inbox/counter/", {"body": "Hi 😀"}).content.decode()
    assert 'data-encoding="UCS-2"' in html and "😀" in html


def test_past_the_maximum_length_the_counter_says_only_that(admin_client: Client) -> None:
    html = admin_client.post("/inbox/counter/", {"body": "A" * 551}).content.decode()
    assert "551 characters: 1 more than the 550 your organization allows." in html
    assert "characters left" not in html and " segments<" not in html
    html = admin_client.post("/inbox/counter/", {"body": "A" * 550}).content.decode()
    assert "characters left" in html and "more than the" not in html


def test_the_counter_counts_the_text_as_it_will_be_sent(admin_client: Client) -> None:
    html = admin_client.post("/inbox/counter/", {"body": "Done :thumbs_up:"}).content.decode()
    assert 'data-encoding="UCS-2"' in html and "“👍”" in html


def test_the_counter_offers_plain_look_alikes_where_they_alone_make_the_text_unicode(
    admin_client: Client,
) -> None:
    curly = "It\u2019s ready \u2014 see you at 3\u2026 " * 4  # 108 characters: 2 UCS-2 segments
    html = admin_client.post("/inbox/counter/", {"body": curly}).content.decode()
    assert 'data-segments="2"' in html and 'data-encoding="UCS-2"' in html
    plain = "It&#x27;s ready - see you at 3... " * 4
    assert f'data-plain-text="{plain}"' in html and "1 segment fewer" in html
    # One segment either way: offered all the same, for the room it makes.
    html = admin_client.post("/inbox/counter/", {"body": "It\u2019s ready"}).content.decode()
    assert "data-plain-text=" in html and "160 characters a segment" in html
    # An emoji keeps it Unicode whatever the quotes: nothing to offer; nor for plain text.
    for body in ("It\u2019s ready \U0001f600", "It's ready", ":smile: it\u2019s ready"):
        html = admin_client.post("/inbox/counter/", {"body": body}).content.decode()
        assert "data-plain-text=" not in html, body


def test_note_is_shown_but_never_queued(
    admin_client: Client, admin: Membership, number: PhoneNumber
) -> None:
    conversation = _start(admin, number).conversation
    admin_client.post(f"/inbox/c/{conversation.pk}/note/", {"body": "Called, left voicemail"})
    note = conversation.messages.get(kind="note")
    assert note.status == "" and note.next_attempt_at is None
    assert (
        "Called, left voicemail"
        in admin_client.get(f"/inbox/c/{conversation.pk}/").content.decode()
    )


def test_save_as_note_from_the_composer_answers_like_send(
    admin_client: Client, admin: Membership, number: PhoneNumber
) -> None:
    conversation = _start(admin, number).conversation
    url = f"/inbox/c/{conversation.pk}/note/"
    response = admin_client.post(url, {"body": "Prefers mornings"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'hx-swap-oob="innerHTML"' in html and "Prefers mornings" in html
    assert "Prefers mornings</textarea>" not in html  # emptied
    note = conversation.messages.get(kind="note")
    assert (note.body, note.status, note.next_attempt_at) == ("Prefers mornings", "", None)
    response = admin_client.post(url, {"body": "   "}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and 'role="alert"' in response.content.decode()
    assert conversation.messages.filter(kind="note").count() == 1


def test_other_organization_sees_nothing(admin: Membership, number: PhoneNumber, other_org) -> None:
    conversation = _start(admin, number).conversation
    outsider = logged_in(make_member(other_org, "boss@other.test", Role.ADMINISTRATIVE))
    for url in [
        f"/inbox/c/{conversation.pk}/",
        f"/inbox/c/{conversation.pk}/thread/",
    ]:
        assert outsider.get(url).status_code == 404
    assert outsider.post(f"/inbox/c/{conversation.pk}/send/", {"body": "x"}).status_code == 404
    assert outsider.post(f"/inbox/c/{conversation.pk}/note/", {"body": "x"}).status_code == 404
    listing = outsider.get("/inbox/list/?folder=participating").content.decode()
    assert "No conversations here." in listing
    new_form = outsider.post("/inbox/new/", {"from_id": number.pk, "to": "2025550172", "body": "a"})
    # Another organization's number is as good as missing: 404, the form says why.
    assert new_form.status_code == 404 and Message.objects.count() == 1
    phone = outsider.get("/simulator/+12025550172/screen/").content.decode()
    assert "Hello" not in phone


def test_folder_tabs_list_conversations_where_they_belong(
    admin_client: Client, admin: Membership, number: PhoneNumber
) -> None:
    conversation = _start(admin, number).conversation
    participating = admin_client.get("/inbox/list/?folder=participating").content.decode()
    assert f'data-conversation="{conversation.pk}"' in participating
    needs = admin_client.get("/inbox/list/?folder=needs_attention").content.decode()
    assert f'data-conversation="{conversation.pk}"' not in needs

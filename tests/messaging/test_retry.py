"""Retry: a failed or undelivered text sent again as a new text through the send path, once;
the Failed list and the thread's Retry button."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import logged_in, make_member
from twoway.accounts.models import Membership, Organization, Role
from twoway.billing.models import SmsAccount
from twoway.contacts.models import OptInStatus
from twoway.conversations.models import Category, Message, Status
from twoway.conversations.selectors import failed_texts_visible_to
from twoway.core.errors import TwowayError
from twoway.messaging.retry import texts_retry
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db

CLIENT = "+12025550172"


def _failed(
    admin: Membership, number: PhoneNumber, body: str = "Your crown is ready", **kw: object
) -> Message:
    message = message_send(phone_number=number, to=CLIENT, body=body, membership=admin, **kw)
    Message.objects.filter(pk=message.pk).update(
        status=Status.FAILED, error_code="30006", error_message="The number cannot take texts."
    )
    message.refresh_from_db()
    return message


def test_a_failed_text_is_sent_again_once_as_a_new_text(
    admin: Membership, number: PhoneNumber
) -> None:
    failed = _failed(admin, number)
    assert list(failed_texts_visible_to(admin)) == [failed]
    [again] = texts_retry(admin, [failed.pk]).values()
    assert isinstance(again, Message)
    assert again.pk != failed.pk and again.retry_of_id == failed.pk
    assert (again.body, again.from_number, again.to_number) == (
        failed.body,
        failed.from_number,
        failed.to_number,
    )
    assert (again.status, again.conversation_id, again.sent_by_id) == (
        Status.QUEUED,
        failed.conversation_id,
        admin.user_id,
    )
    failed.refresh_from_db()
    assert failed.status == Status.FAILED  # the thread keeps it as it was
    assert list(failed_texts_visible_to(admin)) == []
    [twice] = texts_retry(admin, [failed.pk]).values()
    assert isinstance(twice, TwowayError) and twice.code == "not_retryable"
    assert Message.objects.filter(retry_of=failed).count() == 1


def test_a_retry_obeys_the_rules_of_now(
    admin: Membership, org: Organization, number: PhoneNumber
) -> None:
    failed = _failed(admin, number)
    contact = failed.conversation.contact
    contact.opt_in_status = OptInStatus.OPTED_OUT
    contact.save()
    [refused] = texts_retry(admin, [failed.pk]).values()
    assert isinstance(refused, TwowayError) and refused.code == "opted_out"
    assert list(failed_texts_visible_to(admin)) == [failed]  # still there to try later
    contact.opt_in_status = OptInStatus.OPTED_IN
    contact.save()
    SmsAccount.objects.update_or_create(organization=org, defaults={"balance": 0})
    [refused] = texts_retry(admin, [failed.pk]).values()
    assert isinstance(refused, TwowayError) and "balance" in refused.message


def test_what_cannot_be_retried(
    admin: Membership, other_org: Organization, number: PhoneNumber
) -> None:
    delivered = message_send(phone_number=number, to=CLIENT, body="Fine", membership=admin)
    reply = _failed(admin, number, body="You are unsubscribed", category=Category.AUTO_REPLY)
    failed = _failed(admin, number)
    outsider = make_member(other_org, "boss@other.test", Role.ADMINISTRATIVE)
    for who, message in [(admin, delivered), (admin, reply), (outsider, failed)]:
        [result] = texts_retry(who, [message.pk]).values()
        assert isinstance(result, TwowayError) and result.code == "not_retryable"
    assert not Message.objects.filter(retry_of__isnull=False).exists()


def test_retry_in_the_thread_and_from_the_failed_list(
    admin: Membership, number: PhoneNumber
) -> None:
    client: Client = logged_in(admin)
    failed = _failed(admin, number)
    thread_url = f"/inbox/c/{failed.conversation_id}/"
    html = client.get(thread_url).content.decode()
    assert "The number cannot take texts. (code 30006)" in html and "data-retry" in html
    assert "Failed texts" in html  # the inbox links to the list
    response = client.post(f"{thread_url}retry/{failed.uid}/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.content.decode().count("Your crown is ready") == 2
    assert "data-retry" not in client.get(thread_url).content.decode()  # once only
    response = client.post(f"{thread_url}retry/{failed.uid}/", HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and "cannot be sent again" in response.content.decode()

    first, second = _failed(admin, number, body="One"), _failed(admin, number, body="Two")
    page = client.get("/inbox/failed/").content.decode()
    assert f'value="{first.pk}"' in page and f'value="{second.pk}"' in page
    response = client.post("/inbox/failed/retry/", {"message": [first.pk, second.pk]})
    assert "2 texts sent again." in response.content.decode()
    assert Message.objects.filter(retry_of__in=[first, second]).count() == 2
    assert "No failed texts." in client.get("/inbox/failed/").content.decode()
    assert client.post("/inbox/failed/retry/", {}).status_code == 422


def test_a_member_without_the_sms_permission_cannot_retry(
    admin: Membership, org: Organization, number: PhoneNumber
) -> None:
    failed = _failed(admin, number)
    reader = make_member(org, "reader@acme.test", Role.STANDARD)
    reader.can_send_sms = False
    reader.save()
    client = logged_in(reader)
    url = f"/inbox/c/{failed.conversation_id}/retry/{failed.uid}/"
    assert client.post(url).status_code == 403
    assert "Send selected again" not in client.get("/inbox/failed/").content.decode()
    [refused] = texts_retry(reader, [failed.pk]).values()
    assert isinstance(refused, TwowayError) and refused.code == "no_sms_permission"
    assert not Message.objects.filter(retry_of__isnull=False).exists()

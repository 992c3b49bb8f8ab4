"""A number held in a carrier account sends with that account's credentials and asks for its
reports at that account's webhook URL; a number in no account keeps the operator's."""

from __future__ import annotations

import pytest
from bench.fakes.twilio_api import FakeTwilioServer

from tests.carrier_accounts.conftest import OPERATOR_SID, OPERATOR_TOKEN, SID, TOKEN
from tests.messaging import send_steps
from twoway.carrier_accounts.models import CarrierAccount
from twoway.carrier_accounts.selectors import carrier_account_uncache
from twoway.conversations.models import Message, Status
from twoway.messaging import claiming
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db

TO = "+14155550142"


def send(number: PhoneNumber) -> Message:
    message = message_send(phone_number=number, to=TO, body="Your table is ready")
    for claim in claiming.claim_due(limit=10):
        send_steps.send_claimed(claim)
    return Message.objects.get(pk=message.pk)


def test_a_number_of_an_account_sends_with_its_credentials_and_webhook(
    fake: FakeTwilioServer, twilio_number: PhoneNumber, account: CarrierAccount
) -> None:
    twilio_number.carrier_account = account
    twilio_number.save()

    message = send(twilio_number)

    assert message.status == Status.SENT
    [request] = fake.requests
    assert request.auth == (SID, TOKEN)
    assert f"/Accounts/{SID}/" in request.path
    callback = request.form["StatusCallback"][0]
    assert callback == f"https://texts.example.com/webhooks/twilio/{account.webhook_key}/"


def test_a_number_of_no_account_keeps_the_operators(
    fake: FakeTwilioServer, twilio_number: PhoneNumber, account: CarrierAccount
) -> None:
    message = send(twilio_number)

    assert message.status == Status.SENT
    [request] = fake.requests
    assert request.auth == (OPERATOR_SID, OPERATOR_TOKEN)
    assert request.form["StatusCallback"] == ["https://texts.example.com/webhooks/twilio/"]


def test_a_send_whose_account_is_gone_fails_saying_the_carrier_is_not_configured(
    fake: FakeTwilioServer, twilio_number: PhoneNumber, account: CarrierAccount
) -> None:
    twilio_number.carrier_account = account
    twilio_number.save()
    message = message_send(phone_number=twilio_number, to=TO, body="Hello")
    [claim] = claiming.claim_due(limit=10)
    # The account is removed between the claim and the send (the database keeps the number's
    # row pointing at it, so it is removed under it here).
    PhoneNumber.objects.filter(pk=twilio_number.pk).update(carrier_account=None)
    CarrierAccount.objects.filter(pk=account.pk).delete()
    carrier_account_uncache()

    send_steps.send_claimed(claim)

    message = Message.objects.get(pk=message.pk)
    assert (message.status, message.error_code) == (Status.FAILED, "config")
    assert not fake.requests

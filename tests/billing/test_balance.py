"""SMS balance: sent segments are paid from the balance, receiving is free."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import logged_in, subprocess_env
from tests.messaging import send_steps
from twoway.accounts.models import ApiKey, Membership
from twoway.billing.models import BalanceEntry, EntryReason
from twoway.billing.services import BalanceExhausted, balance_grant, balance_of, balance_refund
from twoway.carrier_events.processing import carrier_events_process_pending
from twoway.carrier_events.store import carrier_event_record
from twoway.carriers.base import CarrierError, InboundMessage
from twoway.conversations.models import Category, Message, Status
from twoway.core.errors import InvalidInput
from twoway.messaging import claiming
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db
TO = "+12025550172"


def send(number: PhoneNumber, body: str = "Hello", **kwargs) -> Message:
    return message_send(phone_number=number, to=TO, body=body, **kwargs)


def test_without_a_plan_sending_is_unlimited(org, number: PhoneNumber) -> None:
    assert balance_of(org.pk) is None
    send(number)
    assert not BalanceEntry.objects.exists()


def test_each_segment_is_deducted_and_written_in_the_ledger(org, number: PhoneNumber) -> None:
    balance_grant(organization=org, amount=5, note="Starter plan")
    message = send(number, "A" * 161)  # two segments
    assert balance_of(org.pk) == 3
    grant, charge = BalanceEntry.objects.order_by("id")
    assert (grant.delta, grant.balance_after, grant.reason, grant.note) == (
        5,
        5,
        EntryReason.GRANT,
        "Starter plan",
    )
    assert (charge.delta, charge.balance_after, charge.message) == (-2, 3, message)


def test_sending_stops_at_zero_with_a_clear_message_and_nothing_stored(
    org, number: PhoneNumber
) -> None:
    balance_grant(organization=org, amount=1)
    send(number)
    with pytest.raises(BalanceExhausted) as raised:
        send(number, "Second")
    assert "balance is used up" in raised.value.message and "0 are left" in raised.value.message
    assert Message.objects.count() == 1
    assert balance_of(org.pk) == 0
    assert BalanceEntry.objects.count() == 2


def test_a_message_bigger_than_the_balance_is_refused(org, number: PhoneNumber) -> None:
    balance_grant(organization=org, amount=1)
    with pytest.raises(BalanceExhausted):
        send(number, "A" * 161)
    assert not Message.objects.exists() and balance_of(org.pk) == 1


def test_receiving_is_free_and_stop_is_confirmed_even_at_zero(org, number: PhoneNumber) -> None:
    balance_grant(organization=org, amount=1)
    send(number)
    for sid, body in (("in-1", "Thanks!"), ("in-2", "STOP")):
        carrier_event_record(
            "simulator",
            InboundMessage(
                carrier_message_id=sid, from_number=TO, to_number=number.number, body=body
            ),
        )
    carrier_events_process_pending()
    assert balance_of(org.pk) == 0
    confirmation = Message.objects.get(category=Category.AUTO_REPLY)
    assert confirmation.status == Status.QUEUED
    assert not BalanceEntry.objects.filter(message=confirmation).exists()


def test_a_message_no_carrier_took_is_refunded_once(
    org, twilio_number: PhoneNumber, settings
) -> None:
    config = dict(settings.TWOWAY_CARRIER_CONFIG)
    config["twilio"] = {"account_sid": "", "auth_token": ""}  # unconfigured: fails at once
    settings.TWOWAY_CARRIER_CONFIG = config
    balance_grant(organization=org, amount=3)
    message = send(twilio_number)
    assert balance_of(org.pk) == 2
    for claim in claiming.claim_due(limit=5):
        send_steps.send_claimed(claim)
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert balance_of(org.pk) == 3
    balance_refund(message=message)  # a second refund changes nothing
    assert balance_of(org.pk) == 3
    assert BalanceEntry.objects.filter(message=message, reason=EntryReason.REFUND).count() == 1


def test_a_transient_failure_keeps_the_reservation(org, number: PhoneNumber) -> None:
    balance_grant(organization=org, amount=3)
    message = send(number)
    claim = claiming.claim_due(limit=1)[0]
    send_steps.record_failure(
        message.pk, CarrierError("busy", transient=True), attempt=claim.attempt
    )
    assert Message.objects.get(pk=message.pk).status == Status.QUEUED
    assert balance_of(org.pk) == 2


def test_grants_cannot_make_the_balance_negative(org) -> None:
    balance_grant(organization=org, amount=2)
    with pytest.raises(InvalidInput):
        balance_grant(organization=org, amount=-3)
    with pytest.raises(InvalidInput):
        balance_grant(organization=org, amount=0)
    assert balance_of(org.pk) == 2


def test_the_api_and_the_inbox_say_why(org, admin: Membership, number: PhoneNumber) -> None:
    balance_grant(organization=org, amount=0 + 1)
    send(number)
    _, key = ApiKey.issue(owner=admin, name="crm")
    response = logged_in(admin).post(
        "/api/v1/messages",
        {"from": number.number, "to": TO, "body": "Hi"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "balance_exhausted"
    client = logged_in(admin)
    page = client.post("/inbox/new/", {"from_id": number.pk, "to": "2025550173", "body": "Hi"})
    assert page.status_code == 422 and "balance is used up" in page.content.decode()
    assert "0 segments left" in client.get("/inbox/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_balance_command(admin: Membership, tmp_path) -> None:
    env = subprocess_env(TWOWAY_DATA_DIR=str(tmp_path))

    def twoway(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "twoway.cli", "balance", "--email", admin.user.email, *args],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )

    assert twoway().stdout.strip() == "Acme Dental: unlimited"
    assert twoway("--add", "500", "--note", "Monthly plan").stdout.strip() == (
        "Acme Dental: 500 segments left"
    )
    refused = twoway("--add", "-600")
    assert refused.returncode == 2 and "cannot go below zero" in refused.stderr

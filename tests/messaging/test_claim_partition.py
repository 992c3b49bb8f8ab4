"""Worker processes of one supervisor: each slow sender is one process's, fast ones are shared."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from twoway.accounts.models import Organization
from twoway.conversations.models import Message
from twoway.messaging import claiming
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db


def sender(org: Organization, number: str, mps: str) -> PhoneNumber:
    return PhoneNumber.objects.create(
        organization=org, number=number, carrier="simulator", mps_limit=Decimal(mps)
    )


def queue_from(number: PhoneNumber, count: int) -> list[Message]:
    return [
        message_send(phone_number=number, to=f"+1415555{1000 + i:04d}", body=f"Hi {i}")
        for i in range(count)
    ]


def senders_claimed(partition: tuple[int, int] | None) -> set[str]:
    now = timezone.now()
    return {
        c.request.from_number for c in claiming.claim_due(limit=50, now=now, partition=partition)
    }


def test_each_slow_sender_belongs_to_one_process_and_fast_ones_to_all(org: Organization) -> None:
    slow = [sender(org, f"+1415555020{i}", "5") for i in range(4)]
    fast = sender(org, "+14155550299", str(claiming.SHARED_SENDER_MIN_MPS))
    for number in [*slow, fast]:
        queue_from(number, 3)
    mine = {n.number for n in slow if n.pk % 2 == 0}
    assert senders_claimed((0, 2)) == mine | {fast.number}
    queue_from(fast, 3)  # the first process took the fast sender's first three
    theirs = {n.number for n in slow if n.pk % 2 == 1}
    assert senders_claimed((1, 2)) == theirs | {fast.number}


def test_without_a_partition_every_sender_is_claimed(org: Organization) -> None:
    slow = [sender(org, f"+1415555020{i}", "5") for i in range(3)]
    for number in slow:
        queue_from(number, 1)
    assert senders_claimed(None) == {n.number for n in slow}


def test_an_idle_process_does_not_wait_for_another_process_s_sender(org: Organization) -> None:
    slow = sender(org, "+14155550201", "5")
    queue_from(slow, 2)
    own = (slow.pk % 2, 2)
    other = (1 - slow.pk % 2, 2)
    assert claiming.next_due_in(partition=own) == 0.0
    assert claiming.next_due_in(partition=other) is None

"""SMS balance: each sent segment is paid for from the organization's balance, receiving is free.

A message reserves its segments when it is queued (or scheduled: changing a scheduled text's
words books the difference) and gets them back if it is never sent (failed before a carrier
took it, or canceled). Compliance auto-replies (the STOP confirmation
and its like) are never charged nor held back: carriers require them.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from twoway.accounts.models import Organization
from twoway.billing.models import BalanceEntry, EntryReason, SmsAccount
from twoway.conversations.models import Category, Message
from twoway.core.errors import InvalidInput, PermissionDenied
from twoway.core.rows import rows_insert


class BalanceExhausted(PermissionDenied):
    code = "balance_exhausted"


@transaction.atomic
def balance_grant(
    *,
    organization: Organization,
    amount: int,
    note: str = "",
    actor: Any = None,
) -> SmsAccount:
    """Add (or, negative, remove) segments; gives the organization a plan if it had none."""
    if amount == 0:
        raise InvalidInput("Give a number of segments other than zero.")
    account, _ = SmsAccount.objects.select_for_update().get_or_create(organization=organization)
    if account.balance + amount < 0:
        raise InvalidInput(f"The balance is {account.balance}; it cannot go below zero.")
    account.balance += amount
    account.save(update_fields=["balance"])
    BalanceEntry.objects.create(
        organization=organization,
        delta=amount,
        balance_after=account.balance,
        reason=EntryReason.GRANT,
        note=note[:200],
        created_by=actor if actor and actor.pk else None,
    )
    return account


def balance_charge(*, message: Message) -> None:
    """Reserve the message's segments; raises BalanceExhausted (rolling back the caller's
    transaction, and so the message) when the balance cannot pay for them."""
    if message.category == Category.AUTO_REPLY:
        return
    account = _locked_account(message.organization_id)
    if account is None:
        return  # no plan: unlimited
    cost = max(message.segments, 1)
    if account.balance < cost:
        raise balance_exhausted(cost, account.balance)
    _move(account, -cost, EntryReason.SEND, message)


def balance_exhausted(cost: int, balance: int) -> BalanceExhausted:
    return BalanceExhausted(
        f"Your SMS balance is used up: this message needs {cost} segment"
        f"{'s' if cost != 1 else ''} and {balance} "
        f"{'is' if balance == 1 else 'are'} left. An administrator can add credit under "
        "Settings, SMS balance."
    )


class BalanceCharges:
    """`balance_charge` for many messages of one organization queued together: the account
    is locked once, each message is checked in turn against what the ones before it left, and
    the new balance and every entry are written in two statements (`write`)."""

    def __init__(self, organization_id: int) -> None:
        self.account = _locked_account(organization_id)
        self._deltas: list[int] = []

    def charge(self, *, category: str, segments: int) -> bool:
        """Reserve a message's segments (raises BalanceExhausted, reserving nothing, when they
        do not fit); True when it was charged, so `write` needs its id."""
        if category == Category.AUTO_REPLY or self.account is None:
            return False
        cost = max(segments, 1)
        left = self.account.balance + sum(self._deltas)
        if left < cost:
            raise balance_exhausted(cost, left)
        self._deltas.append(-cost)
        return True

    def write(self, message_ids: list[int]) -> None:
        """Store the charges, one entry per message charged, in the order they were charged."""
        assert len(message_ids) == len(self._deltas), "one id per message charged"
        if self.account is None or not self._deltas:
            return
        rows = []
        balance = self.account.balance
        for delta, message_id in zip(self._deltas, message_ids, strict=True):
            balance += delta
            rows.append(
                {
                    "organization_id": self.account.organization_id,
                    "delta": delta,
                    "balance_after": balance,
                    "reason": EntryReason.SEND.value,
                    "message_id": message_id,
                    "note": "",
                    "created_by_id": None,
                }
            )
        SmsAccount.objects.filter(pk=self.account.pk).update(balance=balance)
        self.account.balance = balance
        self._deltas = []
        rows_insert(BalanceEntry, rows)


@transaction.atomic
def balance_refund(*, message: Message) -> None:
    """Give back what a message reserved, once, when it was never sent."""
    account = _locked_account(message.organization_id)
    charges = BalanceEntry.objects.filter(message=message)
    reserved = _reserved(message)
    if account is None or not reserved or charges.filter(reason=EntryReason.REFUND).exists():
        return
    _move(account, reserved, EntryReason.REFUND, message)


@transaction.atomic
def balance_rebook(*, message: Message, segments: int) -> None:
    """A scheduled text whose words changed holds what its new `segments` cost: the difference
        is charged (BalanceExhausted when it does not fit) or given back, as an entry of its own
    (`rebook`)."""
    account = _locked_account(message.organization_id)
    if account is None or message.category == Category.AUTO_REPLY:
        return
    delta = _reserved(message) - max(segments, 1)
    if delta == 0:
        return
    if account.balance + delta < 0:
        raise balance_exhausted(-delta, account.balance)
    _move(account, delta, EntryReason.REBOOK, message)


def _reserved(message: Message) -> int:
    """Segments a message holds: its charge, and what changes to it (scheduled) rebooked."""
    reasons = (EntryReason.SEND, EntryReason.REBOOK)
    entries = BalanceEntry.objects.filter(message=message, reason__in=reasons)
    return -sum(entries.values_list("delta", flat=True))


def balance_lock(organization_id: int) -> None:
    """Take the balance's row lock now, ahead of the charge. Senders take it before they create
    a message's contact and conversation, so two of them starting the same new contact wait for
    one another instead of each holding what the other needs (a deadlock)."""
    _locked_account(organization_id)


def _locked_account(organization_id: int) -> SmsAccount | None:
    # The row lock orders concurrent charges of one organization, so none overdraws.
    return SmsAccount.objects.select_for_update().filter(organization_id=organization_id).first()


def _move(account: SmsAccount, delta: int, reason: str, message: Message) -> None:
    account.balance += delta
    account.save(update_fields=["balance"])
    BalanceEntry.objects.create(
        organization_id=account.organization_id,
        delta=delta,
        balance_after=account.balance,
        reason=reason,
        message=message,
    )


def balance_of(organization_id: int) -> int | None:
    """Segments left, or None for an organization without a plan (unlimited)."""
    return (
        SmsAccount.objects.filter(organization_id=organization_id)
        .values_list("balance", flat=True)
        .first()
    )

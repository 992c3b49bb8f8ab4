from __future__ import annotations

from django.conf import settings
from django.db import models

from twoway.accounts.models import Organization


class SmsAccount(models.Model):
    """A plan with a balance of SMS segments. An organization without one sends without limit."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="sms_account"
    )
    balance = models.IntegerField(default=0, help_text="Segments left to send")

    class Meta:
        verbose_name = "SMS account"

    def __str__(self) -> str:
        return f"{self.organization}: {self.balance} segments"


class EntryReason(models.TextChoices):
    GRANT = "grant", "Credit added"
    SEND = "send", "Message sent"
    REFUND = "refund", "Message not sent, refunded"
    # A scheduled text whose words changed: the difference its new segments cost (+ or -).
    REBOOK = "rebook", "Scheduled message changed"


class BalanceEntry(models.Model):
    """The ledger: every change to a balance, with what the balance was after it."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    delta = models.IntegerField()
    balance_after = models.IntegerField()
    reason = models.CharField(max_length=8, choices=EntryReason.choices)
    message = models.ForeignKey(
        "conversations.Message", null=True, blank=True, on_delete=models.SET_NULL
    )
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "balance entries"
        ordering = ["-id"]
        constraints = [
            # A message is charged once and refunded at most once, whatever retries (a
            # scheduled text may be rebooked as often as it is changed).
            models.UniqueConstraint(
                fields=["message", "reason"],
                condition=models.Q(message__isnull=False, reason__in=["send", "refund"]),
                name="balance_entry_once_per_message",
            )
        ]

    def __str__(self) -> str:
        return f"{self.delta:+d} ({self.get_reason_display()})"

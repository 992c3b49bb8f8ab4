from __future__ import annotations

import uuid

from django.db import models


class HandsetBehaviour(models.TextChoices):
    DELIVER = "deliver", "Delivers normally"
    LANDLINE = "landline", "Is a landline (undelivered, 30006)"
    UNREACHABLE = "unreachable", "Is unreachable (failed, 30003)"


class SimHandset(models.Model):
    """A simulated client phone: it receives what Twoway sends and can text back.

    The network is shared by every organization of the installation; the organization whose
    member first played the phone, or which first texted it, claims it (views.py says what
    that allows). Its behaviour shapes only the claiming organization's texts.
    """

    number = models.CharField(max_length=20, unique=True)
    behaviour = models.CharField(
        max_length=12, choices=HandsetBehaviour.choices, default=HandsetBehaviour.DELIVER
    )
    claimed_by = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.number


class SimMessage(models.Model):
    """A message on the simulated network, in either direction."""

    MT, MO = "mt", "mo"  # mobile-terminated (to the handset), mobile-originated (from it)
    sid = models.UUIDField(default=uuid.uuid4, unique=True)
    handset = models.ForeignKey(SimHandset, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=2, choices=[(MT, "to handset"), (MO, "from handset")])
    business_number = models.CharField(max_length=20)
    # A text a member played from the handset: their organization's. The network's own texts
    # from business numbers leave it empty; their numbers and Twoway's messages say whose.
    played_by = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = models.TextField()
    # The handset's own copies of an MMS's pictures and videos, in order: [{"name": storage
    # name, "content_type": ...}]. A phone keeps what it received, whatever Twoway deletes.
    media = models.JSONField(default=list, blank=True)
    # The sender's idempotency key: the same key twice is the same message, delivered once.
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    status = models.CharField(max_length=12, default="accepted")
    error_code = models.CharField(max_length=8, blank=True)
    report_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["status", "report_at"])]

    def __str__(self) -> str:
        return f"{self.direction} {self.handset}: {self.body[:30]}"

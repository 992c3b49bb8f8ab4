from __future__ import annotations

import uuid

from django.db import models


class HandsetBehaviour(models.TextChoices):
    DELIVER = "deliver", "Delivers normally"
    LANDLINE = "landline", "Is a landline (undelivered, 30006)"
    UNREACHABLE = "unreachable", "Is unreachable (failed, 30003)"


class SimHandset(models.Model):
    """A simulated client phone: it receives what Twoway sends and can text back."""

    number = models.CharField(max_length=20, unique=True)
    behaviour = models.CharField(
        max_length=12, choices=HandsetBehaviour.choices, default=HandsetBehaviour.DELIVER
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
    body = models.TextField()
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

from __future__ import annotations

from django.db import models


class EventKind(models.TextChoices):
    INBOUND = "inbound", "Inbound message"
    STATUS = "status", "Status update"
    VERIFICATION = "verify", "Number verification"


class CarrierEvent(models.Model):
    """A verified webhook, stored raw before anything else happens to it.

    The unique key makes a webhook the carrier retries land once; the worker processes rows with
    no `processed_at`, so a crash between storing and processing loses nothing.
    """

    carrier = models.CharField(max_length=32)
    kind = models.CharField(max_length=8, choices=EventKind.choices)
    # The carrier's message id, plus the status for status updates.
    dedupe_key = models.CharField(max_length=120)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Set when processing must wait (a status report for a send not recorded yet).
    retry_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "kind", "dedupe_key"], name="carrier_event_unique"
            )
        ]
        indexes = [models.Index(fields=["processed_at", "id"], name="carrier_event_pending_idx")]

    def __str__(self) -> str:
        return f"{self.carrier} {self.kind} {self.dedupe_key}"

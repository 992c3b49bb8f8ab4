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
        indexes = [
            # Only the waiting events, in order: the worker's scan for its next batch reads
            # just these. A processed event leaves the index (on PostgreSQL its entry is marked
            # dead the first time a scan passes it, even before a vacuum), so the scan stays as
            # short as the backlog however many events were ever stored.
            models.Index(
                fields=["id"],
                condition=models.Q(processed_at__isnull=True),
                name="carrier_event_waiting_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.kind} {self.dedupe_key}"

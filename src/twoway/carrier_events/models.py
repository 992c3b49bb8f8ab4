from __future__ import annotations

from django.db import models


class EventKind(models.TextChoices):
    INBOUND = "inbound", "Inbound message"
    STATUS = "status", "Status update"
    VERIFICATION = "verify", "Number verification"
    # A verified webhook its adapter could not make an event of (malformed, or of a type not
    # handled yet), kept as received: processing parses it again, so support added later can
    # take it up (`twoway events retry`).
    UNPARSED = "unparsed", "Unparsed webhook"


class CarrierEvent(models.Model):
    """A verified webhook, stored raw before anything else happens to it.

    The unique key makes a webhook the carrier retries land once; the worker processes rows with
    no `processed_at`, so a crash between storing and processing loses nothing. An event that
    can never be processed (a text to a number Twoway does not have, a value the database
    refuses, a crash on every try) is processed too, with `failed_at` and `error` saying so: the
    operators' list of failed events (`twoway events failed`, the admin's "Failed" filter).
    """

    carrier = models.CharField(max_length=32)
    # The carrier account whose webhook received it (its id, kept after the account is gone);
    # None: the operator's webhook. Such an event acts only on that account's numbers.
    carrier_account_id = models.PositiveBigIntegerField(null=True, blank=True)
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
    # When processing gave up on it (then `processed_at` is set too, so it waits no more).
    failed_at = models.DateTimeField(null=True, blank=True)

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
            ),
            # The failed ones, newest first, for the operators' list: few, however many events.
            models.Index(
                fields=["-failed_at"],
                condition=models.Q(failed_at__isnull=False),
                name="carrier_event_failed_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.kind} {self.dedupe_key}"

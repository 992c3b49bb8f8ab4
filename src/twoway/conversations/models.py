from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from twoway.accounts.models import Organization


class Folder(models.TextChoices):
    NEEDS_ATTENTION = "needs_attention", "Needs attention"
    PARTICIPATING = "participating", "Participating"
    ARCHIVED = "archived", "Archived"


class Conversation(models.Model):
    """The thread between one contact phone and one business number."""

    # Looked up through the (organization, folder, last_message_at) index below: an index of
    # its own would only cost every write.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="conversations", db_index=False
    )
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, related_name="conversations"
    )
    phone_number = models.ForeignKey(
        "numbers.PhoneNumber", on_delete=models.PROTECT, related_name="conversations"
    )
    # The contact's number this thread texts (a contact may have several).
    contact_number = models.CharField(max_length=20)
    folder = models.CharField(
        max_length=20, choices=Folder.choices, default=Folder.PARTICIPATING, db_index=True
    )
    # Inbound messages since a person last texted the contact: what Needs attention counts.
    unread_count = models.PositiveIntegerField(default=0)
    muted = models.BooleanField(default=False)
    # Assigned to one agent or to one team (never both): who is expected to answer.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    assignee_team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_conversations",
    )
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_message_preview = models.CharField(max_length=160, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["phone_number", "contact_number"], name="conversation_unique_pair"
            ),
            models.CheckConstraint(
                condition=models.Q(assignee__isnull=True) | models.Q(assignee_team__isnull=True),
                name="conversation_one_assignee",
            ),
        ]
        indexes = [models.Index(fields=["organization", "folder", "-last_message_at"])]

    def __str__(self) -> str:
        return f"{self.contact_number} ↔ {self.phone_number.number}"


class Direction(models.TextChoices):
    INBOUND = "in", "Inbound"
    OUTBOUND = "out", "Outbound"


class Kind(models.TextChoices):
    MESSAGE = "message", "Message"
    NOTE = "note", "Note"


class Category(models.TextChoices):
    DIRECT = "direct", "Direct"
    TRANSACTIONAL = "transactional", "Transactional"
    MARKETING = "marketing", "Marketing"
    CONSENT = "consent", "Consent"
    AUTO_REPLY = "auto_reply", "Auto-reply"
    DRIP = "drip", "Drip"
    BLAST = "blast", "Blast"


# Categories sent without a person pressing Send: never to opted-out contacts.
AUTOMATED_CATEGORIES = frozenset({Category.MARKETING, Category.DRIP, Category.BLAST})
# What Retry sends again: a person's or an integration's texts. Compliance replies are not among
# them: a contact's STOP is confirmed once.
RETRYABLE_CATEGORIES = (Category.DIRECT, Category.TRANSACTIONAL, Category.MARKETING)


class Status(models.TextChoices):
    RECEIVED = "received", "Received"
    SCHEDULED = "scheduled", "Scheduled"
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    UNDELIVERED = "undelivered", "Undelivered"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


# Statuses the dispatcher may still pick up.
PENDING_STATUSES = (Status.QUEUED, Status.SENDING)
FINAL_STATUSES = frozenset({Status.DELIVERED, Status.UNDELIVERED, Status.FAILED, Status.CANCELED})
# How far a sent message has got. What carriers say moves it only forward: a late "sent" never
# undoes "delivered". (The worker's own retry puts a `sending` message back to `queued`.)
_STATUS_RANK = {
    Status.QUEUED: 0,
    Status.SENDING: 1,
    Status.SENT: 2,
    Status.DELIVERED: 3,
    Status.UNDELIVERED: 3,
    Status.FAILED: 3,
}


def status_moves_forward(current: str, new: str) -> bool:
    """Whether a carrier's word may move a message from `current` to `new`."""
    return _STATUS_RANK.get(Status(new), 0) > _STATUS_RANK.get(Status(current), 0)


class Priority(models.IntegerChoices):
    """Lower goes first: a person waiting on a reply beats a blast from the same number."""

    CONVERSATION = 0
    AUTOMATED = 5
    BULK = 10


class Message(models.Model):
    # Our id, shown to integrators and passed to carriers as the idempotency key.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    # None for texts that open no conversation: marketing, and transactional texts of an
    # organization without two-way texting.
    # Looked up through the (conversation, created_at) index below. Every index of this table
    # is written again whenever a message changes status, since the queue's partial indexes
    # keep those updates from being HOT: each index it does not need costs every send.
    conversation = models.ForeignKey(
        Conversation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="messages",
        db_index=False,
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.MESSAGE)
    category = models.CharField(max_length=16, choices=Category.choices, blank=True)
    body = models.TextField()
    encoding = models.CharField(max_length=8, blank=True)
    segments = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    from_number = models.CharField(max_length=20, blank=True)
    to_number = models.CharField(max_length=20, blank=True)
    carrier = models.CharField(max_length=32, blank=True)
    carrier_message_id = models.CharField(max_length=64, null=True, blank=True)
    error_code = models.CharField(max_length=16, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_index=False,  # indexed below, only where set
    )
    # Who or what wrote it when not a user: "api", "keyword:STOP", ...
    sent_by_label = models.CharField(max_length=60, blank=True)
    # The failed or undelivered text this one sends again (Retry): the failed one then leaves
    # the Failed list.
    retry_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="retries",
        db_index=False,  # indexed below, only where set
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # When a scheduled text is due (`messaging.scheduling`): the worker queues it then.
    send_at = models.DateTimeField(null=True, blank=True)
    # The dispatcher's queue fields: the message table is the queue.
    priority = models.PositiveSmallIntegerField(default=Priority.CONVERSATION)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "carrier_message_id"], name="message_carrier_id_unique"
            ),
            # A failed text is sent again once; only retries have an entry.
            models.UniqueConstraint(
                fields=["retry_of"],
                condition=models.Q(retry_of__isnull=False),
                name="message_retried_once",
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "created_at"]),
            # A reply to the shared system number belongs to the last text sent from it to
            # that handset (messaging/senders.py).
            models.Index(
                fields=["from_number", "to_number", "created_at"], name="message_pair_recent_idx"
            ),
            # The dispatcher's queue (docs/performance.md). A claim walks the queued messages
            # in claim order and stops after the rows it needs, instead of sorting all of them;
            # lost leases are looked up among the few messages being sent. Partial indexes, so
            # the claim has no other index to prefer when the table's statistics are stale
            # after a large blast was queued.
            models.Index(
                fields=["priority", "next_attempt_at", "id"],
                condition=models.Q(status="queued"),
                name="message_due_idx",
            ),
            models.Index(
                fields=["lease_expires_at"],
                condition=models.Q(status="sending"),
                name="message_lease_idx",
            ),
            # Scheduled texts by due time: the worker's promotion reads only the due ones.
            models.Index(
                fields=["send_at"],
                condition=models.Q(status="scheduled"),
                name="message_scheduled_idx",
            ),
            # A contact's reply deletes the unsent drip steps to their number
            # (`messaging.drip_replies`); only those waiting have an entry.
            models.Index(
                fields=["organization", "to_number"],
                condition=models.Q(status="scheduled", category="drip"),
                name="message_drip_waiting_idx",
            ),
            # The Failed list: only failed and undelivered texts have an entry.
            models.Index(
                fields=["created_at"],
                condition=models.Q(status__in=["failed", "undelivered"]),
                name="message_failed_idx",
            ),
            # For deleting a user (SET_NULL); most messages (inbound, automated) have nobody.
            models.Index(
                fields=["sent_by"],
                condition=models.Q(sent_by__isnull=False),
                name="message_sent_by_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.kind} {self.uid}"

    @property
    def is_inbound(self) -> bool:
        return self.direction == Direction.INBOUND

    @property
    def can_be_retried(self) -> bool:
        """A text of a conversation a carrier refused or could not deliver, not sent again yet
        (`retried`, when the query annotated it: `thread_page` does)."""
        return (
            self.direction == Direction.OUTBOUND
            and self.kind == Kind.MESSAGE
            and self.conversation_id is not None
            and self.category in RETRYABLE_CATEGORIES
            and self.status in (Status.FAILED, Status.UNDELIVERED)
            and not getattr(self, "retried", False)
        )

    @property
    def is_note(self) -> bool:
        return self.kind == Kind.NOTE

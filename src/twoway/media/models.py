"""Pictures and videos attached to a message (MMS), kept through Django's storage API."""

from __future__ import annotations

import uuid

from django.db import models

from twoway.accounts.models import Organization
from twoway.conversations.models import Message


class MediaStatus(models.TextChoices):
    READY = "ready", "Ready"
    # An inbound picture whose file is still at the carrier: the fetch job brings it.
    FETCHING = "fetching", "Being fetched"
    FAILED = "failed", "Could not be fetched"


class MessageMedia(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Kept beside the message's own so every read is scoped without a join.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="media")
    position = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=10, choices=MediaStatus.choices)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)
    storage_name = models.CharField(max_length=255, blank=True)
    original_filename = models.CharField(max_length=255, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    # Inbound only: where the carrier keeps the file, and whose credentials fetch it.
    source_url = models.TextField(blank=True)
    carrier = models.CharField(max_length=32, blank=True)
    carrier_account_id = models.IntegerField(null=True, blank=True)
    fetch_attempts = models.PositiveSmallIntegerField(default=0)
    fetch_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["message_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["message", "position"], name="media_message_position")
        ]

    def __str__(self) -> str:
        return f"{self.content_type or 'media'} of message {self.message_id}"

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def is_video(self) -> bool:
        return self.content_type.startswith("video/")

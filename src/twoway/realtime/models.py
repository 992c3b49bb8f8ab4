from __future__ import annotations

from django.db import models

from twoway.accounts.models import Organization


class RealtimeEvent(models.Model):
    """One change an open inbox should show. Its id is the SSE event id clients resume from."""

    # Looked up through the (organization, id) index below.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, db_index=False)
    kind = models.CharField(max_length=40)  # message.created, message.status, conversation.updated
    conversation_id = models.BigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "id"])]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from twoway.accounts.models import Membership, Organization

CANNED_NAME_MAX_LENGTH = 100
# What one text of several segments may carry at most (carriers refuse longer).
CANNED_BODY_MAX_LENGTH = 1600


class CannedResponse(models.Model):
    """A pre-written reply an agent puts in the composer: the organization's (no owner, kept by
    its administrators) or one person's own (seen and kept by that person only)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="canned_responses"
    )
    # None: the organization's, for everyone; otherwise the one member who sees it.
    owner = models.ForeignKey(
        Membership,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canned_responses",
    )
    name = models.CharField(max_length=CANNED_NAME_MAX_LENGTH)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # Names are told apart case aside, within what one picker lists from each source.
            models.UniqueConstraint(
                "organization",
                Lower("name"),
                condition=Q(owner__isnull=True),
                name="canned_response_org_name_unique",
            ),
            models.UniqueConstraint(
                "owner",
                Lower("name"),
                condition=Q(owner__isnull=False),
                name="canned_response_personal_name_unique",
            ),
        ]
        indexes = [models.Index(fields=["organization", "owner"], name="canned_by_org_owner")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_personal(self) -> bool:
        return self.owner_id is not None

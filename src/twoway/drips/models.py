"""Drip campaigns: a named series of texts, each a delay after the moment the campaign is
applied to a contact; applying schedules every step at once (`drips.services`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from twoway.accounts.models import Organization

DRIP_NAME_MAX_LENGTH = 100
DRIP_MAX_STEPS = 20


class DripCampaign(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="drip_campaigns"
    )
    name = models.CharField(max_length=DRIP_NAME_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "organization", Lower("name"), name="drip_campaign_org_name_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class DripStep(models.Model):
    """One text of a campaign: its own words, or an organization canned response's (read when
    the campaign is applied), merge fields filled for the contact then."""

    campaign = models.ForeignKey(DripCampaign, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    body = models.TextField(blank=True)
    canned_response = models.ForeignKey(
        "canned.CannedResponse", null=True, blank=True, on_delete=models.SET_NULL
    )
    # From the moment the campaign is applied (not from the step before), as the help centre
    # describes: steps of 1, 3 and 5 days go 1, 3 and 5 days after applying.
    delay_days = models.PositiveSmallIntegerField(default=0)
    delay_hours = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "position"], name="drip_step_position")
        ]

    def __str__(self) -> str:
        return f"{self.campaign} step {self.position}"


class AppliedDrip(models.Model):
    """A campaign applied to one conversation's contact: its steps are scheduled texts."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="applied_drips"
    )
    # Kept when the campaign is deleted later: the steps already scheduled still say what
    # they are.
    campaign = models.ForeignKey(
        DripCampaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="applied"
    )
    campaign_name = models.CharField(max_length=DRIP_NAME_MAX_LENGTH)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    applied_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.campaign_name} → conversation {self.conversation_id}"


class AppliedDripStep(models.Model):
    """Which scheduled text is which step of an applied drip. A reply from the contact deletes
    the unsent texts, and these rows with them."""

    applied = models.ForeignKey(AppliedDrip, on_delete=models.CASCADE, related_name="steps")
    message = models.OneToOneField(
        "conversations.Message", on_delete=models.CASCADE, related_name="drip_step"
    )
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"{self.applied} step {self.position}"

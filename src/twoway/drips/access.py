"""Who sees, manages and applies drip campaigns (the rules are listed in `accounts.access`).

Everyone in the organization sees its campaigns; administrators add, edit and delete them.
Whoever may text a conversation may apply one to its contact, and cancel what was applied.
"""

from __future__ import annotations

from twoway.accounts.access import require_admin
from twoway.accounts.models import Membership
from twoway.conversations.access import access_conversation_reply
from twoway.conversations.models import Conversation
from twoway.core.errors import NotFound
from twoway.drips.models import AppliedDrip, DripCampaign


def access_drip_campaign(membership: Membership, campaign_id: int) -> DripCampaign:
    """One of the member's organization's campaigns."""
    campaign = DripCampaign.objects.filter(
        organization_id=membership.organization_id, pk=campaign_id
    ).first()
    if campaign is None:
        raise NotFound("That drip campaign does not exist.")
    return campaign


def access_drip_campaign_change(membership: Membership, campaign_id: int) -> DripCampaign:
    """A campaign the member may edit or delete: administrators only."""
    require_admin(membership)
    return access_drip_campaign(membership, campaign_id)


def access_applied_drip(
    membership: Membership, conversation_id: int, applied_id: int
) -> tuple[Conversation, AppliedDrip]:
    """A drip applied in a conversation the member may text."""
    conversation = access_conversation_reply(membership, conversation_id)
    applied = AppliedDrip.objects.filter(conversation=conversation, pk=applied_id).first()
    if applied is None:
        raise NotFound("That drip was not applied in this conversation.")
    return conversation, applied

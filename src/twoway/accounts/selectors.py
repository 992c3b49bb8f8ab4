"""Reads for the admins' people and settings pages, always scoped to the admin's organization.

The `access_*` helpers fetch one row *and* check the actor administers its organization: a
non-admin gets PermissionDenied, a row of another organization NotFound.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from twoway.accounts.access import require_admin
from twoway.accounts.models import Invitation, Membership, Team
from twoway.core.errors import NotFound


def organization_members(organization_id: int) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organization_id=organization_id)
        .select_related("user")
        .order_by("-user__is_active", "user__email", "pk")
    )


def organization_teams(organization_id: int) -> QuerySet[Team]:
    return (
        Team.objects.filter(organization_id=organization_id)
        .prefetch_related("members__user")
        .order_by("name", "pk")
    )


def pending_invitations(organization_id: int) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        organization_id=organization_id, accepted_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-created_at", "-pk")


def access_member(actor: Membership, membership_id: int) -> Membership:
    require_admin(actor)
    member = organization_members(actor.organization_id).filter(pk=membership_id).first()
    if member is None:
        raise NotFound("That user does not exist.")
    return member


def access_team(actor: Membership, team_id: int) -> Team:
    require_admin(actor)
    team = Team.objects.filter(organization_id=actor.organization_id, pk=team_id).first()
    if team is None:
        raise NotFound("That team does not exist.")
    return team


def access_invitation(actor: Membership, invitation_id: int) -> Invitation:
    require_admin(actor)
    invitation = Invitation.objects.filter(
        organization_id=actor.organization_id, pk=invitation_id
    ).first()
    if invitation is None:
        raise NotFound("That invitation does not exist.")
    return invitation

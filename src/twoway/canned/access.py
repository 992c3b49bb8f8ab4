"""Who sees and who changes canned responses (the rules are listed in `accounts.access`).

Everyone in the organization sees and uses its organization-wide responses; administrators
add, edit and delete them. Each member keeps personal responses that nobody else sees, not even
an administrator: they are a person's own wording, like their drafts.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from twoway.accounts.models import Membership
from twoway.canned.models import CannedResponse
from twoway.core.errors import NotFound, PermissionDenied


def canned_responses_visible_to(membership: Membership) -> QuerySet[CannedResponse]:
    """The organization's responses and the member's own."""
    return CannedResponse.objects.filter(
        Q(owner__isnull=True) | Q(owner=membership), organization_id=membership.organization_id
    )


def can_change_canned_response(membership: Membership, canned: CannedResponse) -> bool:
    return canned.owner_id == membership.pk or (canned.owner_id is None and membership.is_admin)


def require_canned_changer(membership: Membership, canned: CannedResponse) -> None:
    if not can_change_canned_response(membership, canned):
        raise PermissionDenied(
            "Only administrators can change the organization's canned responses.",
            code="admin_only",
        )


def access_canned_response(membership: Membership, canned_id: int) -> CannedResponse:
    """A response the member may use: the organization's, or their own."""
    canned = canned_responses_visible_to(membership).filter(pk=canned_id).first()
    if canned is None:
        raise NotFound("That canned response does not exist.")
    return canned


def access_canned_response_change(membership: Membership, canned_id: int) -> CannedResponse:
    """A response the member may edit or delete: their own, or, for an administrator, the
    organization's."""
    canned = access_canned_response(membership, canned_id)
    require_canned_changer(membership, canned)
    return canned

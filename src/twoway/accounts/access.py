"""Access checks: every read of an organization's rows by a person goes through one of these.

Each `access_*` fetches the object *and* checks the user may see it, so nothing is read from
another organization by accident. A row of another organization is reported as not found.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from twoway.accounts.models import Membership
from twoway.conversations.models import Conversation
from twoway.core.errors import NotFound, PermissionDenied
from twoway.numbers.models import PhoneNumber


def access_membership(user: Any) -> Membership:
    """The user's membership; users outside any organization may do nothing."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise PermissionDenied("Log in first.")
    try:
        membership = user.membership
    except Membership.DoesNotExist:
        raise PermissionDenied("Your account does not belong to an organization.") from None
    return membership  # type: ignore[no-any-return]


def numbers_usable_by(membership: Membership) -> QuerySet[PhoneNumber]:
    """Numbers the member may send from and whose inbox they see (the number's inbox settings):
    all of them for admins; for others those open to everyone or listing them or their team."""
    numbers = PhoneNumber.objects.filter(organization_id=membership.organization_id)
    if not membership.is_admin:
        allowed = (
            Q(access_everyone=True)
            | Q(access_users=membership)
            | Q(access_teams__members=membership)
        )
        numbers = numbers.filter(pk__in=PhoneNumber.objects.filter(allowed).values("pk"))
    return numbers.order_by("id")


def require_admin(membership: Membership) -> None:
    if not membership.is_admin:
        raise PermissionDenied("Only administrators can do that.", code="admin_only")


def access_phone_number(membership: Membership, number_id: int) -> PhoneNumber:
    number = numbers_usable_by(membership).filter(pk=number_id).first()
    if number is None:
        raise NotFound("That phone number does not exist or is not yours to use.")
    return number


def conversations_visible_to(membership: Membership) -> QuerySet[Conversation]:
    return Conversation.objects.filter(
        organization_id=membership.organization_id,
        phone_number__in=numbers_usable_by(membership),
    )


def access_conversation(membership: Membership, conversation_id: int) -> Conversation:
    conversation = (
        conversations_visible_to(membership)
        .select_related("contact", "phone_number")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None:
        raise NotFound("That conversation does not exist.")
    return conversation

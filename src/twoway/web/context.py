from __future__ import annotations

from django.http import HttpRequest

from twoway.accounts.models import Membership


def sms_balance(request: HttpRequest) -> dict[str, object]:
    """The organization's SMS balance for the top bar; absent when unlimited or logged out."""
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return {}
    try:
        membership = user.membership  # type: ignore[union-attr]
    except Membership.DoesNotExist:
        return {}
    from twoway.billing.services import balance_of

    # Administrators follow it to the ledger.
    return {
        "sms_balance": balance_of(membership.organization_id),
        "sms_balance_link": membership.is_admin,
    }


def notifications(request: HttpRequest) -> dict[str, object]:
    """How many notifications the person has not seen, for the bell in the top bar."""
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return {}
    from twoway.notifications.selectors import unread_notification_count

    return {"unread_notifications": unread_notification_count(user.pk)}  # type: ignore[union-attr]

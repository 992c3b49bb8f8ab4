"""Context processors: the top bar's balance and bell, on every page with the top bar.

Their values are callables, run at most once and only when a template reads them (the Django
template language calls a callable variable): rendering runs every context processor, also for
the htmx partials without a top bar, such as the inbox list re-fetched on every live event,
which paid two queries for nothing (docs/performance.md, "Inbox")."""

from __future__ import annotations

import functools

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
    organization_id = membership.organization_id
    return {
        "sms_balance": functools.cache(lambda: balance_of(organization_id)),
        "sms_balance_link": membership.is_admin,
    }


def notifications(request: HttpRequest) -> dict[str, object]:
    """How many notifications the person has not seen, for the bell in the top bar."""
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return {}
    from twoway.notifications.selectors import unread_notification_count

    user_id = user.pk  # type: ignore[union-attr]
    return {"unread_notifications": functools.cache(lambda: unread_notification_count(user_id))}

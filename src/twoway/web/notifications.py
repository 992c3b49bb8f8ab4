"""The bell: a person's notifications, newest first; opening the list marks them seen."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.accounts.services import membership_alerts_set
from twoway.notifications.selectors import notifications_for
from twoway.notifications.services import notifications_mark_read


@member_view
def notification_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    items = list(notifications_for(membership.user_id))
    notifications_mark_read(recipient_id=membership.user_id)
    return render(
        request,
        "web/notifications.html",
        {"notifications": items, "unread_notifications": 0, "membership": membership},
    )


@require_POST
@member_view
def alerts_save(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The person's alerts for new texts; the browser's own permission is asked for by the
    page when the notification box is ticked (twoway.js)."""
    membership_alerts_set(
        membership=membership,
        desktop=request.POST.get("alert_desktop") == "on",
        sound=request.POST.get("alert_sound") == "on",
    )
    return redirect("notifications")

"""The bell: a person's notifications, newest first; opening the list marks them seen."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.notifications.selectors import notifications_for
from twoway.notifications.services import notifications_mark_read


@member_view
def notification_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    items = list(notifications_for(membership.user_id))
    notifications_mark_read(recipient_id=membership.user_id)
    return render(
        request,
        "web/notifications.html",
        {"notifications": items, "unread_notifications": 0},
    )

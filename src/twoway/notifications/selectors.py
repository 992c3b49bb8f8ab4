"""Reads on notifications: a person only ever sees their own."""

from __future__ import annotations

from django.db.models import QuerySet

from twoway.notifications.models import Notification


def notifications_for(recipient_id: int, limit: int = 50) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient_id=recipient_id).order_by("-created_at")[:limit]


def unread_notification_count(recipient_id: int) -> int:
    return Notification.objects.filter(recipient_id=recipient_id, read_at__isnull=True).count()

"""Telling people: an in-app notification under the bell, and an e-mail.

Notifications are written in the caller's transaction; e-mails leave only after it commits, so a
rolled-back change never mails anyone.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import transaction
from django.utils import timezone

from twoway.accounts.models import Organization, Role
from twoway.notifications.models import Notification
from twoway.realtime.events import NotificationCreated, event_publish

log = logging.getLogger(__name__)


def notify_admins(
    *, organization: Organization, kind: str, title: str, body: str = "", link: str = ""
) -> list[Notification]:
    """Notify every active admin of the organization in the app and by e-mail."""
    admins = list(
        get_user_model().objects.filter(
            membership__organization=organization,
            membership__role=Role.ADMINISTRATIVE,
            is_active=True,
        )
    )
    created = Notification.objects.bulk_create(
        Notification(
            organization=organization,
            recipient=admin,
            kind=kind,
            title=title,
            body=body,
            link=link,
        )
        for admin in admins
    )
    event_publish(NotificationCreated(organization_id=organization.pk, title=title))
    emails = [admin.email for admin in admins if admin.email]
    if emails:
        transaction.on_commit(lambda: _email(emails, title, body, link))
    return created


def _email(recipients: list[str], title: str, body: str, link: str) -> None:
    url = f"{settings.TWOWAY_PUBLIC_URL}{link}" if link and settings.TWOWAY_PUBLIC_URL else link
    text = "\n\n".join(part for part in (body, url) if part)
    try:
        mail.send_mail(
            subject=f"Twoway: {title}",
            message=text,
            from_email=None,
            recipient_list=recipients,
        )
    except Exception:  # the notification is in the app already; a mail server down is logged
        log.exception("Could not e-mail %s about %r", recipients, title)


def notifications_mark_read(*, recipient_id: int) -> int:
    return Notification.objects.filter(recipient_id=recipient_id, read_at__isnull=True).update(
        read_at=timezone.now()
    )

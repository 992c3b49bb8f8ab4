"""Personal API keys: issue and revoke (services) for the Settings, API keys page and the CLI.

A key acts as its owner (see `accounts.access`), so issuing one gives an integration no more than
the person already has; that is why every member may issue their own.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from twoway.accounts.access import api_keys_visible_to
from twoway.accounts.models import ApiKey, Membership, Role
from twoway.core.errors import InvalidInput, NotFound

MAX_ACTIVE_KEYS_PER_MEMBER = 20
# `last_used_at` is for people judging whether a key is still in use: minute precision is
# plenty, and it spares a busy integration a write (a SQLite write lock) on every request.
LAST_USED_PRECISION = timedelta(minutes=1)


def api_keys_list(membership: Membership) -> QuerySet[ApiKey]:
    """Active keys first, newest first."""
    return (
        api_keys_visible_to(membership)
        .select_related("owner__user")
        .order_by("revoked_at", "-created_at", "-pk")
    )


@transaction.atomic
def api_key_create(*, owner: Membership, name: str) -> tuple[ApiKey, str]:
    """A new key for `owner` (always the acting member); returns it with the raw key, which
    is never stored and must be shown to them now."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput(
            "Name the key after what will use it, e.g. “Booking system”.", code="name_required"
        )
    if len(name) > 100:
        raise InvalidInput("A key's name can be at most 100 characters.", code="name_too_long")
    active = ApiKey.objects.filter(owner=owner, revoked_at__isnull=True).count()
    if active >= MAX_ACTIVE_KEYS_PER_MEMBER:
        raise InvalidInput(
            f"You have {active} active keys, the most one person may have: revoke one you no "
            "longer use first.",
            code="too_many_keys",
        )
    return ApiKey.issue(owner=owner, name=name)


@transaction.atomic
def api_key_revoke(*, actor: Membership, key: ApiKey) -> ApiKey:
    """The key stops working at once; it stays listed as revoked for the record."""
    if not (
        key.owner_id == actor.pk
        or (actor.is_admin and key.organization_id == actor.organization_id)
    ):
        raise NotFound("That API key does not exist.")
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def api_key_owner_for_email(email: str | None) -> Membership:
    """The member `twoway createapikey` issues for: the given e-mail's, else the
    installation's first administrator."""
    members = Membership.objects.select_related("user", "organization")
    if email:
        member = members.filter(user__email__iexact=email.strip()).first()
        if member is None:
            raise NotFound(f"No user with e-mail {email}.")
    else:
        member = (
            members.filter(role=Role.ADMINISTRATIVE, user__is_active=True).order_by("pk").first()
        )
        if member is None:
            raise NotFound("There is no administrator yet: create one with `twoway createadmin`.")
    if not member.user.is_active:
        raise InvalidInput(f"{member.user.email} is deactivated; their keys would not work.")
    return member


def api_key_mark_used(key: ApiKey) -> None:
    """Note that the key was just used, at most once a minute."""
    now = timezone.now()
    stale = now - LAST_USED_PRECISION
    if key.last_used_at is not None and key.last_used_at > stale:
        return
    # Conditional, so concurrent requests of the same minute write once between them.
    ApiKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale)
    ).update(last_used_at=now)
    key.last_used_at = now

"""The keywords an organization adds to the carrier defaults: added and removed by its admins,
read by everything that classifies an inbound text (the worker, `twoway keywords`)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction

from twoway.accounts.access import require_admin
from twoway.accounts.models import Membership, Organization
from twoway.compliance.keywords import (
    DEFAULT_KEYWORDS,
    KEYWORD_MAX_LENGTH,
    KeywordAction,
    KeywordSet,
    normalize_keyword,
)
from twoway.compliance.models import Keyword
from twoway.core.errors import InvalidInput, NotFound


def keyword_set_of(organization_id: int) -> KeywordSet:
    return keyword_sets_of([organization_id])[organization_id]


def keyword_sets_of(organization_ids: Iterable[int]) -> dict[int, KeywordSet]:
    """Each organization's keywords, in one query for all of them."""
    ids = set(organization_ids)
    pairs: dict[int, list[tuple[str, str]]] = {pk: [] for pk in ids}
    if ids:
        rows = Keyword.objects.filter(organization_id__in=ids).values_list(
            "organization_id", "word", "action"
        )
        for organization_id, word, action in rows:
            pairs[organization_id].append((word, action))
    return {pk: KeywordSet.of(found) for pk, found in pairs.items()}


def keyword_add(*, actor: Membership, word: str, action: str) -> Keyword:
    """Add a keyword to the actor's organization (admins only)."""
    require_admin(actor)
    organization: Organization = actor.organization
    normalized = normalize_keyword(word)
    try:
        chosen = KeywordAction(action)
    except ValueError:
        raise InvalidInput("Choose what the keyword does: opt out, opt in or help.") from None
    if not normalized:
        raise InvalidInput("Type the word or phrase a client texts.", code="keyword_empty")
    if len(normalized) > KEYWORD_MAX_LENGTH:
        raise InvalidInput(
            f"A keyword is at most {KEYWORD_MAX_LENGTH} characters.", code="keyword_too_long"
        )
    if normalized in DEFAULT_KEYWORDS:
        does = DEFAULT_KEYWORDS[normalized].value.replace("_", " ")
        raise InvalidInput(
            f"{normalized} is a carrier keyword every organization has: it already means {does}.",
            code="keyword_default",
        )
    try:
        with transaction.atomic():
            return Keyword.objects.create(
                organization=organization, word=normalized, action=chosen.value
            )
    except IntegrityError:
        raise InvalidInput(
            f"{normalized} is one of your keywords already.", code="keyword_taken"
        ) from None


def keyword_remove(*, actor: Membership, keyword_id: int) -> None:
    """Remove one of the organization's own keywords; the defaults cannot be removed."""
    require_admin(actor)
    deleted, _ = Keyword.objects.filter(
        pk=keyword_id, organization_id=actor.organization_id
    ).delete()
    if not deleted:
        raise NotFound("No such keyword in your organization.")

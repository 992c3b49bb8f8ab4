"""Canned responses added, edited and deleted: the one writer of CannedResponse."""

from __future__ import annotations

from django.db import transaction

from twoway.accounts.access import require_admin
from twoway.accounts.models import Membership
from twoway.canned.access import require_canned_changer
from twoway.canned.merge_fields import merge_fields_check
from twoway.canned.models import CANNED_BODY_MAX_LENGTH, CANNED_NAME_MAX_LENGTH, CannedResponse
from twoway.core.errors import InvalidInput
from twoway.core.text import NUL_MESSAGE, has_nul, is_blank


def _clean_name(name: str) -> str:
    if has_nul(name):
        raise InvalidInput(NUL_MESSAGE, code="null_character")
    name = name.strip()
    if not name:
        raise InvalidInput("Give the canned response a name.", code="name_required")
    if len(name) > CANNED_NAME_MAX_LENGTH:
        raise InvalidInput(
            f"A canned response's name can be at most {CANNED_NAME_MAX_LENGTH} characters.",
            code="name_too_long",
        )
    return name


def _clean_body(organization_id: int, body: str) -> str:
    if has_nul(body):
        raise InvalidInput(NUL_MESSAGE, code="null_character")
    if is_blank(body):
        raise InvalidInput("A canned response needs some text.", code="body_required")
    body = body.strip()
    if len(body) > CANNED_BODY_MAX_LENGTH:
        raise InvalidInput(
            f"A canned response can be at most {CANNED_BODY_MAX_LENGTH} characters.",
            code="body_too_long",
        )
    merge_fields_check(organization_id, body)
    return body


def _check_unique(canned: CannedResponse) -> None:
    clash = CannedResponse.objects.filter(
        organization_id=canned.organization_id, owner_id=canned.owner_id, name__iexact=canned.name
    ).exclude(pk=canned.pk)
    if clash.exists():
        whose = "of yours" if canned.owner_id else "of the organization's"
        raise InvalidInput(
            f"There is already a canned response {whose} named “{canned.name}”.",
            code="name_taken",
        )


@transaction.atomic
def canned_response_create(
    *, actor: Membership, name: str, body: str, personal: bool
) -> CannedResponse:
    """A personal response is the actor's own; an organization-wide one needs an admin."""
    if not personal:
        require_admin(actor)
    canned = CannedResponse(
        organization_id=actor.organization_id,
        owner=actor if personal else None,
        name=_clean_name(name),
        body=_clean_body(actor.organization_id, body),
    )
    _check_unique(canned)
    canned.save()
    return canned


@transaction.atomic
def canned_response_update(
    *,
    actor: Membership,
    canned: CannedResponse,
    name: str | None = None,
    body: str | None = None,
) -> CannedResponse:
    """Change what is given; a refused change changes nothing."""
    require_canned_changer(actor, canned)
    if name is not None:
        canned.name = _clean_name(name)
    if body is not None:
        canned.body = _clean_body(canned.organization_id, body)
    _check_unique(canned)
    canned.save()
    return canned


def canned_response_delete(*, actor: Membership, canned: CannedResponse) -> None:
    require_canned_changer(actor, canned)
    canned.delete()

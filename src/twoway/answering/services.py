"""Admins set business hours, the away message and keyword rules; each change is checked
whole before anything is saved."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.db import IntegrityError, transaction

from twoway.accounts.access import require_admin
from twoway.accounts.models import Membership
from twoway.answering.access import access_keyword_rule
from twoway.answering.hours import hours_clean
from twoway.answering.models import Answering, KeywordRule
from twoway.canned.models import CannedResponse
from twoway.compliance.keywords import KEYWORD_MAX_LENGTH, normalize_keyword
from twoway.compliance.organization_keywords import keyword_set_of
from twoway.core.errors import InvalidInput
from twoway.numbers.models import PhoneNumber


def _answering_for_update(actor: Membership) -> Answering:
    answering, _ = Answering.objects.get_or_create(organization_id=actor.organization_id)
    return answering


def _organization_response(actor: Membership, response_id: int | None) -> CannedResponse:
    found = None
    if response_id is not None:
        found = CannedResponse.objects.filter(
            pk=response_id, organization_id=actor.organization_id, owner__isnull=True
        ).first()
    if found is None:
        raise InvalidInput(
            "Pick one of your organization's canned responses (personal ones cannot answer "
            "for everyone).",
            code="response_required",
        )
    return found


def business_hours_set(
    *, actor: Membership, week: Mapping[int, Sequence[tuple[str, str]]]
) -> Answering:
    """Save the week's open ranges (admins only); a bad range saves nothing."""
    require_admin(actor)
    hours = hours_clean(week)
    with transaction.atomic():
        answering = _answering_for_update(actor)
        answering.hours = hours
        answering.save(update_fields=["hours", "updated_at"])
    return answering


def away_message_set(*, actor: Membership, enabled: bool, response_id: int | None) -> Answering:
    """Choose the away message and switch it on or off; switching on needs a response."""
    require_admin(actor)
    response = None
    if enabled or response_id is not None:
        response = _organization_response(actor, response_id)
    with transaction.atomic():
        answering = _answering_for_update(actor)
        answering.away_enabled = enabled
        answering.away_response = response
        answering.save(update_fields=["away_enabled", "away_response", "updated_at"])
    return answering


def keyword_rule_add(
    *, actor: Membership, keyword: str, response_id: int | None, phone_number_id: int | None
) -> KeywordRule:
    """A rule for the whole organization, or for one of its numbers (`phone_number_id`)."""
    require_admin(actor)
    word = normalize_keyword(keyword)
    if not word:
        raise InvalidInput("Type the word or phrase a client texts.", code="keyword_empty")
    if len(word) > KEYWORD_MAX_LENGTH:
        raise InvalidInput(
            f"A keyword is at most {KEYWORD_MAX_LENGTH} characters.", code="keyword_too_long"
        )
    # Compliance keywords act first on every text, so a rule for one would never answer.
    compliance = keyword_set_of(actor.organization_id).match(word)
    if compliance is not None:
        does = compliance.action.value.replace("_", " ")
        raise InvalidInput(
            f"{word} is a compliance keyword (it means {does}), which always acts first; "
            "choose another word.",
            code="keyword_compliance",
        )
    response = _organization_response(actor, response_id)
    number = None
    if phone_number_id is not None:
        number = PhoneNumber.objects.filter(
            pk=phone_number_id, organization_id=actor.organization_id
        ).first()
        if number is None:
            raise InvalidInput("Pick one of your numbers, or All numbers.", code="number_unknown")
    try:
        with transaction.atomic():
            return KeywordRule.objects.create(
                organization_id=actor.organization_id,
                phone_number=number,
                keyword=word,
                response=response,
            )
    except IntegrityError:
        where = f"on {number.display}" if number is not None else "for all numbers"
        raise InvalidInput(
            f"{word} has a rule {where} already; remove it first to change it.",
            code="keyword_rule_taken",
        ) from None


def keyword_rule_remove(*, actor: Membership, rule_id: int) -> None:
    access_keyword_rule(actor, rule_id).delete()

"""What the inbound pipeline asks before a text is answered: is the organization open, which
keyword rule a text matches, and, for a batch, which texts might get an answer at all."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from twoway.accounts.models import Organization
from twoway.answering.hours import closed_since, is_open
from twoway.answering.models import Answering, KeywordRule
from twoway.compliance.keywords import normalize_keyword


def answering_of(organization: Organization) -> Answering:
    """The organization's settings; unsaved defaults when its admins never saved any."""
    found = Answering.objects.filter(organization=organization).first()
    return found if found is not None else Answering(organization=organization)


def away_period_start(
    answering: Answering, organization: Organization, at: dt.datetime
) -> tuple[bool, dt.datetime | None]:
    """(whether the away message answers at `at`, when the closed period began: None for an
    organization never open)."""
    if not answering.away_enabled or answering.away_response_id is None:
        return False, None
    if is_open(answering.hours, organization.time_zone, at):
        return False, None
    return True, closed_since(answering.hours, organization.time_zone, at)


def keyword_rule_for(
    organization_id: int, phone_number_id: int | None, body: str
) -> KeywordRule | None:
    """The rule a text fires: its whole text is the rule's keyword, normalised as compliance
    keywords are; the texted number's own rule beats the organization-wide one."""
    word = normalize_keyword(body)
    if not word:
        return None
    rules = KeywordRule.objects.filter(organization_id=organization_id, keyword=word)
    found = {r.phone_number_id: r for r in rules.select_related("response", "phone_number")}
    if phone_number_id is not None and phone_number_id in found:
        return found[phone_number_id]
    return found.get(None)


@dataclass(frozen=True)
class MayAnswer:
    """An organization's answering as a batch of texts needs it: the keyword words of its
    rules and whether its away message answers now."""

    rule_words: frozenset[str] = frozenset()
    away_now: bool = False

    def may_answer(self, body: str) -> bool:
        return self.away_now or normalize_keyword(body) in self.rule_words


def may_answer_of(organization_ids: Iterable[int], at: dt.datetime) -> dict[int, MayAnswer]:
    """Each organization's `MayAnswer`, in two queries for all of them."""
    ids = set(organization_ids)
    words: dict[int, set[str]] = {pk: set() for pk in ids}
    for organization_id, keyword in KeywordRule.objects.filter(organization_id__in=ids).values_list(
        "organization_id", "keyword"
    ):
        words[organization_id].add(keyword)
    away: set[int] = set()
    for answering in Answering.objects.filter(
        organization_id__in=ids, away_enabled=True, away_response__isnull=False
    ).select_related("organization"):
        if not is_open(answering.hours, answering.organization.time_zone, at):
            away.add(answering.organization_id)
    return {pk: MayAnswer(frozenset(words[pk]), pk in away) for pk in ids}


def keyword_rules_list(organization_id: int) -> list[KeywordRule]:
    """The organization's rules by keyword, the organization-wide one before the numbers'."""
    rules = KeywordRule.objects.filter(organization_id=organization_id)
    found = list(rules.select_related("response", "phone_number"))
    found.sort(key=lambda r: (r.keyword, r.phone_number_id is not None, r.phone_number_id or 0))
    return found


def answering_verdict(
    organization: Organization, phone_number_id: int | None, text: str, action: str
) -> dict[str, object]:
    """What `twoway keywords` adds for a text whose compliance `action` it found: the keyword
    rule that answers it (None when none, or when a compliance keyword or a possible opt-out
    takes it first), and whether the away message would answer it now instead."""
    rule = keyword_rule_for(organization.pk, phone_number_id, text) if action == "none" else None
    found: dict[str, object] | None = None
    if rule is not None:
        found = {
            "keyword": rule.keyword,
            "number": rule.phone_number.number if rule.phone_number else None,
            "response": rule.response.name,
        }
    away = False
    if action == "none" and rule is None:
        away, _ = away_period_start(answering_of(organization), organization, timezone.now())
    return {"rule": found, "away": away}

"""Settings, Answering: business hours, the away message sent outside them, and keyword rules
that answer a word with a canned response; administrators only."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from twoway.accounts.access import require_admin
from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.answering.hours import WEEKDAYS
from twoway.answering.selectors import answering_of, keyword_rules_list
from twoway.answering.services import (
    away_message_set,
    business_hours_set,
    keyword_rule_add,
    keyword_rule_remove,
)
from twoway.canned.models import CannedResponse
from twoway.core.errors import InvalidInput
from twoway.numbers.models import PhoneNumber

# Ranges shown per weekday; a day with more than this many is not something a form asks for.
RANGE_SLOTS = 3


def _int_or_none(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


def _days(
    hours: dict[str, list[list[str]]], typed: dict[str, str] | None
) -> list[dict[str, object]]:
    days = []
    for index, name in enumerate(WEEKDAYS):
        if typed is not None:
            is_open = typed.get(f"open_{index}") == "on"
            slots = [
                (typed.get(f"from_{index}_{n}", ""), typed.get(f"to_{index}_{n}", ""))
                for n in range(RANGE_SLOTS)
            ]
        else:
            ranges = hours.get(str(index), [])
            is_open = bool(ranges)
            slots = [(r[0], r[1]) for r in ranges[:RANGE_SLOTS]]
            slots += [("", "")] * (RANGE_SLOTS - len(slots))
        days.append(
            {"index": index, "name": name, "open": is_open, "slots": list(enumerate(slots))}
        )
    return days


def _page(
    request: HttpRequest,
    membership: Membership,
    status: int = 200,
    *,
    typed_hours: dict[str, str] | None = None,
    **extra: object,
) -> HttpResponse:
    organization = membership.organization
    answering = answering_of(organization)
    context = {
        "membership": membership,
        "organization": organization,
        "answering": answering,
        "days": _days(answering.hours, typed_hours),
        "responses": CannedResponse.objects.filter(
            organization=organization, owner__isnull=True
        ).order_by("name", "pk"),
        "numbers": PhoneNumber.objects.filter(organization=organization).order_by("pk"),
        "rules": keyword_rules_list(organization.pk),
        **extra,
    }
    return render(request, "web/settings/answering.html", context, status=status)


@member_view
def answering(request: HttpRequest, membership: Membership) -> HttpResponse:
    require_admin(membership)
    return _page(request, membership)


@require_POST
@member_view
def hours_save(request: HttpRequest, membership: Membership) -> HttpResponse:
    week: dict[int, list[tuple[str, str]]] = {}
    for index in range(7):
        if request.POST.get(f"open_{index}") != "on":
            continue
        slots = [
            (request.POST.get(f"from_{index}_{n}", ""), request.POST.get(f"to_{index}_{n}", ""))
            for n in range(RANGE_SLOTS)
        ]
        week[index] = [(a, b) for a, b in slots if a.strip() or b.strip()]
    try:
        business_hours_set(actor=membership, week=week)
    except InvalidInput as exc:
        typed = {
            k: str(request.POST.get(k, "")) for k in request.POST if k != "csrfmiddlewaretoken"
        }
        return _page(request, membership, 422, typed_hours=typed, hours_error=exc.message)
    messages.success(request, "Business hours saved.")
    return redirect("settings_answering")


@require_POST
@member_view
def away_save(request: HttpRequest, membership: Membership) -> HttpResponse:
    enabled = request.POST.get("enabled") == "on"
    response_id = _int_or_none(request.POST.get("response", ""))
    try:
        away_message_set(actor=membership, enabled=enabled, response_id=response_id)
    except InvalidInput as exc:
        return _page(request, membership, 422, away_error=exc.message)
    messages.success(request, "The away message is on." if enabled else "The away message is off.")
    return redirect("settings_answering")


@require_POST
@member_view
def rule_add(request: HttpRequest, membership: Membership) -> HttpResponse:
    keyword = request.POST.get("keyword", "")
    response_id = _int_or_none(request.POST.get("response", ""))
    number_id = _int_or_none(request.POST.get("number", ""))
    try:
        rule = keyword_rule_add(
            actor=membership, keyword=keyword, response_id=response_id, phone_number_id=number_id
        )
    except InvalidInput as exc:
        typed = {"keyword": keyword, "response": response_id, "number": number_id}
        return _page(request, membership, 422, rule_error=exc.message, typed_rule=typed)
    messages.success(request, f"A text that is {rule.keyword} now gets “{rule.response.name}”.")
    return redirect("settings_answering")


@require_POST
@member_view
def rule_delete(request: HttpRequest, membership: Membership, rule_id: int) -> HttpResponse:
    keyword_rule_remove(actor=membership, rule_id=rule_id)
    messages.success(request, "The keyword rule is removed.")
    return redirect("settings_answering")

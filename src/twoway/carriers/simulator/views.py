"""The simulated phones: play the client's handset — see what arrives, reply, send STOP.

A member sees only the traffic between handsets and their own organization's numbers.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from twoway.accounts.access import numbers_usable_by
from twoway.accounts.models import Membership
from twoway.carriers.simulator.models import HandsetBehaviour, SimHandset, SimMessage
from twoway.carriers.simulator.network import handset_get, handset_send
from twoway.core.errors import InvalidInput, NotFound
from twoway.core.phones import InvalidPhoneNumber, normalize_phone
from twoway.web.decorators import member_view


def _business_numbers(membership: Membership) -> list[str]:
    return list(
        numbers_usable_by(membership).filter(carrier="simulator").values_list("number", flat=True)
    )


@member_view
def index(request: HttpRequest, membership: Membership) -> HttpResponse:
    numbers = _business_numbers(membership)
    handset_ids = (
        SimMessage.objects.filter(business_number__in=numbers).values("handset_id").distinct()
    )
    handsets = SimHandset.objects.filter(pk__in=handset_ids).order_by("number")
    error = ""
    if request.GET.get("number"):
        try:
            number = normalize_phone(request.GET["number"], membership.organization.country)
            return redirect("simulator:phone", number=number)
        except InvalidPhoneNumber as exc:
            error = str(exc)
    return render(
        request, "simulator/index.html", {"handsets": handsets, "error": error, "numbers": numbers}
    )


def _phone_context(membership: Membership, number: str) -> dict[str, object]:
    try:
        number = normalize_phone(number, membership.organization.country)
    except InvalidPhoneNumber:
        raise NotFound("There is no simulated phone with that number.") from None
    business_numbers = _business_numbers(membership)
    handset = handset_get(number)
    messages = list(
        SimMessage.objects.filter(handset=handset, business_number__in=business_numbers).order_by(
            "created_at", "id"
        )
    )
    last_business = messages[-1].business_number if messages else None
    return {
        "handset": handset,
        "messages": messages,
        "business_numbers": business_numbers,
        "reply_to": last_business or (business_numbers[0] if business_numbers else ""),
        "behaviours": HandsetBehaviour.choices,
    }


@member_view
def phone(request: HttpRequest, membership: Membership, number: str) -> HttpResponse:
    return render(request, "simulator/phone.html", _phone_context(membership, number))


@member_view
def phone_messages(request: HttpRequest, membership: Membership, number: str) -> HttpResponse:
    return render(request, "simulator/_screen.html", _phone_context(membership, number))


@require_POST
@member_view
def phone_send(request: HttpRequest, membership: Membership, number: str) -> HttpResponse:
    context = _phone_context(membership, number)
    handset: SimHandset = context["handset"]  # type: ignore[assignment]
    body = request.POST.get("body", "").strip()
    business_number = request.POST.get("to", "")
    if business_number not in context["business_numbers"]:  # type: ignore[operator]
        raise InvalidInput("Pick one of your organization's simulated numbers to text.")
    if not body:
        raise InvalidInput("Type a message for the phone to send.")
    handset_send(handset_number=handset.number, business_number=business_number, body=body)
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "simulator/_screen.html", _phone_context(membership, number))
    return redirect("simulator:phone", number=handset.number)


@require_POST
@member_view
def phone_behaviour(request: HttpRequest, membership: Membership, number: str) -> HttpResponse:
    context = _phone_context(membership, number)
    handset: SimHandset = context["handset"]  # type: ignore[assignment]
    behaviour = request.POST.get("behaviour", "")
    if behaviour not in HandsetBehaviour.values:
        raise InvalidInput("Unknown phone behaviour.")
    SimHandset.objects.filter(pk=handset.pk).update(behaviour=behaviour)
    return redirect("simulator:phone", number=handset.number)

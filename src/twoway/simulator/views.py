"""The simulated phones: play the client's handset — see what arrives, reply, send STOP.

A member sees only the traffic between handsets and their own organization's numbers. Who may
play a phone (text from it, change how it behaves) is decided in `play.py`: only an
organization that claimed the phone and holds all of its traffic. To anyone else the phone
page says why, and shows no control that would be refused.
"""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db.models import Q
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from twoway.accounts.access import require_admin
from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.carriers.base import INBOUND_BODY_MAX_LENGTH
from twoway.conversations.models import Message
from twoway.core.errors import InvalidInput, NotFound
from twoway.core.phones import InvalidPhoneNumber, normalize_phone
from twoway.media.services import media_check
from twoway.numbers.access import numbers_usable_by
from twoway.numbers.models import PhoneNumber
from twoway.simulator.models import HandsetBehaviour, SimHandset, SimMessage
from twoway.simulator.network import network_verification_report
from twoway.simulator.play import (
    handset_behaviour_set,
    handset_play_refusal,
    handset_play_send,
    system_numbers,
)


def _business_numbers(membership: Membership) -> list[str]:
    """The member's simulated numbers, then the shared system numbers (any handset may text
    those; what it sees from them is limited to this organization's traffic below)."""
    own = numbers_usable_by(membership).filter(carrier="simulator").values_list("number", flat=True)
    return list(own) + system_numbers()


def _visible_messages(membership: Membership, handset: SimHandset) -> Q:
    """A handset's traffic with the member's numbers, and with a system number only the texts
    this organization sent or received there, or its members played (before the worker has
    received them): other organizations share that number."""
    system = system_numbers()
    own = [n for n in _business_numbers(membership) if n not in system]
    ours = Message.objects.filter(organization_id=membership.organization_id, carrier="simulator")
    sent = ours.filter(from_number__in=system, to_number=handset.number).values_list(
        "uid", flat=True
    )
    received = ours.filter(to_number__in=system, from_number=handset.number).values_list(
        "carrier_message_id", flat=True
    )
    return (
        Q(business_number__in=own)
        | Q(business_number__in=system, idempotency_key__in=[str(uid) for uid in sent])
        | Q(business_number__in=system, sid__in=[sid for sid in received if sid])
        | Q(business_number__in=system, played_by_id=membership.organization_id)
    )


@member_view
def index(request: HttpRequest, membership: Membership) -> HttpResponse:
    numbers = _business_numbers(membership)
    system = system_numbers()
    own = [n for n in numbers if n not in system]
    handset_ids = SimMessage.objects.filter(business_number__in=own).values("handset_id").distinct()
    texted_from_system = Message.objects.filter(
        organization_id=membership.organization_id, from_number__in=system
    ).values("to_number")
    handsets = SimHandset.objects.filter(
        Q(pk__in=handset_ids) | Q(number__in=texted_from_system)
    ).order_by("number")
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


def _handset_number(membership: Membership, number: str) -> str:
    try:
        return normalize_phone(number, membership.organization.country)
    except InvalidPhoneNumber:
        raise NotFound("There is no simulated phone with that number.") from None


def _phone_context(membership: Membership, number: str) -> dict[str, object]:
    business_numbers = _business_numbers(membership)
    handset_number = _handset_number(membership, number)
    # Looking at a phone nobody texted yet writes nothing: the network knows it once texted.
    handset = SimHandset.objects.filter(number=handset_number).first()
    handset = handset or SimHandset(number=handset_number)
    messages = (
        list(
            SimMessage.objects.filter(
                _visible_messages(membership, handset), handset=handset
            ).order_by("created_at", "id")
        )
        if handset.pk
        else []
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
    context = _phone_context(membership, number)
    handset: SimHandset = context["handset"]  # type: ignore[assignment]
    refusal = handset_play_refusal(organization_id=membership.organization_id, handset=handset)
    if refusal is None and not context["business_numbers"]:
        refusal = "Your organization has no simulated number for this phone to text."
    return render(request, "simulator/phone.html", {**context, "refusal": refusal})


@member_view
def phone_messages(request: HttpRequest, membership: Membership, number: str) -> HttpResponse:
    return render(request, "simulator/_screen.html", _phone_context(membership, number))


@require_POST
@member_view
def phone_send(request: HttpRequest, membership: Membership, number: str) -> HttpResponse:
    handset_number = _handset_number(membership, number)
    body = request.POST.get("body", "").strip()
    business_number = request.POST.get("to", "")
    if business_number not in _business_numbers(membership):
        raise InvalidInput("Pick one of your organization's simulated numbers to text.")
    media = media_check(request.FILES.getlist("media"))
    if not body and not media:
        raise InvalidInput("Type a message or attach a picture for the phone to send.")
    if len(body) > INBOUND_BODY_MAX_LENGTH:
        # No phone sends a longer text, and Twoway's webhooks refuse one from a carrier.
        raise InvalidInput(
            f"A phone sends at most {INBOUND_BODY_MAX_LENGTH} characters; "
            f"this text has {len(body)}."
        )
    handset_play_send(
        organization=membership.organization,
        handset_number=handset_number,
        business_number=business_number,
        body=body,
        media=media,
    )
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "simulator/_screen.html", _phone_context(membership, number))
    return redirect("simulator:phone", number=handset_number)


@member_view
def phone_media(
    request: HttpRequest, membership: Membership, number: str, sid: str, index: int
) -> HttpResponse:
    """A picture or video on the phone's screen, to members who may see that text there."""
    handset = SimHandset.objects.filter(number=_handset_number(membership, number)).first()
    message = None
    if handset is not None:
        try:
            message = SimMessage.objects.filter(
                _visible_messages(membership, handset), handset=handset, sid=sid
            ).first()
        except ValidationError:  # not a uuid
            message = None
    if message is None or index >= len(message.media):
        raise NotFound("That picture is not on this phone.")
    item = message.media[index]
    response = FileResponse(
        default_storage.open(item["name"], "rb"), content_type=item["content_type"]
    )
    response["X-Content-Type-Options"] = "nosniff"
    return cast(HttpResponse, response)  # streamed: member_view passes any response through


@require_POST
@member_view
def phone_behaviour(request: HttpRequest, membership: Membership, number: str) -> HttpResponse:
    handset_number = _handset_number(membership, number)
    handset_behaviour_set(
        organization=membership.organization,
        handset_number=handset_number,
        behaviour=request.POST.get("behaviour", ""),
    )
    return redirect("simulator:phone", number=handset_number)


# What the simulated carriers can report about a number under review.
_VERDICTS = {
    "in_review": "Start the review",
    "verified": "Approve",
    "rejected": "Reject",
}


@member_view
def carrier_console(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Play the carriers reviewing the organization's simulated numbers: each verdict reaches
    Twoway as a verification callback would."""
    require_admin(membership)
    numbers = PhoneNumber.objects.filter(
        organization_id=membership.organization_id, carrier="simulator"
    ).order_by("pk")
    error = ""
    if request.method == "POST":
        number = numbers.filter(pk=request.POST.get("number_id") or 0).first()
        if number is None:
            raise NotFound("That phone number does not exist.")
        verdict = request.POST.get("status", "")
        reason = request.POST.get("reason", "").strip()
        # Refusals stay on the console (not an error page), beside the numbers to try again.
        if verdict not in _VERDICTS:
            error = "Pick what the carriers decided."
        elif verdict == "rejected" and not reason:
            error = "Carriers always say why they reject a number: give a reason."
        else:
            network_verification_report(number=number.number, status=verdict, reason=reason)
            messages.success(
                request,
                f"“{_VERDICTS[verdict]}” for {number.display} is reported to Twoway; reload in a "
                "moment to see it applied.",
            )
            return redirect("simulator:carrier")
    return render(
        request,
        "simulator/carrier.html",
        {"numbers": numbers, "verdicts": _VERDICTS.items(), "error": error},
        status=422 if error else 200,
    )

"""Settings, Webhooks: administrators subscribe URLs to events, see each endpoint's deliveries,
resend one, send a test event, rotate the signing secret."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from twoway.accounts.access import require_admin
from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.core.errors import InvalidInput
from twoway.webhooks.access import access_webhook_delivery, access_webhook_endpoint
from twoway.webhooks.event_types import EVENT_TYPES
from twoway.webhooks.models import WebhookEndpoint
from twoway.webhooks.selectors import deliveries_in_flight, deliveries_recent, endpoints_list
from twoway.webhooks.services import (
    delivery_resend,
    endpoint_create,
    endpoint_delete,
    endpoint_enable,
    endpoint_secret_rotate,
    endpoint_test_event_send,
    endpoint_update,
)


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"  # a secret shown once stays out of caches
    return response


def _list(
    request: HttpRequest, membership: Membership, status: int = 200, **extra: object
) -> HttpResponse:
    context = {
        "membership": membership,
        "endpoints": endpoints_list(membership),
        "event_types": EVENT_TYPES.items(),
        **extra,
    }
    return render(request, "web/settings/webhooks.html", context, status=status)


@member_view
def webhooks(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The endpoints; POST adds one and shows its secret, this once."""
    require_admin(membership)
    if request.method != "POST":
        return _list(request, membership)
    url, description = request.POST.get("url", ""), request.POST.get("description", "")
    chosen = request.POST.getlist("event_types")
    try:
        endpoint = endpoint_create(
            actor=membership, url=url, description=description, event_types=chosen
        )
    except InvalidInput as exc:
        form = {"url": url, "description": description, "chosen": chosen}
        return _list(request, membership, 422, error=exc.message, form=form)
    return _no_store(_endpoint_page(request, membership, endpoint, 201, new_secret=True))


def _endpoint_page(
    request: HttpRequest,
    membership: Membership,
    endpoint: WebhookEndpoint,
    status: int = 200,
    **extra: object,
) -> HttpResponse:
    deliveries = deliveries_recent(endpoint)
    context = {
        "membership": membership,
        "endpoint": endpoint,
        "deliveries": deliveries,
        "live": deliveries_in_flight(deliveries),
        "event_types": EVENT_TYPES.items(),
        **extra,
    }
    return render(request, "web/settings/webhook.html", context, status=status)


@member_view
def webhook(request: HttpRequest, membership: Membership, endpoint_id: int) -> HttpResponse:
    """One endpoint: its settings and delivery log; POST saves its URL, description, events."""
    endpoint = access_webhook_endpoint(membership, endpoint_id)
    if request.method != "POST":
        return _endpoint_page(request, membership, endpoint)
    try:
        endpoint_update(
            endpoint=endpoint,
            url=request.POST.get("url", ""),
            description=request.POST.get("description", ""),
            event_types=request.POST.getlist("event_types"),
        )
    except InvalidInput as exc:
        endpoint.refresh_from_db()
        return _endpoint_page(request, membership, endpoint, 422, error=exc.message)
    messages.success(request, "Saved.")
    return redirect("settings_webhook", endpoint.pk)


@member_view
def webhook_log(request: HttpRequest, membership: Membership, endpoint_id: int) -> HttpResponse:
    """The delivery log alone, which the page redraws every few seconds."""
    endpoint = access_webhook_endpoint(membership, endpoint_id)
    deliveries = deliveries_recent(endpoint)
    context = {
        "endpoint": endpoint,
        "deliveries": deliveries,
        "live": deliveries_in_flight(deliveries),
    }
    return render(request, "web/settings/_webhook_log.html", context)


@require_POST
@member_view
def webhook_rotate(request: HttpRequest, membership: Membership, endpoint_id: int) -> HttpResponse:
    endpoint = endpoint_secret_rotate(endpoint=access_webhook_endpoint(membership, endpoint_id))
    return _no_store(_endpoint_page(request, membership, endpoint, new_secret=True, rotated=True))


@require_POST
@member_view
def webhook_enable(request: HttpRequest, membership: Membership, endpoint_id: int) -> HttpResponse:
    endpoint = access_webhook_endpoint(membership, endpoint_id)
    enabled = request.POST.get("enabled") == "1"
    endpoint_enable(endpoint=endpoint, enabled=enabled)
    messages.success(
        request,
        "Enabled: it gets events again, those already owed to it first."
        if enabled
        else "Disabled: it gets no new events until it is enabled again.",
    )
    return redirect("settings_webhook", endpoint.pk)


@require_POST
@member_view
def webhook_test(request: HttpRequest, membership: Membership, endpoint_id: int) -> HttpResponse:
    endpoint = access_webhook_endpoint(membership, endpoint_id)
    endpoint_test_event_send(endpoint=endpoint)
    messages.success(request, "A test event is on its way: its answer shows in the log below.")
    return redirect("settings_webhook", endpoint.pk)


@require_POST
@member_view
def webhook_delete(request: HttpRequest, membership: Membership, endpoint_id: int) -> HttpResponse:
    endpoint = access_webhook_endpoint(membership, endpoint_id)
    endpoint_delete(endpoint=endpoint)
    messages.success(request, f"{endpoint.url} no longer receives events.")
    return redirect("settings_webhooks")


@require_POST
@member_view
def webhook_resend(
    request: HttpRequest, membership: Membership, endpoint_id: int, delivery_id: int
) -> HttpResponse:
    delivery = access_webhook_delivery(membership, endpoint_id, delivery_id)
    delivery_resend(delivery=delivery)
    messages.success(request, f"The {delivery.event_type} event is being sent again.")
    return redirect("settings_webhook", endpoint_id)

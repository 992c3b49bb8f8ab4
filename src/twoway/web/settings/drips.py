"""Settings, Drip campaigns: administrators list, add, edit and delete the organization's
campaigns. A campaign's steps are rows of one form; empty rows are left out."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from twoway.accounts.access import require_admin
from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.canned.merge_fields import merge_fields
from twoway.canned.models import CannedResponse
from twoway.core.errors import InvalidInput
from twoway.drips.access import access_drip_campaign_change
from twoway.drips.models import DRIP_MAX_STEPS, DRIP_NAME_MAX_LENGTH, DripCampaign
from twoway.drips.selectors import drip_campaigns_list
from twoway.drips.services import (
    StepInput,
    drip_campaign_create,
    drip_campaign_delete,
    drip_campaign_update,
)

# Empty step rows offered below a campaign's steps, for adding more without a script.
SPARE_ROWS = 3


def _rows(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The step rows a form shows: the steps, then spare empty ones (up to the maximum)."""
    spare = max(0, min(SPARE_ROWS, DRIP_MAX_STEPS - len(steps)))
    return steps + [{"body": "", "canned": "", "days": "", "hours": ""}] * spare


def _saved_rows(campaign: DripCampaign) -> list[dict[str, Any]]:
    return _rows(
        [
            {
                "body": step.body,
                "canned": str(step.canned_response_id or ""),
                "days": str(step.delay_days),
                "hours": str(step.delay_hours),
            }
            for step in campaign.steps.all()
        ]
    )


def _typed_rows(request: HttpRequest) -> list[dict[str, Any]]:
    rows = []
    for i in range(DRIP_MAX_STEPS):
        row = {
            key: request.POST.get(f"step-{i}-{key}", "").strip()
            for key in ("body", "canned", "days", "hours")
        }
        if any(row.values()):
            rows.append(row)
    return rows


def _whole(value: str, named: str) -> int:
    if not value:
        return 0
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(
            f"{named}: “{value[:20]}” is not a whole number of days or hours.",
            code="delay_invalid",
        ) from None
    if not 0 <= number <= 100_000:
        raise InvalidInput(f"{named}: give a delay of 0 to 365 days.", code="delay_invalid")
    return number


def _step_inputs(rows: list[dict[str, Any]]) -> list[StepInput]:
    steps = []
    for position, row in enumerate(rows, start=1):
        named = f"Step {position}"
        canned = row["canned"]
        if canned and not canned.isdigit():
            raise InvalidInput(
                f"{named}: pick one of the organization's canned responses.",
                code="canned_not_found",
            )
        steps.append(
            StepInput(
                body="" if canned else row["body"],
                canned_response_id=int(canned) if canned else None,
                delay_days=_whole(row["days"], named),
                delay_hours=_whole(row["hours"], named),
            )
        )
    return steps


def _page(
    request: HttpRequest,
    membership: Membership,
    *,
    error: str = "",
    failed: int | None = None,
    typed: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The page; a refused form (`failed`: the campaign's id, 0 for a new one) keeps what was
    typed beside the reason."""
    campaigns = [
        {
            "campaign": campaign,
            "name": typed["name"] if typed and failed == campaign.pk else campaign.name,
            "rows": typed["rows"] if typed and failed == campaign.pk else _saved_rows(campaign),
        }
        for campaign in drip_campaigns_list(membership)
    ]
    new = typed if typed and failed == 0 else {"name": "", "rows": _rows([])}
    context = {
        "membership": membership,
        "campaigns": campaigns,
        "new": new,
        "error": error,
        "failed": failed,
        "canned_responses": CannedResponse.objects.filter(
            organization_id=membership.organization_id, owner__isnull=True
        ).order_by("name", "pk"),
        "merge_fields": merge_fields(membership.organization_id),
        "name_max": DRIP_NAME_MAX_LENGTH,
        "max_steps": DRIP_MAX_STEPS,
    }
    return render(request, "web/settings/drip_campaigns.html", context, status=status)


@member_view
def drip_campaigns(request: HttpRequest, membership: Membership) -> HttpResponse:
    require_admin(membership)
    return _page(request, membership)


@require_POST
@member_view
def drip_campaign_add(request: HttpRequest, membership: Membership) -> HttpResponse:
    require_admin(membership)
    name, rows = request.POST.get("name", ""), _typed_rows(request)
    try:
        campaign = drip_campaign_create(actor=membership, name=name, steps=_step_inputs(rows))
    except InvalidInput as exc:
        typed = {"name": name, "rows": _rows(rows)}
        return _page(request, membership, error=exc.message, failed=0, typed=typed, status=422)
    messages.success(request, f"Drip campaign “{campaign.name}” added.")
    return redirect(reverse("settings_drip_campaigns") + f"#drip-{campaign.pk}")


@require_POST
@member_view
def drip_campaign_edit(
    request: HttpRequest, membership: Membership, campaign_id: int
) -> HttpResponse:
    campaign = access_drip_campaign_change(membership, campaign_id)
    name, rows = request.POST.get("name", ""), _typed_rows(request)
    try:
        drip_campaign_update(
            actor=membership, campaign=campaign, name=name, steps=_step_inputs(rows)
        )
    except InvalidInput as exc:
        typed = {"name": name, "rows": _rows(rows)}
        return _page(
            request, membership, error=exc.message, failed=campaign.pk, typed=typed, status=422
        )
    messages.success(request, f"Drip campaign “{campaign.name}” saved.")
    return redirect(reverse("settings_drip_campaigns") + f"#drip-{campaign.pk}")


@require_POST
@member_view
def drip_campaign_remove(
    request: HttpRequest, membership: Membership, campaign_id: int
) -> HttpResponse:
    campaign = access_drip_campaign_change(membership, campaign_id)
    name = campaign.name
    drip_campaign_delete(actor=membership, campaign=campaign)
    messages.success(request, f"Drip campaign “{name}” deleted; steps it already scheduled stay.")
    return redirect("settings_drip_campaigns")

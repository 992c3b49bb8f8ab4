"""Drip campaigns added, edited and deleted: the one writer of DripCampaign and DripStep."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from twoway.accounts.access import require_admin
from twoway.accounts.models import Membership
from twoway.canned.merge_fields import merge_fields_check
from twoway.canned.models import CannedResponse
from twoway.core.errors import InvalidInput
from twoway.core.text import NUL_MESSAGE, has_nul, is_blank
from twoway.drips.models import DRIP_MAX_STEPS, DRIP_NAME_MAX_LENGTH, DripCampaign, DripStep

# A step may come at most this long after applying: a scheduled text goes at most a year ahead.
MAX_DELAY_HOURS = 365 * 24


@dataclass(frozen=True)
class StepInput:
    """A step as a person typed it: its own text, or an organization canned response's."""

    body: str = ""
    canned_response_id: int | None = None
    delay_days: int = 0
    delay_hours: int = 0

    @property
    def delay_total_hours(self) -> int:
        return self.delay_days * 24 + self.delay_hours


def _clean_name(organization_id: int, name: str, campaign_id: int | None) -> str:
    if has_nul(name):
        raise InvalidInput(NUL_MESSAGE, code="null_character")
    name = name.strip()
    if not name:
        raise InvalidInput("Give the drip campaign a name.", code="name_required")
    if len(name) > DRIP_NAME_MAX_LENGTH:
        raise InvalidInput(
            f"A drip campaign's name can be at most {DRIP_NAME_MAX_LENGTH} characters.",
            code="name_too_long",
        )
    clash = DripCampaign.objects.filter(organization_id=organization_id, name__iexact=name)
    if campaign_id is not None:
        clash = clash.exclude(pk=campaign_id)
    if clash.exists():
        raise InvalidInput(f"There is already a drip campaign named “{name}”.", code="name_taken")
    return name


def _clean_steps(actor: Membership, steps: list[StepInput]) -> list[DripStep]:
    if not steps:
        raise InvalidInput("Give the drip campaign at least one step.", code="steps_required")
    if len(steps) > DRIP_MAX_STEPS:
        raise InvalidInput(
            f"A drip campaign can have at most {DRIP_MAX_STEPS} steps.", code="too_many_steps"
        )
    organization = actor.organization
    cleaned: list[DripStep] = []
    previous = 0
    for position, step in enumerate(steps, start=1):
        named = f"Step {position}"
        if step.delay_days < 0 or step.delay_hours < 0:
            raise InvalidInput(f"{named}: a delay cannot be negative.", code="delay_invalid")
        delay = step.delay_total_hours
        if delay < 1:
            raise InvalidInput(
                f"{named}: give a delay of at least one hour after applying.",
                code="delay_invalid",
            )
        if delay > MAX_DELAY_HOURS:
            raise InvalidInput(
                f"{named}: a step can come at most 365 days after applying.", code="delay_invalid"
            )
        if delay <= previous:
            raise InvalidInput(
                f"{named} must come later after applying than step {position - 1} "
                "(delays count from the moment the campaign is applied).",
                code="delay_order",
            )
        previous = delay
        canned = None
        body = ""
        if step.canned_response_id is not None:
            canned = CannedResponse.objects.filter(
                organization_id=actor.organization_id,
                owner__isnull=True,
                pk=step.canned_response_id,
            ).first()
            if canned is None:
                raise InvalidInput(
                    f"{named}: pick one of the organization's canned responses.",
                    code="canned_not_found",
                )
        else:
            if has_nul(step.body):
                raise InvalidInput(f"{named}: {NUL_MESSAGE}", code="null_character")
            if is_blank(step.body):
                raise InvalidInput(
                    f"{named} needs some text or a canned response.", code="body_required"
                )
            body = step.body.strip()
            if len(body) > organization.max_message_length:
                raise InvalidInput(
                    f"{named} is {len(body)} characters long; this organization allows at most "
                    f"{organization.max_message_length}.",
                    code="too_long",
                )
            try:
                merge_fields_check(actor.organization_id, body)
            except InvalidInput as exc:
                raise InvalidInput(f"{named}: {exc.message}", code=exc.code) from None
        cleaned.append(
            DripStep(
                position=position,
                body=body,
                canned_response=canned,
                delay_days=step.delay_days,
                delay_hours=step.delay_hours,
            )
        )
    return cleaned


@transaction.atomic
def drip_campaign_create(*, actor: Membership, name: str, steps: list[StepInput]) -> DripCampaign:
    require_admin(actor)
    campaign = DripCampaign(
        organization_id=actor.organization_id,
        name=_clean_name(actor.organization_id, name, None),
    )
    cleaned = _clean_steps(actor, steps)
    campaign.save()
    _steps_save(campaign, cleaned)
    return campaign


@transaction.atomic
def drip_campaign_update(
    *, actor: Membership, campaign: DripCampaign, name: str, steps: list[StepInput]
) -> DripCampaign:
    """Replace the name and steps; what was applied already stays scheduled as it was."""
    require_admin(actor)
    campaign.name = _clean_name(campaign.organization_id, name, campaign.pk)
    cleaned = _clean_steps(actor, steps)
    campaign.save()
    campaign.steps.all().delete()
    _steps_save(campaign, cleaned)
    return campaign


def drip_campaign_delete(*, actor: Membership, campaign: DripCampaign) -> None:
    """Delete a campaign; steps it scheduled already stay scheduled (cancel them in the
    thread)."""
    require_admin(actor)
    campaign.delete()


def _steps_save(campaign: DripCampaign, steps: list[DripStep]) -> None:
    for step in steps:
        step.campaign = campaign
    DripStep.objects.bulk_create(steps)

"""Drip campaigns: the organization's, listed with their steps, for applying one to a
conversation's contact (`POST /conversations/{id}/drips`). Administrators keep them in Settings.

No `from __future__ import annotations` here: @paginate wraps the list view (see
conversations.py).
"""

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router
from ninja.pagination import paginate
from pydantic import Field, field_validator

from twoway.api.auth import request_membership
from twoway.api.pagination import Pagination
from twoway.api.schemas import ERROR_RESPONSES, OutputSchema
from twoway.drips.models import DripCampaign
from twoway.drips.selectors import drip_campaigns_list

router = Router(tags=["drips"])


class DripStepOut(OutputSchema):
    position: int
    body: str = Field(description="The step's own text; empty when it sends a canned response.")
    canned_response_id: int | None = Field(
        description="The organization's canned response it sends, as it reads when applied."
    )
    delay_days: int
    delay_hours: int


class DripCampaignOut(OutputSchema):
    id: int
    name: str
    created_at: datetime
    steps: list[DripStepOut] = Field(description="In order; delays count from applying.")

    @field_validator("steps", mode="before")
    @classmethod
    def _steps(cls, value: Any) -> Any:
        # The campaign's related manager (prefetched by the selector), read as a list.
        return list(value.all()) if hasattr(value, "all") else value


@router.get(
    "",
    response={200: list[DripCampaignOut], **ERROR_RESPONSES},
    operation_id="drip_campaign_list",
)
@paginate(Pagination)
def list_drip_campaigns(request: HttpRequest) -> QuerySet[DripCampaign]:
    """The organization's drip campaigns by name, each with its steps."""
    return drip_campaigns_list(request_membership(request))

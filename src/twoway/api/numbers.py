"""The organization's senders, so an integration can pick a `from`."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router

from twoway.api.access import org_phone_numbers
from twoway.api.auth import request_organization
from twoway.api.schemas import ERROR_RESPONSES, PhoneNumberOut
from twoway.numbers.models import PhoneNumber

router = Router(tags=["numbers"])


@router.get("", response={200: list[PhoneNumberOut], **ERROR_RESPONSES}, operation_id="number_list")
def list_numbers(request: HttpRequest) -> QuerySet[PhoneNumber]:
    """All numbers of the organization (a handful at most, so not paginated)."""
    return org_phone_numbers(request_organization(request))

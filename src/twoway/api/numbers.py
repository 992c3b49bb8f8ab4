"""The senders the key's owner may use, so an integration can pick a `from`."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router

from twoway.api.auth import request_membership
from twoway.api.schemas import ERROR_RESPONSES, PhoneNumberOut
from twoway.numbers.access import numbers_usable_by
from twoway.numbers.models import PhoneNumber

router = Router(tags=["numbers"])


@router.get("", response={200: list[PhoneNumberOut], **ERROR_RESPONSES}, operation_id="number_list")
def list_numbers(request: HttpRequest) -> QuerySet[PhoneNumber]:
    """The numbers the key's owner may send from: all of the organization's for an
    administrator (a handful at most, so not paginated)."""
    return numbers_usable_by(request_membership(request))

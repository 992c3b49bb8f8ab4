"""Handing a claimed message to its carrier (the middle of claim → send → record)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from twoway.carriers.base import CarrierError
from twoway.carriers.registry import UnknownCarrierAccount, carrier_for_account
from twoway.messaging.claiming import ClaimedSend
from twoway.messaging.recording import SendOutcome

log = logging.getLogger("twoway.messaging.sending")


def send_to_carrier(claim: ClaimedSend, departed: Callable[[], None] | None = None) -> SendOutcome:
    """Hand the message to its carrier now; what happened, for `record_outcomes`. `departed` is
    called once the request has left (at the start of the send for adapters that cannot tell),
    unless the send fails before."""
    try:
        carrier = carrier_for_account(claim.carrier_account_id, claim.carrier)
        request = claim.request
        if departed is not None:
            if carrier.reports_departure:
                request = dataclasses.replace(request, departed=departed)
            else:
                departed()
        result = carrier.send(request)
    except CarrierError as exc:
        return SendOutcome(claim.message_id, claim.attempt, error=exc)
    except UnknownCarrierAccount as exc:  # the number's account was deleted meanwhile
        error = CarrierError(str(exc), code="config", transient=False)
        return SendOutcome(claim.message_id, claim.attempt, error=error)
    except Exception as exc:  # an adapter bug must not kill the worker or lose the message
        log.exception("Carrier %s crashed sending message %s", claim.carrier, claim.message_id)
        error = CarrierError(str(exc), transient=True)
        return SendOutcome(claim.message_id, claim.attempt, error=error)
    return SendOutcome(claim.message_id, claim.attempt, result=result)

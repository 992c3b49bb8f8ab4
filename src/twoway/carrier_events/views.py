"""Carrier webhooks: verify → store raw, once → answer. Processing happens in the worker.

Under `twoway web` a POST to a webhook takes the web server's own path (`twoway.asgi`), which
stores concurrent webhooks together; this view serves every other way in (tests, another WSGI or
ASGI server) with the same answers (`webhooks.webhook_answer`).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from twoway.carrier_events.store import (
    carrier_event_record,
    carrier_event_row_unparsed,
    carrier_events_store,
)
from twoway.carrier_events.webhooks import webhook_answer, webhook_request, webhook_target


@csrf_exempt
@require_POST
def carrier_webhook(request: HttpRequest, carrier: str, account: str | None = None) -> HttpResponse:
    headers = {name.lower(): value for name, value in request.headers.items()}
    webhook = webhook_request(request, headers, request.body)
    answer = webhook_answer(
        carrier,
        webhook,
        request.META.get("REMOTE_ADDR", ""),
        target=webhook_target(carrier, account),
        account=account,
    )
    if answer.event is not None:
        carrier_event_record(carrier, answer.event, carrier_account_id=answer.carrier_account_id)
    elif answer.unparsed is not None:
        row = carrier_event_row_unparsed(
            carrier, answer.unparsed, carrier_account_id=answer.carrier_account_id
        )
        carrier_events_store([row])
    response = HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
    # The webhook path has no CommonMiddleware to add the length; without it the answer goes out
    # chunked.
    response["Content-Length"] = str(len(response.content))
    return response

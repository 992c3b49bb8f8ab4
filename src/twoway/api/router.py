"""The REST API (django-ninja): OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs."""

from __future__ import annotations

from ninja import NinjaAPI

from twoway.api import (
    canned_responses,
    consent,
    contacts,
    conversations,
    drip_campaigns,
    drips,
    messages,
    numbers,
    search,
    webhooks,
)
from twoway.api.auth import ApiKeyAuth
from twoway.api.errors import install_error_handlers

api = NinjaAPI(
    title="Twoway API",
    version="1",
    description=(
        "Two-way business texting. Authenticate with a personal API key (Settings, API keys): "
        "`Authorization: Bearer <key>`. A key acts as the person who created it, with their "
        'role, numbers and permission to send. Errors are `{"error": {"code", "message"}}`, '
        "except 422 for a request that does not match this schema."
    ),
    urls_namespace="api",
    # Every operation needs a key; the schema and docs pages stay public.
    auth=ApiKeyAuth(),
)
install_error_handlers(api)

api.add_router("/messages", messages.router)
api.add_router("/conversations", conversations.router)
api.add_router("/conversations", drips.router)
api.add_router("/drip-campaigns", drip_campaigns.router)
api.add_router("/numbers", numbers.router)
api.add_router("/contacts", contacts.router)
api.add_router("/search", search.router)
api.add_router("/canned-responses", canned_responses.router)
api.add_router("/consent", consent.router)
api.add_router("/webhooks", webhooks.router)

"""The REST API (django-ninja): OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(title="Twoway API", version="1", urls_namespace="api")

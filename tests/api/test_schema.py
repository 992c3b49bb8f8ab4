"""Schemathesis: generated requests for every operation must get answers the schema declares."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis import checks

from twoway.accounts.models import ApiKey, Membership
from twoway.numbers.models import PhoneNumber

# Hypothesis caches (unicode tables, constants) go to the data dir, not into the repository.
set_hypothesis_home_dir(django_settings.DATA_DIR / "hypothesis")

# An explicit config, so no schemathesis.toml lying around changes what this test checks.
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            # A schema-valid request may still be refused with 400: whether a string is a real
            # phone number, or short enough for *this* organization, is for the service to say.
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "400", "401", "403", "404"],
            },
        },
        "generation": {
            # Unknown query parameters are ignored, as most HTTP APIs do (cache busters,
            # tracing): not a schema violation for us. (Unknown keys of a body are refused.)
            "allow-extra-parameters": False,
            # NUL characters in generated strings: PostgreSQL cannot store them, so each must be
            # refused before it reaches the database (422), on either database.
            "allow-x00": True,
        },
        "operations": [
            {
                # The export range (at most 7 days, end not before start) is a rule between two
                # values that JSON Schema cannot state: the schema describes it in words and a
                # request outside it is a 422.
                "include-operation-id": "conversation_export",
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2xx", "400", "401", "403", "404", "422"],
                    },
                },
            },
            *(
                {
                    # A canned response's text naming an unknown `{merge_field}` is a 422: which
                    # fields exist is the organization's, not the schema's, to say.
                    "include-operation-id": operation,
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": ["2xx", "400", "401", "403", "404", "422"],
                        },
                    },
                }
                for operation in ("canned_response_create", "canned_response_update")
            ),
        ],
    }
)
# Every check schemathesis has, response-schema conformance included, not only the defaults of
# the day: listed so that none is dropped by a change of defaults without this test saying so.
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "positive_data_acceptance",
    "negative_data_rejection",
    "missing_required_header",
    "ignored_auth",
    "unsupported_method",
]
# Loaded in process through Django's WSGI handler: no server, and the requests run on the test's
# database connection, inside its transaction.
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", get_wsgi_application(), config=CONFIG
)


@pytest.fixture
def auth_headers(admin: Membership, number: PhoneNumber, settings: Any) -> Iterator[dict[str, str]]:
    """A real key of an administrator of an organization with a number, so valid requests
    can succeed."""
    _, raw = ApiKey.issue(owner=admin, name="schemathesis")
    # The authentication checks send wrong keys on purpose, many of them: the brake on guessing
    # would soon answer 429 to everything and leave the rest of the run testing nothing.
    settings.API_KEY_FAILURE_LIMIT = 10**9
    # As Django's own test client does: closing the connection around each request would end
    # the test's transaction.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield {"Authorization": f"Bearer {raw}"}
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    # Small for the suite; raise it (e.g. 1000) for a deeper local hunt.
    max_examples=int(os.environ.get("TWOWAY_SCHEMATHESIS_EXAMPLES", "15")),
    deadline=None,
    database=None,  # no example database: every run starts fresh
    # One database transaction for all examples of an operation is what we want here.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_schema(case: schemathesis.Case, auth_headers: dict[str, str]) -> None:
    case.call_and_validate(headers=auth_headers, checks=[getattr(checks, c) for c in CHECKS])

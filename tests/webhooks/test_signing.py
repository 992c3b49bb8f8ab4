"""Signatures by the Standard Webhooks scheme, checked with the scheme's reference library."""

from __future__ import annotations

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from twoway.webhooks.signing import secret_new, signature, signed_headers


def test_a_signature_verifies_with_the_reference_library() -> None:
    import time

    secret = secret_new()
    assert secret.startswith("whsec_")
    now = int(time.time())
    body = '{"type":"message.received","data":{"preview":"Hé 👋"}}'
    headers = signed_headers([secret], "msg_1", now, body)
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(body, headers) == {
        "type": "message.received",
        "data": {"preview": "Hé 👋"},
    }


def test_another_secret_or_a_changed_body_does_not_verify() -> None:
    import time

    now = int(time.time())
    headers = signed_headers([secret_new()], "msg_1", now, '{"a":1}')
    with pytest.raises(WebhookVerificationError):
        Webhook(secret_new()).verify('{"a":1}', headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret_new()).verify('{"a":2}', headers)


def test_the_signature_covers_id_timestamp_and_body() -> None:
    secret = secret_new()
    base = signature(secret, "msg_1", 100, "{}")
    assert base != signature(secret, "msg_2", 100, "{}")
    assert base != signature(secret, "msg_1", 101, "{}")
    assert base == signature(secret, "msg_1", 100, "{}")

"""`twoway serve` says when TWOWAY_PUBLIC_URL, which e-mails' links and carriers need, is unset."""

from __future__ import annotations

from typing import Any

from twoway.cli import public_url_notice


def test_serve_asks_for_the_public_url_when_it_is_unset(settings: Any) -> None:
    settings.TWOWAY_PUBLIC_URL = ""
    assert "TWOWAY_PUBLIC_URL is not set" in public_url_notice()
    settings.TWOWAY_PUBLIC_URL = "https://texts.example.com"
    assert public_url_notice() == ""

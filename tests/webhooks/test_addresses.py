"""Webhooks go to public http(s) addresses only, unless the installation allows private ones."""

from __future__ import annotations

from typing import Any

import pytest

from twoway.core.errors import InvalidInput
from twoway.webhooks.addresses import url_check


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://[::1]:8080/hook",
        "http://169.254.169.254/latest/meta-data",
        "https://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.5.4/hook",
        "http://localhost:9000/hook",  # a name that resolves to loopback
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput, match="webhooks go only to public addresses"):
        url_check(url)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://example.com/x", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("https://", "http:// or https://"),
        ("https://user:pw@example.com/", "user name or password"),
        ("https://no-such-host.invalid/", "could not be found"),
        ("https://example.com:99999/", "port"),
    ],
)
def test_urls_that_are_no_http_address_are_refused(url: str, why: str) -> None:
    with pytest.raises(InvalidInput, match=why):
        url_check(url)


def test_a_public_address_is_accepted() -> None:
    host, port, addresses = url_check("https://93.184.215.14/hook")
    assert (host, port, addresses) == ("93.184.215.14", 443, ["93.184.215.14"])


def test_the_setting_allows_private_addresses(settings: Any) -> None:
    settings.TWOWAY_WEBHOOKS_ALLOW_PRIVATE = True
    assert url_check("http://localhost:9000/hook")[1] == 9000
    assert url_check("http://10.0.0.1/")[2] == ["10.0.0.1"]

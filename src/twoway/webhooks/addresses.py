"""Where a webhook may go: an http(s) URL whose host resolves only to public addresses.

Loopback, private, link-local (cloud metadata), multicast and reserved addresses are refused
unless TWOWAY_WEBHOOKS_ALLOW_PRIVATE is on. The check runs when an endpoint is saved and again
before every try, against the addresses the request then connects to, so a name that later
resolves elsewhere (DNS rebinding) is refused too.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from twoway.core.errors import InvalidInput


def url_check(url: str) -> tuple[str, int, list[str]]:
    """(host, port, addresses) of a URL fit to receive webhooks; InvalidInput saying why not."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("The URL must start with http:// or https:// and name a host.")
    if parts.username or parts.password:
        raise InvalidInput("The URL must not hold a user name or password.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise InvalidInput("The URL's port is not a number from 1 to 65535.") from exc
    host = parts.hostname
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise InvalidInput(f"The host {host} could not be found.") from exc
    addresses = sorted({str(info[4][0]) for info in infos})
    if not settings.TWOWAY_WEBHOOKS_ALLOW_PRIVATE:
        for address in addresses:
            if not _public(address):
                raise InvalidInput(
                    f"{host} leads to {address}, a private, loopback or link-local address: "
                    "webhooks go only to public addresses."
                )
    return host, port, addresses


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast

"""Keep-alive HTTP/1.1 connections for a carrier's send path: one per thread and origin.

The worker sends from several threads at once. A shared connection pool makes them take its
lock and walk its connections on every request, and with the GIL passed between eight threads
that costs more than the request itself: against the fake carrier, 600 µs of client CPU per
request through httpcore's pool with 8 threads, 180 µs through one `http.client` connection per
thread (docs/performance.md). Each send thread here keeps its own connection to each
origin; nothing is shared but the list `close()` closes.

A kept connection the server has closed meanwhile would fail the next request, and whether the
server saw that request is then unknown: for a carrier without idempotency keys, a retry could
text the person twice. So a connection is only reused while it has been idle less than
`keepalive_expiry` and its socket has nothing to read (a closed one reads as end-of-file);
otherwise the request goes out on a new connection.
"""

from __future__ import annotations

import http.client
import select
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx


class UnusableURL(ValueError):
    """The URL is not http(s)://host...: no request will ever work."""


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    content: bytes


@dataclass
class _Kept:
    connection: http.client.HTTPConnection
    idle_since: float


class KeepAliveConnections:
    def __init__(self, timeout: float, keepalive_expiry: float = 5.0) -> None:
        self.timeout = timeout
        self.keepalive_expiry = keepalive_expiry
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[http.client.HTTPConnection] = []
        self._tls: ssl.SSLContext | None = None

    def post(
        self,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        departed: Callable[[], None] | None = None,
    ) -> Response:
        """POST `body`; `departed` is called once the whole request is written.

        Raises UnusableURL, OSError (refused, reset, timed out) or http.client.HTTPException
        (a malformed answer); the connection is dropped then.
        """
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UnusableURL(f"{url!r} is not an http:// or https:// URL")
        origin = (parts.scheme, parts.netloc)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection = self._connection(origin, parts.hostname, parts.port)
        try:
            connection.request("POST", target or "/", body=body, headers=dict(headers))
            if departed is not None:
                departed()
            answer = connection.getresponse()
            response = Response(answer.status, answer.reason, answer.read())
        except BaseException:
            self._forget(connection)  # taken out of this thread's kept ones above
            raise
        self._kept()[origin] = _Kept(connection, time.monotonic())
        return response

    def close(self) -> None:
        with self._lock:
            connections, self._open = self._open, []
        for connection in connections:
            connection.close()

    def _kept(self) -> dict[tuple[str, str], _Kept]:
        kept: dict[tuple[str, str], _Kept] | None = getattr(self._local, "kept", None)
        if kept is None:
            kept = self._local.kept = {}
        return kept

    def _connection(
        self, origin: tuple[str, str], host: str, port: int | None
    ) -> http.client.HTTPConnection:
        kept = self._kept().pop(origin, None)
        if kept is not None:
            if self._reusable(kept):
                return kept.connection
            self._forget(kept.connection)
        connection: http.client.HTTPConnection
        if origin[0] == "https":
            connection = http.client.HTTPSConnection(
                host, port, timeout=self.timeout, context=self._tls_context()
            )
        else:
            connection = http.client.HTTPConnection(host, port, timeout=self.timeout)
        with self._lock:
            self._open.append(connection)
        return connection

    def _reusable(self, kept: _Kept) -> bool:
        sock = kept.connection.sock
        if sock is None:  # the server asked to close after the last answer
            return False
        if time.monotonic() - kept.idle_since >= self.keepalive_expiry:
            return False
        try:
            readable, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable  # end-of-file (closed by the server) or stray bytes

    def _forget(self, connection: http.client.HTTPConnection) -> None:
        connection.close()
        with self._lock:
            if connection in self._open:
                self._open.remove(connection)

    def _tls_context(self) -> ssl.SSLContext:
        # The same verification as httpx's (certifi's CA bundle), built once.
        if self._tls is None:
            self._tls = httpx.create_ssl_context()
        return self._tls

"""The load generator, run as its own process: `python -m bench.loadgen SPEC.json OUT.json`.

A minimal HTTP/1.1 client on asyncio streams (uvloop when installed) with keep-alive
connections (not reused once idle for `KEEPALIVE_EXPIRY` or closed by the server); it only has
to speak to Twoway's own uvicorn on 127.0.0.1, and it costs far less CPU per request than a
general client, which matters when it shares two cores with the server.

Two modes:
- closed loop: `concurrency` connections, each sends its next request as soon as the previous
  answer arrived; measures the most the server accepts at that concurrency.
- open loop: request i is due at start + i / `rate`, whatever the server does; latency counts from
  the moment a request was due, so a slow server cannot hide its queueing (no coordinated
  omission). Connections come from a pool that grows up to `max_connections`. When more than
  `max_backlog` seconds' worth of requests are outstanding the server cannot keep up: the load
  stops there (`saturated`), requests not yet sent are dropped, the ones sent are awaited.

The spec (JSON): host, port, mode, concurrency | rate, duration (s, a hard bound on sending),
timeout (s, per request), and either `requests_file` (JSON lines {"method", "path", "headers",
"body"}) or `request` (one request repeated `count` times); `keep_bodies` (default false) keeps
every answer's body. The output (JSON): t0, t1 (epoch seconds), `results`, one [index, sent_at
(epoch s), latency (s), status] per request made (status 0: no answer, a connection error or
timeout), `errors`, those failures counted by kind, `saturated` (open loop only), and with
`keep_bodies` `bodies`, request index (as a string) -> the answer's body (UTF-8, undecodable bytes
replaced).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

# A kept connection idle this long is not reused: uvicorn closes one idle for 5 s
# (`timeout_keep_alive`), and a request written as the server closes it gets no answer. A
# connection whose close has already arrived is not reused either.
KEEPALIVE_EXPIRY = 4.0


def encode(request: dict[str, Any], host: str, port: int) -> bytes:
    body = request.get("body", "").encode()
    lines = [f"{request.get('method', 'GET')} {request['path']} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{name}: {value}" for name, value in request.get("headers", {}).items()]
    if body or request.get("method", "GET") != "GET":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = time.perf_counter()

    def reusable(self) -> bool:
        fresh = time.perf_counter() - self.idle_since < KEEPALIVE_EXPIRY
        return fresh and not self.reader.at_eof() and not self.writer.is_closing()

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def roundtrip(self, data: bytes, keep_body: bool = False) -> tuple[int, bool, bytes]:
        """Send one request, read its whole answer; (status, keep the connection, the body when
        `keep_body`, else b"")."""
        self.writer.write(data)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        chunked = False
        keep = True
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                keep = False
        body = b""
        if chunked:
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if keep_body:
                    chunks.append(chunk[:-2])
                if size == 0:
                    break
            body = b"".join(chunks)
        elif length:
            chunk = await self.reader.readexactly(length)
            if keep_body:
                body = chunk
        return status, keep, body

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class Load:
    def __init__(self, spec: dict[str, Any], payloads: list[bytes]) -> None:
        self.host = spec.get("host", "127.0.0.1")
        self.port = int(spec["port"])
        self.timeout = float(spec.get("timeout", 30))
        self.duration = float(spec.get("duration", 60))
        self.payloads = payloads
        self.results: list[tuple[int, float, float, int]] = []
        self.errors: Counter[str] = Counter()
        self.saturated = False
        self.keep_bodies = bool(spec.get("keep_bodies", False))
        self.bodies: dict[int, str] = {}

    def payload(self, index: int) -> bytes:
        return self.payloads[index % len(self.payloads)]

    async def _one(self, conn: Connection | None, index: int) -> tuple[Connection | None, int]:
        """One request on `conn` (opened when None); the connection to reuse, and the status."""
        if conn is not None and not conn.reusable():
            conn.close()
            conn = None
        try:
            if conn is None:
                conn = await Connection.open(self.host, self.port)
            status, keep, body = await asyncio.wait_for(
                conn.roundtrip(self.payload(index), self.keep_bodies), self.timeout
            )
            conn.idle_since = time.perf_counter()
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            self.errors[f"{type(exc).__name__}: {exc}"[:120]] += 1
            if conn is not None:
                conn.close()
            return None, 0
        if self.keep_bodies:
            self.bodies[index] = body.decode(errors="replace")
        if not keep:
            conn.close()
            conn = None
        return conn, status

    async def closed_loop(self, concurrency: int, total: int) -> None:
        indexes = iter(range(total))
        deadline = time.perf_counter() + self.duration

        async def client() -> None:
            conn: Connection | None = None
            with contextlib.suppress(OSError):
                conn = await Connection.open(self.host, self.port)
            for index in indexes:  # shared by all clients: each index is sent once
                if time.perf_counter() > deadline:
                    break
                sent_at = time.time()
                started = time.perf_counter()
                conn, status = await self._one(conn, index)
                self.results.append((index, sent_at, time.perf_counter() - started, status))
            if conn is not None:
                conn.close()

        await asyncio.gather(*(client() for _ in range(concurrency)))

    async def open_loop(
        self, rate: float, total: int, max_connections: int, max_backlog: float
    ) -> None:
        idle: list[Connection] = []
        slots = asyncio.Semaphore(max_connections)
        finished = 0
        for _ in range(min(16, max_connections)):
            with contextlib.suppress(OSError):
                idle.append(await Connection.open(self.host, self.port))

        async def one(index: int, due_perf: float, due_wall: float) -> None:
            nonlocal finished
            async with slots:
                if self.saturated:
                    finished += 1
                    return  # never sent: the load stopped before this request's turn
                conn = idle.pop() if idle else None
                conn, status = await self._one(conn, index)
                if conn is not None:
                    idle.append(conn)
            finished += 1
            self.results.append((index, due_wall, time.perf_counter() - due_perf, status))

        tasks = []
        start_perf = time.perf_counter() + 0.05
        start_wall = time.time() + 0.05
        for index in range(total):
            offset = index / rate
            if offset > self.duration:
                break
            if len(tasks) - finished > rate * max_backlog:
                self.saturated = True
                break
            delay = start_perf + offset - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(index, start_perf + offset, start_wall + offset)))
        await asyncio.gather(*tasks)
        for conn in idle:
            conn.close()


def load_payloads(spec: dict[str, Any]) -> tuple[list[bytes], int]:
    host, port = spec.get("host", "127.0.0.1"), int(spec["port"])
    if "requests_file" in spec:
        with open(spec["requests_file"]) as lines:
            payloads = [encode(json.loads(line), host, port) for line in lines if line.strip()]
        return payloads, int(spec.get("count", len(payloads)))
    return [encode(spec["request"], host, port)], int(spec["count"])


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    payloads, total = load_payloads(spec)
    load = Load(spec, payloads)
    t0 = time.time()
    if spec["mode"] == "closed":
        await load.closed_loop(int(spec["concurrency"]), total)
    elif spec["mode"] == "open":
        await load.open_loop(
            float(spec["rate"]),
            total,
            int(spec.get("max_connections", 256)),
            float(spec.get("max_backlog", 2.0)),
        )
    else:
        raise ValueError(f"unknown mode {spec['mode']!r}")
    out: dict[str, Any] = {
        "t0": t0,
        "t1": time.time(),
        "results": sorted(load.results),
        "errors": load.errors,
        "saturated": load.saturated,
    }
    if load.keep_bodies:
        out["bodies"] = {str(index): body for index, body in load.bodies.items()}
    return out


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text())
    try:
        import uvloop
    except ImportError:
        out = asyncio.run(run(spec))
    else:
        out = uvloop.run(run(spec))
    Path(argv[1]).write_text(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

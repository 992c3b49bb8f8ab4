"""The load generator's kept connections: one the server has closed is not reused."""

from __future__ import annotations

import asyncio

from bench import loadgen


async def _hang_up_after_each_answer(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    # As uvicorn does with a connection idle past its keep-alive timeout, without saying so.
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    await writer.drain()
    writer.close()


async def _two_requests_on_one_connection() -> tuple[list[int], dict[str, int]]:
    server = await asyncio.start_server(_hang_up_after_each_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    request = loadgen.encode({"method": "GET", "path": "/"}, "127.0.0.1", port)
    load = loadgen.Load({"port": port, "timeout": 5}, [request])
    conn, first = await load._one(None, 0)
    await asyncio.sleep(0.2)  # the server's close arrives
    conn, second = await load._one(conn, 1)
    if conn is not None:
        conn.close()
    server.close()
    await server.wait_closed()
    return [first, second], dict(load.errors)


def test_a_connection_the_server_closed_is_replaced() -> None:
    statuses, errors = asyncio.run(_two_requests_on_one_connection())
    assert statuses == [200, 200]
    assert errors == {}


def test_a_connection_idle_past_the_expiry_is_not_reused(monkeypatch) -> None:
    async def scenario() -> bool:
        server = await asyncio.start_server(_hang_up_after_each_answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        conn = await loadgen.Connection.open("127.0.0.1", port)
        fresh = conn.reusable()
        monkeypatch.setattr(loadgen, "KEEPALIVE_EXPIRY", 0.05)
        await asyncio.sleep(0.1)
        stale = conn.reusable()
        conn.close()
        server.close()
        await server.wait_closed()
        return fresh and not stale

    assert asyncio.run(scenario())

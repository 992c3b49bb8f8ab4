"""The send benchmark's reading of answers, deliveries and CPU, without a server: what it counts
as accepted, lost or wrong, and that a missing endpoint is a failed result, not a crash."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

from bench.harness import CpuMeter, proc_cpu_seconds
from bench.scenarios import Context, Options, Result
from bench.scenarios.send import Phase, PhaseRun, Plan, Row, Text, _report

from bench import loadgen

NOW = 1_700_000_000.0
CPU = {"web": 1.0, "worker": 1.0, "fake_carrier": 0.1, "db": 0.0, "machine": 2.5, "runner": 0.0}


def _context(tmp_path: Path) -> Context:
    return Context(db="sqlite", size="smoke", workdir=tmp_path, pg_admin_url="", options=Options())


def _message(text: Text, uid: str) -> dict[str, Any]:
    return {"id": uid, "to": text.to, "from": text.sender, "body": text.body, "status": "queued"}


def _run(
    phase: Phase,
    texts: list[Text],
    results: list[list[Any]],
    bodies: dict[str, str],
    rows: list[Row],
    deliveries: list[dict[str, Any]],
) -> PhaseRun:
    out = {"t0": NOW, "t1": NOW + 1, "results": results, "bodies": bodies}
    return PhaseRun(phase, texts, out, True, CPU, True, 0.1, deliveries, rows, 1.0)


def _by_metric(results: list[Result]) -> dict[str, Result]:
    return {r.metric: r for r in results}


def _sent(text: Text, uid: str) -> tuple[Row, dict[str, Any]]:
    row = Row(uid, text.to, text.body, "sent", NOW + 0.01, "out")
    delivery = {"idempotency_key": uid, "to": text.to, "body": text.body, "at": NOW + 0.05}
    return row, delivery


def test_texts_go_to_new_numbers_with_one_segment_bodies() -> None:
    texts = Plan().texts(500)
    assert len({t.to for t in texts}) == 500
    assert len({t.body for t in texts}) == 500
    assert {len(t.body) for t in texts} == {71}
    assert len({t.sender for t in texts}) == 10


def test_a_batch_endpoint_that_is_not_there_is_a_failed_result(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    phase = Phase("batch", 2, 2, 1.0, per_request=3)
    texts = Plan().texts(6)
    results = [[0, NOW, 0.01, 404], [1, NOW, 0.01, 404]]
    bodies = {"0": '{"detail": "Not Found"}', "1": '{"detail": "Not Found"}'}
    _report(ctx, _run(phase, texts, results, bodies, [], []))
    got = _by_metric(ctx.results)
    assert got["accepted"].value == 0 and got["accepted"].ok is False
    assert got["error"].ok is False
    assert "404" in str(got["error"].value) and "Not Found" in str(got["error"].value)
    assert "cpu_ms_web" not in got  # nothing accepted: nothing per text
    assert got["refused"].value == 0  # the whole request failed: that is the `error`
    assert got["lost"].ok and got["server_errors"].ok


def test_a_batch_counts_its_items(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    phase = Phase("batch", 1, 1, 1.0, per_request=2)
    texts = Plan().texts(2)
    row, delivery = _sent(texts[0], "3f1c0d5e-0000-4000-8000-000000000001")
    answer = {
        "accepted": 1,
        "refused": 1,
        "results": [
            {"status": 201, "message": _message(texts[0], row.uid)},
            {"status": 400, "error": {"code": "invalid_to", "message": "no"}},
        ],
    }
    run = _run(phase, texts, [[0, NOW, 0.2, 200]], {"0": json.dumps(answer)}, [row], [delivery])
    _report(ctx, run)
    got = _by_metric(ctx.results)
    assert got["accepted"].value == 1
    assert got["refused"].value == 1 and got["refused"].ok is False
    assert json.loads(str(got["refused_kinds"].value)) == {"400 invalid_to": 1}
    for check in ("lost", "delivered_twice", "unexpected_deliveries", "answers_wrong", "stored"):
        assert got[check].ok, check
    assert abs(float(got["commit_to_carrier_p50_ms"].value or 0) - 40.0) < 1e-3


def test_api_texts_lost_twice_and_unexpected(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    phase = Phase("api", 1, 3, 1.0)
    texts = Plan().texts(3)
    uids = [f"3f1c0d5e-0000-4000-8000-00000000000{i}" for i in range(3)]
    sent = [_sent(text, uid) for text, uid in zip(texts, uids, strict=True)]
    rows = [row for row, _ in sent]
    rows[1].status = "failed"  # accepted, never sent: lost
    deliveries = [sent[0][1], sent[0][1], sent[2][1]]  # the first twice
    deliveries.append({"idempotency_key": "other", "to": "+1", "body": "x", "at": NOW})
    results = [[i, NOW + i * 0.1, 0.05, 201] for i in range(3)]
    bodies = {str(i): json.dumps(_message(texts[i], uids[i])) for i in range(3)}
    _report(ctx, _run(phase, texts, results, bodies, rows, deliveries))
    got = _by_metric(ctx.results)
    assert got["accepted"].value == 3
    assert got["lost"].value == 1 and got["lost"].ok is False
    assert got["delivered_twice"].value == 2  # by key and by (to, body)
    assert got["unexpected_deliveries"].value == 1
    assert got["answers_wrong"].ok and got["stored"].ok
    assert got["cpu_ms_web"].value == 1000 / 3


def test_the_load_generator_keeps_bodies_when_asked() -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for reply in (
            b'HTTP/1.1 201 Created\r\nContent-Length: 7\r\n\r\n{"a":1}',
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        ):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(reply)
            await writer.drain()
        writer.close()

    async def scenario(keep: bool) -> dict[int, str]:
        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        request = loadgen.encode({"method": "GET", "path": "/"}, "127.0.0.1", port)
        load = loadgen.Load({"port": port, "timeout": 5, "keep_bodies": keep}, [request])
        conn, first = await load._one(None, 0)
        conn, second = await load._one(conn, 1)
        assert (first, second) == (201, 200)
        if conn is not None:
            conn.close()
        server.close()
        await server.wait_closed()
        return load.bodies

    assert asyncio.run(scenario(True)) == {0: '{"a":1}', 1: "abcde"}
    assert asyncio.run(scenario(False)) == {}


def test_cpu_meter_counts_a_busy_process() -> None:
    meter = CpuMeter({"me": (lambda: [os.getpid()], False)})
    meter.start()
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:
        pass
    used = meter.stop()
    assert 0.1 <= used["me"] <= 1.0
    assert used["runner"] >= 0.1
    assert proc_cpu_seconds(2**22 + 12345) is None  # no such process

"""4. Ceilings, measured in the same run so the other results can be read as ratios.

- the same server (`twoway web`, same processes, a worker running) answering an empty view,
  GET /healthz, at the same loads the inbound benchmark uses;
- the database's single-row insert rate from Python: one client, one transaction per row, with
  the plain driver (sqlite3 with Twoway's pragmas, psycopg) and through Django's ORM;
- the fake carrier's own request rate, since outbound cannot go faster than it answers.
"""

from __future__ import annotations

import base64
import sqlite3
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from bench.harness import (
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    Database,
    Stack,
    run_loadgen,
    run_orm,
)
from bench.scenarios import Context, inbound, percentile

BENCH = "ceilings"


@dataclass(frozen=True)
class Size:
    seconds_per_load: float
    insert_seconds: float


SIZES = {"smoke": Size(0.5, 0.5), "full": Size(3.0, 3.0)}


def run(ctx: Context) -> None:
    size = SIZES[ctx.size]
    with ctx.database("ceilings") as db:
        # The database alone first, with no Twoway process touching it.
        rate = db_insert_rate(db, size.insert_seconds)
        ctx.ceilings["db_insert_rate"] = rate
        ctx.record(BENCH, "1 client", "db_insert_rate", rate, "rows/s")
        orm = run_orm("orm_insert_rate", {"seconds": size.insert_seconds}, db.env())
        rate = orm["inserts"] / orm["seconds"]
        ctx.ceilings["orm_insert_rate"] = rate
        ctx.record(BENCH, "1 client", "orm_insert_rate", rate, "rows/s")
        with Stack(db, ctx.options.stack_config()) as stack:
            _server_ceilings(ctx, size, db, stack)


def _server_ceilings(ctx: Context, size: Size, db: Database, stack: Stack) -> None:
    healthz = {"method": "GET", "path": "/healthz"}
    _load(stack, db, {"mode": "closed", "concurrency": 4, "duration": 1}, healthz, 300)
    for phase in inbound.SIZES[ctx.size].phases:
        if phase.mode == "closed":
            spec = {"mode": "closed", "concurrency": phase.level}
            count = 1_000_000
        else:
            spec = {"mode": "open", "rate": phase.level, "max_connections": inbound.MAX_IN_FLIGHT}
            count = int(phase.level * size.seconds_per_load)
        spec["duration"] = size.seconds_per_load
        rate, latencies, saturated = _load(stack, db, spec, healthz, count)
        case = phase.case
        if phase.mode == "closed":
            ctx.ceilings[f"healthz_rate@{case}"] = rate
            ctx.record(BENCH, case, "healthz_rate", rate, "req/s")
        else:
            ctx.record(BENCH, case, "stopped_early", int(saturated), "0/1")
        for q in (50, 95, 99):
            value = percentile(latencies, q)
            ctx.ceilings[f"healthz_p{q}@{case}"] = value
            ctx.record(BENCH, case, f"healthz_p{q}", value, "ms")
    stack.check_alive()

    spec = {"mode": "closed", "concurrency": 8, "duration": size.seconds_per_load}
    rate, _, _ = _load(stack, db, spec, _fake_send_request(), 1_000_000, port=stack.fake_port)
    ctx.ceilings["fake_carrier_rate"] = rate
    ctx.record(BENCH, "c=8", "fake_carrier_rate", rate, "req/s")


def _load(
    stack: Stack,
    db: Database,
    spec: dict[str, Any],
    request: dict[str, Any],
    count: int,
    port: int | None = None,
) -> tuple[float, list[float], bool]:
    """Requests answered per second, their latencies (ms), and whether the server fell behind."""
    spec = {**spec, "port": port or stack.web_port, "request": request, "count": count}
    out = run_loadgen(spec, db.workdir, timeout=float(spec["duration"]) + 60)
    results = out["results"]
    ok = [r for r in results if r[3] in (200, 201)]
    if not ok:
        return 0.0, [], bool(out["saturated"])
    span = max(r[1] + r[2] for r in results) - min(r[1] for r in results)
    return len(ok) / max(span, 1e-9), [r[2] * 1000 for r in ok], bool(out["saturated"])


def _fake_send_request() -> dict[str, Any]:
    auth = base64.b64encode(f"{TWILIO_ACCOUNT_SID}:{TWILIO_AUTH_TOKEN}".encode()).decode()
    return {
        "method": "POST",
        "path": f"/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Messages.json",
        "headers": {
            "Authorization": f"Basic {auth}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        "body": urlencode({"To": "+12125550123", "From": "+14155550100", "Body": "ceiling"}),
    }


def db_insert_rate(db: Database, seconds: float) -> float:
    """Single-row INSERTs per second from Python, one client, each its own transaction."""
    body = "x" * 200
    if db.kind == "sqlite":
        conn: Any = sqlite3.connect(db.path, isolation_level=None, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(
            "CREATE TABLE bench_ceiling (id INTEGER PRIMARY KEY, body TEXT NOT NULL, at REAL)"
        )
        insert = "INSERT INTO bench_ceiling (body, at) VALUES (?, ?)"
    else:
        import psycopg

        conn = psycopg.connect(db.url, autocommit=True)
        conn.execute(
            "CREATE TABLE bench_ceiling (id bigserial PRIMARY KEY, body text NOT NULL, "
            "at double precision)"
        )
        insert = "INSERT INTO bench_ceiling (body, at) VALUES (%s, %s)"
    try:
        count = 0
        started = time.perf_counter()
        deadline = started + seconds
        while (now := time.perf_counter()) < deadline:
            conn.execute(insert, (body, now))
            count += 1
        return count / (time.perf_counter() - started)
    finally:
        conn.close()

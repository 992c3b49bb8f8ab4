"""2. Outbound: messages queued over several numbers, sent by the worker to a fake carrier.

The fake Twilio API runs in its own process (configurable latency and error rate) and records
every delivery with its arrival time, so the checks see what a carrier would see:
(a) high limits: how many segments per second the worker dispatches;
(b) each number's MPS limit set: the achieved rate as a fraction of the sum of the limits, and the
    one-second windows in which any number went over its limit (must be 0);
(c) the fake failing 10% of requests and the worker SIGKILLed and restarted twice: nothing lost,
    nothing delivered twice (the fake honours our idempotency key, as the simulator does).
"""

from __future__ import annotations

import contextlib
import math
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from bench.harness import (
    BenchError,
    Database,
    FakeCarrierConfig,
    Stack,
    run_orm,
    wait_until,
)
from bench.scenarios import Context

BENCH = "outbound"
HIGH_LIMIT = 10_000  # segments per second: no limit in practice
ONE_SEGMENT = "Hi! Your table for two is ready at Bench Dental. Show this at the desk. Ref {ref}"
TWO_SEGMENTS = (
    "Reminder from Bench Dental: your cleaning is tomorrow at 9:30. Please arrive ten minutes "
    "early, bring your insurance card and a list of medicines. Reply C to confirm. Ref {ref}"
)


@dataclass(frozen=True)
class Case:
    key: str
    title: str
    limits: tuple[int, ...]  # MPS limit of each sending number
    messages: int = 0  # total, spread evenly (a, c)
    seconds: float = 0.0  # (b): each number's queue lasts this long at its limit
    two_segment_share: float = 0.0
    error_rate: float = 0.0
    kills: int = 0
    timeout: float = 120.0  # the queue must be empty by then (else: lost)
    # (a): measure this long, then stop the worker (SIGTERM: in-flight sends finish) and check
    # what was sent; the rest of the queue is left for later, which is not a loss.
    window: float = 0.0
    env: dict[str, str] = field(default_factory=dict)


# A killed worker's claimed messages wait out their lease; a failed send waits its backoff.
# Both are operator settings; the defaults (60 s, 5 s) would only make the run longer. The lease
# stays longer than the carrier timeout plus slot waits, as the worker asks at start.
CRASH_ENV = {
    "SEND_LEASE_SECONDS": "4",
    "TWILIO_TIMEOUT": "1",
    "SEND_RETRY_BASE_SECONDS": "0.2",
    "SEND_RETRY_MAX_SECONDS": "2",
}

SIZES = {
    "smoke": (
        Case("a", "a: high limits", (HIGH_LIMIT,) * 3, messages=300, window=3),
        Case("b", "b: MPS limits", (1, 2, 5, 10), seconds=2, two_segment_share=0.2, timeout=60),
        Case(
            "c",
            "c: 10% errors, 2 kills",
            (HIGH_LIMIT,) * 3,
            messages=150,
            error_rate=0.1,
            kills=2,
            timeout=90,
            env=CRASH_ENV,
        ),
    ),
    "full": (
        Case("a", "a: high limits", (HIGH_LIMIT,) * 10, messages=10_000, window=20),
        # Ten numbers as a business has them (10DLC long codes, toll-free), 30 segments/s in
        # all: half of what (a) reached at the baseline, so this measures the limiter.
        Case(
            "b",
            "b: MPS limits",
            (1, 1, 2, 2, 3, 3, 4, 4, 5, 5),
            seconds=10,
            two_segment_share=0.2,
            timeout=90,
        ),
        Case(
            "c",
            "c: 10% errors, 2 kills",
            (HIGH_LIMIT,) * 10,
            messages=2000,
            error_rate=0.1,
            kills=2,
            timeout=150,
            env=CRASH_ENV,
        ),
    ),
}


def plan(case: Case, rng: random.Random) -> tuple[list[str], list[list[Any]]]:
    """The sending numbers and the queue: [from, to, body, segments], shuffled across numbers."""
    numbers = [f"+1415555{200 + i:04d}" for i in range(len(case.limits))]
    rows: list[list[Any]] = []
    for index, (number, limit) in enumerate(zip(numbers, case.limits, strict=True)):
        if case.seconds:
            budget = round(limit * case.seconds)  # segments: exactly `seconds` at the limit
        else:
            budget = case.messages // len(numbers) + (index < case.messages % len(numbers))
        while budget > 0:
            two = budget >= 2 and rng.random() < case.two_segment_share
            ref = f"{len(rows):07d}"
            body = (TWO_SEGMENTS if two else ONE_SEGMENT).format(ref=ref)
            rows.append([number, f"+1212{len(rows) + 2000000:07d}", body, 2 if two else 1])
            budget -= 2 if two else 1
    rng.shuffle(rows)  # a blast from several numbers queued at once, interleaved
    return numbers, rows


def run(ctx: Context) -> None:
    for case in SIZES[ctx.size]:
        try:
            _run_case(ctx, case)
        except BenchError as exc:
            ctx.record(BENCH, case.title, "error", str(exc)[:2000], "", ok=False)


def _run_case(ctx: Context, case: Case) -> None:
    numbers, rows = plan(case, random.Random(7))
    segments_of = {row[2]: row[3] for row in rows}
    with ctx.database(f"outbound-{case.key}") as db:
        run_orm(
            "seed_organization", {"numbers": list(zip(numbers, case.limits, strict=True))}, db.env()
        )
        config = ctx.options.stack_config(
            fake=FakeCarrierConfig(ctx.options.carrier_latency_ms, case.error_rate), env=case.env
        )
        with Stack(db, config) as stack:
            rss_start = stack.worker_rss_mib()
            org = db.scalar("SELECT id FROM accounts_organization")
            seeded = run_orm("seed_outbound", {"organization_id": org, "messages": rows}, db.env())
            queued_at = time.time()
            rss_samples: list[tuple[float, float]] = []
            kills = _wait_sent(db, stack, len(rows), case, rss_samples)
            finished = time.time()
            stack.check_alive()
            rss_end = stack.worker_rss_mib()
            if case.window:
                stack.stop_workers()  # in-flight sends finish and are recorded
            deliveries = stack.fake_deliveries()
            requests = stack.fake_requests_count()
        facts = run_orm("outbound_facts", {}, db.env())

    title = case.title
    deliveries.sort(key=lambda d: d["at"])
    for delivery in deliveries:
        delivery["segments"] = segments_of.get(delivery["body"], 1)
    ctx.record(BENCH, title, "messages", len(rows), "count")
    ctx.record(BENCH, title, "seed_seconds", seeded["seconds"], "s")
    if deliveries:
        span = deliveries[-1]["at"] - deliveries[0]["at"]
        segments = sum(d["segments"] for d in deliveries) - deliveries[0]["segments"]
        rate = segments / span if span > 0 else 0.0
        ctx.record(BENCH, title, "segments_rate", rate, "seg/s", ceiling="db_insert_rate")
        if not case.window:
            ctx.record(BENCH, title, "queue_drained_in", finished - queued_at, "s")
    if case.seconds:
        _report_limits(ctx, case, numbers, deliveries)
    if case.kills:
        ctx.record(BENCH, title, "worker_kills", kills, "count", ok=kills == case.kills)
    ctx.record(BENCH, title, "carrier_requests", requests, "count")
    _check(ctx, case, rows, facts["messages"], deliveries)
    # Idle before the queue was seeded, a quarter of the way through the run (imports and caches
    # filled), at the end. With kills the end is a restarted process's.
    ctx.record(BENCH, title, "worker_rss_start", rss_start, "MiB")
    if rss_samples and not case.kills:
        quarter = rss_samples[0][0] + (rss_samples[-1][0] - rss_samples[0][0]) / 4
        warm = next(rss for at, rss in rss_samples if at >= quarter)
        ctx.record(BENCH, title, "worker_rss_warm", warm, "MiB")
    ctx.record(BENCH, title, "worker_rss_end", rss_end, "MiB")


def _pending(db: Database) -> int:
    return int(
        db.scalar(
            "SELECT COUNT(*) FROM conversations_message "
            "WHERE direction = 'out' AND status IN ('queued', 'sending')"
        )
    )


def _wait_sent(
    db: Database, stack: Stack, total: int, case: Case, rss_samples: list[tuple[float, float]]
) -> int:
    """Wait until the queue is empty; kill and restart the worker on the way if asked."""
    kills = 0

    def empty() -> bool:
        rss_samples.append((time.monotonic(), stack.worker_rss_mib()))
        return _pending(db) == 0

    deadline = time.monotonic() + (case.window or case.timeout)
    for kill in range(1, case.kills + 1):
        target = total * kill // (case.kills + 1)

        def reached(target: int = target) -> bool:
            stack.check_alive()
            sent = db.scalar("SELECT COUNT(*) FROM conversations_message WHERE status = 'sent'")
            return bool(sent >= target)

        wait_until(reached, max(deadline - time.monotonic(), 1), f"{target} messages sent")
        stack.worker(0).kill()
        kills += 1
        stack.start_worker(0)
    # On a timeout the checks report what is missing as lost.
    with contextlib.suppress(BenchError):
        wait_until(
            empty,
            max(deadline - time.monotonic(), 1),
            "the worker to send every message",
            interval=0.05,
        )
    return kills


def _report_limits(
    ctx: Context, case: Case, numbers: list[str], deliveries: list[dict[str, Any]]
) -> None:
    """(b): achieved rate against the limits, and windows where a number went over its limit."""
    limit_of = dict(zip(numbers, case.limits, strict=True))
    per_number: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for delivery in deliveries:
        per_number[delivery["from"]].append(delivery)
    if not deliveries:
        return
    start = deliveries[0]["at"]
    # When each number's last slot ended: its last send plus that send's own spacing.
    ends = {
        n: ds[-1]["at"] + ds[-1]["segments"] / limit_of[n] for n, ds in per_number.items() if ds
    }
    makespan = max(ends.values()) - start
    total = sum(d["segments"] for d in deliveries)
    aggregate = sum(case.limits)
    fraction = total / (aggregate * makespan) if makespan > 0 else 0.0
    worst = min(
        (sum(d["segments"] for d in ds) / limit_of[n]) / (ends[n] - start)
        for n, ds in per_number.items()
    )
    # A message of k segments takes k consecutive slots of its number, as the carrier sends
    # them: segment j leaves j / limit seconds after the message arrived.
    windows: Counter[tuple[str, int]] = Counter()
    for delivery in deliveries:
        number = delivery["from"]
        for j in range(delivery["segments"]):
            windows[(number, math.floor(delivery["at"] + j / limit_of[number]))] += 1
    violations = [
        (n, second, count)
        for (n, second), count in windows.items()
        if count > math.ceil(limit_of[n])
    ]
    title = case.title
    ctx.record(BENCH, title, "aggregate_limit", aggregate, "seg/s")
    ctx.record(BENCH, title, "achieved_rate", total / makespan if makespan else 0.0, "seg/s")
    ctx.record(BENCH, title, "limit_fraction", fraction, "of limits")
    ctx.record(BENCH, title, "worst_number_fraction", worst, "of its limit")
    ctx.record(BENCH, title, "limit_violations", len(violations), "windows", ok=not violations)


def _check(
    ctx: Context,
    case: Case,
    rows: list[list[Any]],
    messages: list[list[Any]],
    deliveries: list[dict[str, Any]],
) -> None:
    title = case.title
    by_key = Counter(d["idempotency_key"] for d in deliveries)
    by_text = Counter((d["to"], d["body"]) for d in deliveries)
    sid_of = {d["idempotency_key"]: d["sid"] for d in deliveries}
    # Lost: not sent by the end (unless the run stopped early on purpose), or recorded as sent
    # with no delivery or another sid, or delivered but not recorded as sent.
    lost = [
        uid
        for uid, status, carrier_id, _attempts, _from, _to, _sent in messages
        if (status != "sent" and (uid in sid_of or not case.window))
        or (status == "sent" and sid_of.get(uid) != carrier_id)
    ]
    lost_count = len(lost) + max(len(rows) - len(messages), 0)
    if case.window:
        left = sum(1 for m in messages if m[1] != "sent")
        ctx.record(BENCH, title, "left_in_queue", left, "messages")
    duplicates = sum(n - 1 for n in by_key.values()) + sum(n - 1 for n in by_text.values())
    uids = {m[0] for m in messages}
    unknown = [d for d in deliveries if d["idempotency_key"] not in uids]
    ctx.record(BENCH, title, "lost", lost_count, "messages", ok=lost_count == 0)
    ctx.record(
        BENCH, title, "delivered_twice", duplicates, "messages", ok=duplicates == 0 and not unknown
    )
    retried = sum(1 for m in messages if m[3] > 1)
    ctx.record(BENCH, title, "sent_after_retry", retried, "messages")

"""1. Inbound: signed Twilio webhooks at rising load; afterwards every message is checked.

Texts come from many contacts to a few business numbers; some webhooks are sent twice (as Twilio
does when an answer is slow) and some contacts text STOP. Each phase is one load: closed loop at
a concurrency, or open loop at a fixed rate. After a phase the benchmark waits until the worker
has processed everything, so each phase's processing time is its own. Per phase it reports
webhooks answered per second, accept latency (the carrier's view), messages processed per second
and the time from sending the webhook to the message being processed (stored in its conversation,
folder and unread count updated, STOP applied: one transaction, `CarrierEvent.processed_at`).
"""

from __future__ import annotations

import contextlib
import json
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from bench.harness import (
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    BenchError,
    Database,
    Stack,
    run_loadgen,
    run_orm,
    wait_until,
)
from bench.scenarios import Context, percentile

BENCH = "inbound"
# At most this many webhooks in flight at once, in every phase. Twoway's web process holds one
# database connection per request in flight (Django runs each request's sync code on a thread of
# its own), so more would exhaust PostgreSQL's max_connections (100 by default) on a server
# others share, and their clients would be refused along with ours. See docs/performance.md.
MAX_IN_FLIGHT = 32
AREA_CODES = (212, 312, 617, 718, 202, 305, 512, 206)
BODIES = (
    "Hi, is my order ready? Can I pick it up at 5pm?",
    "Running about 10 minutes late, sorry!",
    "Can we move my appointment to Thursday afternoon?",
    "Thanks so much 👍",
    "What time do you open tomorrow? I need to drop off the forms you sent me last week.",
    "ok",
)


@dataclass(frozen=True)
class Phase:
    mode: str  # "closed": `level` connections; "open": `level` webhooks per second
    level: int
    messages: int  # unique messages prepared (the phase ends when they run out or time does)
    duration: float  # seconds of sending at most

    @property
    def case(self) -> str:
        return f"c={self.level}" if self.mode == "closed" else f"{self.level}/s"


@dataclass(frozen=True)
class Size:
    numbers: int
    contacts: int
    stop_contacts: int
    duplicate_share: float
    warmup: int
    phases: tuple[Phase, ...]
    drain_timeout: float


SIZES = {
    "smoke": Size(
        numbers=2,
        contacts=60,
        stop_contacts=6,
        duplicate_share=0.05,
        warmup=20,
        phases=(Phase("closed", 8, 200, 5), Phase("open", 100, 150, 1.5)),
        drain_timeout=60,
    ),
    "full": Size(
        numbers=4,
        contacts=3000,
        stop_contacts=60,
        duplicate_share=0.05,
        warmup=100,
        phases=(
            Phase("closed", 1, 4000, 4),
            Phase("closed", 8, 6000, 5),
            Phase("closed", 32, 6000, 5),
            Phase("open", 500, 2500, 5),
            Phase("open", 1000, 10000, 10),
            Phase("open", 1500, 9000, 6),
        ),
        drain_timeout=240,
    ),
}


def contact_numbers(count: int, rng: random.Random) -> list[str]:
    """Distinct valid North American mobile-style numbers, in E.164."""
    import phonenumbers

    found: set[str] = set()
    while len(found) < count:
        exchange = rng.randint(200, 999)
        if exchange == 555 or exchange % 100 == 11:
            continue
        number = f"+1{rng.choice(AREA_CODES)}{exchange}{rng.randint(0, 9999):04d}"
        if phonenumbers.is_valid_number(phonenumbers.parse(number)):
            found.add(number)
    return sorted(found)


@dataclass(frozen=True)
class Planned:
    sid: str
    number: str
    contact: str
    stop: bool


class Webhooks:
    """Builds signed Twilio incoming-message webhooks exactly as Twilio would send them."""

    def __init__(self, public_url: str, numbers: list[str], contacts: list[str], size: Size):
        from twilio.request_validator import RequestValidator

        self.url = public_url + "/webhooks/twilio/"
        self.validator = RequestValidator(TWILIO_AUTH_TOKEN)
        self.rng = random.Random(1234)
        self.numbers = numbers
        self.contacts = contacts
        self.stoppers = self.rng.sample(contacts, size.stop_contacts)
        self.duplicate_share = size.duplicate_share
        self.planned: dict[str, Planned] = {}

    def _one(self, number: str, contact: str, body: str) -> tuple[str, dict[str, Any]]:
        sid = f"SM{self.rng.getrandbits(128):032x}"
        params = {
            "ToCountry": "US",
            "ToState": "CA",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "ToCity": "SAN FRANCISCO",
            "FromZip": "10001",
            "SmsSid": sid,
            "FromState": "NY",
            "SmsStatus": "received",
            "FromCity": "NEW YORK",
            "Body": body,
            "FromCountry": "US",
            "To": number,
            "ToZip": "94105",
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": TWILIO_ACCOUNT_SID,
            "From": contact,
            "ApiVersion": "2010-04-01",
        }
        request = {
            "method": "POST",
            "path": "/webhooks/twilio/",
            "headers": {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": self.validator.compute_signature(self.url, params),
                "User-Agent": "TwilioProxy/1.1",
            },
            "body": urlencode(params),
        }
        self.planned[sid] = Planned(sid, number, contact, body == "STOP")
        return sid, request

    def phase(self, messages: int, stops: int) -> list[tuple[str, dict[str, Any]]]:
        """`messages` new texts (`stops` of them STOP), some sent twice a little later."""
        stop_at = set(self.rng.sample(range(messages), min(stops, messages)))
        texts = []
        for index in range(messages):
            if index in stop_at and self.stoppers:
                contact, body = self.stoppers.pop(), "STOP"
            else:
                contact, body = self.rng.choice(self.contacts), self.rng.choice(BODIES)
            texts.append(self._one(self.rng.choice(self.numbers), contact, body))
        keyed = [(float(index), text) for index, text in enumerate(texts)]
        for index, text in enumerate(texts):
            if self.rng.random() < self.duplicate_share:
                # Twilio's retry of a webhook: the same request again, soon after the first.
                keyed.append((index + self.rng.randint(1, 20) + 0.5, text))
        keyed.sort(key=lambda pair: pair[0])
        return [text for _, text in keyed]


@dataclass
class PhaseRun:
    phase: Phase
    sids: list[str]  # per request
    results: list[list[Any]]  # [index, sent_at, latency, status] per request made
    drain_seconds: float
    errors: dict[str, int]  # connection errors and timeouts by kind
    saturated: bool  # open loop: the server fell over 2 s behind, the load stopped early
    # PostgreSQL connections Twoway's processes opened per webhook sent (None on SQLite).
    connections: float | None = None


def run(ctx: Context) -> None:
    size = SIZES[ctx.size]
    with ctx.database("inbound") as db:
        numbers = [f"+1415555{100 + i:04d}" for i in range(size.numbers)]
        run_orm("seed_organization", {"numbers": [[n, 100] for n in numbers]}, db.env())
        config = ctx.options.stack_config()
        with Stack(db, config) as stack:
            _run_phases(ctx, size, db, stack, numbers)


def _run_phases(ctx: Context, size: Size, db: Database, stack: Stack, numbers: list[str]) -> None:
    contacts = contact_numbers(size.contacts, random.Random(99))
    hooks = Webhooks(stack.web_url, numbers, contacts, size)
    rss_start = stack.worker_rss_mib()
    stops_left = size.stop_contacts
    runs: list[PhaseRun] = []
    warmup = Phase("closed", 4, size.warmup, 30)
    for number, phase in enumerate((warmup, *size.phases)):
        stops = stops_left // max(len(size.phases) + 1 - number, 1)
        stops_left -= stops
        requests = hooks.phase(phase.messages, stops)
        path = db.workdir / f"webhooks-{number}.jsonl"
        path.write_text("".join(json.dumps(request) + "\n" for _, request in requests))
        spec: dict[str, Any] = {
            "port": stack.web_port,
            "mode": phase.mode,
            "duration": phase.duration,
            "timeout": 30,
            "requests_file": str(path),
        }
        spec["concurrency" if phase.mode == "closed" else "rate"] = phase.level
        spec["max_connections"] = MAX_IN_FLIGHT
        sessions = _pg_sessions(db)
        out = run_loadgen(spec, db.workdir, timeout=phase.duration + 120)
        drain = _wait_processed(db, size.drain_timeout)
        stack.check_alive()
        if phase is warmup:
            rss_warm = stack.worker_rss_mib()
        else:
            sids = [sid for sid, _ in requests]
            run = PhaseRun(phase, sids, out["results"], drain, out["errors"], out["saturated"])
            if sessions is not None and out["results"]:
                run.connections = ((_pg_sessions(db) or 0) - sessions) / len(out["results"])
            runs.append(run)
    rss_end = stack.worker_rss_mib()
    facts = run_orm("inbound_facts", {}, db.env())
    to_contacts = Counter(d["to"] for d in stack.fake_deliveries())

    for phase_run in runs:
        _report_phase(ctx, phase_run, facts["processed_at"])
    _check(ctx, hooks, runs, facts, to_contacts)
    # Idle after start, after the warm-up phase (imports and caches filled), after all phases.
    ctx.record(BENCH, "all", "worker_rss_start", rss_start, "MiB")
    ctx.record(BENCH, "all", "worker_rss_warm", rss_warm, "MiB")
    ctx.record(BENCH, "all", "worker_rss_end", rss_end, "MiB")
    if ctx.options.soak_messages:
        _soak(ctx, db, stack, numbers, contacts)


# Raw events the soak inserts at a time: the worker never has more than this waiting.
SOAK_CHUNK = 20_000


def _soak(
    ctx: Context, db: Database, stack: Stack, numbers: list[str], contacts: list[str]
) -> None:
    """Many messages through the worker alone (stored as the webhook would store them): does its
    memory grow? RSS after the first chunk (warm) and at the end; processing rate."""
    total, done, rss_warm = ctx.options.soak_messages, 0, 0.0
    rss_start = stack.worker_rss_mib()
    bodies = [body for body in BODIES if body.upper() != "STOP"]
    started = time.monotonic()
    while done < total:
        count = min(SOAK_CHUNK, total - done)
        spec = {"numbers": numbers, "contacts": contacts, "bodies": bodies, "count": count}
        run_orm("insert_inbound_events", {**spec, "prefix": f"SOAK{done:09d}x"}, db.env())
        done += count
        # The next chunk goes in while the worker processes this one (as webhooks would keep
        # coming), so the rate is the worker's, not the worker's plus the inserts'.
        _wait_backlog(db, 0 if done == count or done >= total else count, 3600)
        stack.check_alive()
        if not rss_warm:
            rss_warm = stack.worker_rss_mib()
    _wait_processed(db, 3600)
    elapsed = time.monotonic() - started
    unprocessed = db.scalar(
        "SELECT COUNT(*) FROM carriers_carrierevent WHERE processed_at IS NULL OR error <> ''"
    )
    case = f"soak {total}"
    ctx.record(BENCH, case, "unprocessed_events", unprocessed, "count", ok=unprocessed == 0)
    ctx.record(BENCH, case, "processed_rate", total / elapsed, "msg/s")
    ctx.record(BENCH, case, "worker_rss_start", rss_start, "MiB")
    ctx.record(BENCH, case, "worker_rss_warm", rss_warm, "MiB")
    ctx.record(BENCH, case, "worker_rss_end", stack.worker_rss_mib(), "MiB")


def _pg_sessions(db: Database) -> int | None:
    """PostgreSQL sessions opened on the bench database so far (None on SQLite)."""
    if db.kind != "postgres":
        return None
    query = "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
    return int(db.scalar(query))


def _wait_processed(db: Database, timeout: float) -> float:
    """Seconds until every stored event is processed and every reply (STOP) sent."""
    started = time.monotonic()

    def idle() -> bool:
        pending = db.scalar("SELECT COUNT(*) FROM carriers_carrierevent WHERE processed_at IS NULL")
        sending = db.scalar(
            "SELECT COUNT(*) FROM conversations_message "
            "WHERE direction = 'out' AND status IN ('queued', 'sending')"
        )
        return pending == 0 and sending == 0

    # On a timeout the checks report the events left unprocessed.
    with contextlib.suppress(BenchError):
        wait_until(idle, timeout, "the worker to process every webhook", interval=0.05)
    return time.monotonic() - started


def _wait_backlog(db: Database, at_most: int, timeout: float) -> None:
    """Until at most `at_most` stored events wait for the worker."""

    def caught_up() -> bool:
        query = "SELECT COUNT(*) FROM carriers_carrierevent WHERE processed_at IS NULL"
        return int(db.scalar(query)) <= at_most

    wait_until(caught_up, timeout, "the worker to catch up", interval=0.1)


def _report_phase(ctx: Context, run: PhaseRun, processed_at: dict[str, float | None]) -> None:
    phase = run.phase
    answered = [r for r in run.results if r[3] == 200]
    latencies_ms = [r[2] * 1000 for r in answered]
    if not run.results:
        ctx.record(BENCH, phase.case, "webhooks_sent", 0, "count", ok=False)
        return
    first_sent = min(r[1] for r in run.results)
    last_answer = max(r[1] + r[2] for r in run.results)
    accepted_rate = len(answered) / max(last_answer - first_sent, 1e-9)
    # When each distinct message was first sent, and when the worker finished it.
    sent_at: dict[str, float] = {}
    for index, at, _latency, _status in run.results:
        sid = run.sids[index]
        sent_at[sid] = min(at, sent_at.get(sid, at))
    done = {sid: processed_at.get(sid) for sid in sent_at}
    e2e_ms = [(done[sid] - at) * 1000 for sid, at in sent_at.items() if done[sid] is not None]
    finished = [t for t in done.values() if t is not None]
    processed_rate = len(finished) / max(max(finished) - first_sent, 1e-9) if finished else 0.0

    case = phase.case
    ctx.record(BENCH, case, "webhooks_sent", len(run.results), "count")
    if phase.mode == "open":
        ctx.record(BENCH, case, "stopped_early", int(run.saturated), "0/1")
    ctx.record(BENCH, case, "accepted_rate", accepted_rate, "msg/s", ceiling=f"healthz_rate@{case}")
    for q in (50, 95, 99):
        ctx.record(
            BENCH,
            case,
            f"accept_p{q}",
            percentile(latencies_ms, q),
            "ms",
            ceiling=f"healthz_p{q}@{case}",
            inverse=True,
        )
    ctx.record(BENCH, case, "processed_rate", processed_rate, "msg/s", ceiling="db_insert_rate")
    for q in (50, 95, 99):
        ctx.record(BENCH, case, f"processed_p{q}", percentile(e2e_ms, q), "ms")
    if phase.mode == "open" and finished:
        _report_keeping_up(ctx, case, sent_at, done)
    ctx.record(BENCH, case, "drain_after_load", run.drain_seconds, "s")
    if run.connections is not None:
        ctx.record(BENCH, case, "pg_connections_per_webhook", run.connections, "conn/req")


# An open loop's first second is left out of its steady rate: the worker's first batch and the
# pipeline filling up are not its pace.
STEADY_AFTER = 1.0


def _report_keeping_up(
    ctx: Context, case: str, sent_at: dict[str, float], done: dict[str, float | None]
) -> None:
    """Whether processing keeps pace with an open loop's arrivals.

    `processed_rate` counts from the first webhook sent to the last message processed, so in an
    open loop it is below the offered rate by construction (the last message's processing time
    is in its denominator). Here: messages processed per second while webhooks still arrived,
    after the first second (the pace, which exceeds the offered rate only to catch up), and the
    time to processed of the first and the last second's messages: equal when it keeps up,
    growing when it falls behind."""
    first, last = min(sent_at.values()), max(sent_at.values())
    start = first + STEADY_AFTER
    if last - start < 1.0:
        return
    in_window = sum(1 for t in done.values() if t is not None and start <= t < last)
    ctx.record(BENCH, case, "processed_rate_while_arriving", in_window / (last - start), "msg/s")
    for name, since, until in (("first", first, first + 1), ("last", last - 1, last)):
        lags = [
            (t - at) * 1000
            for sid, at in sent_at.items()
            if since <= at <= until and (t := done[sid]) is not None
        ]
        ctx.record(BENCH, case, f"processed_p50_{name}_second", percentile(lags, 50), "ms")


def _check(
    ctx: Context,
    hooks: Webhooks,
    runs: list[PhaseRun],
    facts: dict[str, Any],
    replies_delivered: Counter[str],
) -> None:
    planned = hooks.planned
    statuses: dict[str, set[int]] = defaultdict(set)
    sends: Counter[str] = Counter()
    for phase_run in runs:
        for index, _at, _latency, status in phase_run.results:
            statuses[phase_run.sids[index]].add(status)
            sends[phase_run.sids[index]] += 1
    errors = sum(1 for run in runs for r in run.results if r[3] != 200)
    accepted = {sid for sid, seen in statuses.items() if 200 in seen}
    stored: dict[str, int] = facts["messages"]
    processed: dict[str, float | None] = facts["processed_at"]

    ctx.record(BENCH, "all", "http_errors", errors, "count", ok=errors == 0)
    if errors:
        kinds = Counter(f"HTTP {r[3]}" for run in runs for r in run.results if r[3] not in (0, 200))
        for run in runs:
            kinds.update(run.errors)
        ctx.record(BENCH, "all", "http_error_kinds", json.dumps(kinds), "")
    # Warm-up messages are not in `statuses` but are stored: count only what the runs sent.
    wrong = [sid for sid in accepted if stored.get(sid) != 1 or sid not in processed]
    wrong += [sid for sid, n in stored.items() if n != 1 or sid not in planned]
    ctx.record(BENCH, "all", "stored_exactly_once", len(accepted), "messages", ok=not wrong)
    duplicates_sent = sum(n - 1 for n in sends.values())
    events_match = facts["events_total"] == len(stored) == len(processed)
    ctx.record(
        BENCH,
        "all",
        "duplicates_rejected",
        duplicates_sent,
        "webhooks",
        ok=events_match and all(n == 1 for n in stored.values()),
    )
    unprocessed = facts["events_unprocessed"] + facts["events_with_error"]
    ctx.record(BENCH, "all", "unprocessed_events", unprocessed, "count", ok=unprocessed == 0)

    # Conversations: one per (number, contact), every text received in it; unread = those
    # texts but the STOPs, which Twoway answers itself, and in Needs attention when any is.
    expected: Counter[tuple[str, str]] = Counter(
        (planned[sid].number, planned[sid].contact) for sid in stored if sid in planned
    )
    unread: Counter[tuple[str, str]] = Counter(
        (planned[sid].number, planned[sid].contact)
        for sid in stored
        if sid in planned and not planned[sid].stop
    )
    seen = {(number, contact): row for number, contact, *row in facts["conversations"]}

    def conversation_right(key: tuple[str, str], count: int) -> bool:
        folder, unread_count, received = seen[key]
        attention = folder == "needs_attention" or not unread[key]
        return attention and (unread_count, received) == (unread[key], count)

    bad = [
        key
        for key, count in expected.items()
        if key not in seen or not conversation_right(key, count)
    ]
    bad += [key for key in seen if key not in expected]
    ctx.record(BENCH, "all", "conversations_wrong", len(bad), "count", ok=not bad)
    senders = {contact for _, contact in expected}
    ctx.record(
        BENCH,
        "all",
        "contacts_created",
        facts["contacts"],
        "count",
        ok=facts["contacts"] == facts["contact_phones"] == len(senders),
    )

    # STOP: the contact is opted out, the ledger has one entry, one confirmation reached them.
    stoppers = {planned[sid].contact for sid in stored if sid in planned and planned[sid].stop}
    opt_ok = set(facts["opted_out"]) == stoppers and all(
        facts["consent_opt_outs"].get(c) == 1
        and facts["auto_replies"].get(c) == ["sent"]
        and replies_delivered[c] == 1
        for c in stoppers
    )
    opt_ok = opt_ok and len(facts["auto_replies"]) == len(stoppers)
    ctx.record(
        BENCH, "all", "opt_outs_applied", len(stoppers), "contacts", ok=bool(opt_ok and stoppers)
    )

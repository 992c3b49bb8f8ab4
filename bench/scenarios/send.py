"""Send: texts sent as a person and an integrator send them, until the carrier has them.

Twoway runs as the other benchmarks run it (`twoway web`, `twoway worker`, the fake Twilio API as
the carrier), with 10 numbers whose MPS limit is no limit in practice. Cases, one after the
other on one database (after each, the worker delivers everything before the next starts, so
each case's numbers are its own):
- `api c=N`: `POST /api/v1/messages` with an API key, one text a request, closed loop of N
  connections;
- `batch`: `POST /api/v1/messages/batch`, many texts a request, closed loop of 2;
- `composer c=N`: a logged-in administrator pressing Send in the inbox (the composer's htmx
  POST with session cookie and CSRF token), each text to a conversation of its own.
Every text goes to a number never texted before in the run, from one of the 10 numbers in turn,
with the same one-segment body made unique by a reference number.

Per case: texts accepted and accepted per second with the answer's p50/p99 (per request, so per
1,000 texts for the batch); texts delivered per second from the first request to the last
delivery, and each text's time from being stored (`created_at`) to reaching the fake carrier;
CPU per text of the web server, the workers, PostgreSQL (the bench database's backends and the
server's background processes), the load generator, and what else the machine spent. Checks:
nothing lost, nothing delivered twice, nothing delivered that was not accepted, no server error,
no text refused, every answer right, the database holding exactly the texts accepted.
"""

from __future__ import annotations

import http.cookiejar
import itertools
import json
import math
import os
import re
import sys
import time
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench.harness import (
    BenchError,
    CpuMeter,
    Database,
    Stack,
    postgres_pids,
    process_tree,
    run_loadgen,
    run_orm,
    wait_until,
)
from bench.scenarios import Context, percentile

BENCH = "send"
NUMBERS = [f"+1415555{200 + i:04d}" for i in range(10)]
HIGH_LIMIT = 10_000  # texts per second and number: no limit in practice
# 71 characters of GSM-7: one segment.
BODY = "Bench Dental: your order is ready at the front desk. Thanks! Ref {ref:06d}"
EMAIL = "sender@bench.example.com"
PASSWORD = "bench-send-password"  # noqa: S105 (a throwaway database's administrator)
AREA_CODES = (212, 312, 617, 718, 202, 305, 512, 206, 646, 773)


@dataclass(frozen=True)
class Phase:
    kind: str  # "api", "batch" or "composer"
    concurrency: int
    requests: int  # at most (the phase ends when they run out or its time does)
    duration: float  # seconds of sending, at most
    per_request: int = 1  # texts in one request (batch)
    timeout: float = 30.0  # seconds per request

    @property
    def case(self) -> str:
        return "batch" if self.kind == "batch" else f"{self.kind} c={self.concurrency}"

    @property
    def texts(self) -> int:
        return self.requests * self.per_request


@dataclass(frozen=True)
class Size:
    phases: tuple[Phase, ...]
    drain_timeout: float  # the worker must have delivered a case's texts by then


SIZES = {
    "smoke": Size(
        phases=(
            Phase("api", 1, 300, 1.5),
            Phase("api", 8, 300, 1.5),
            Phase("api", 32, 300, 1.5),
            Phase("batch", 2, 4, 1.5, per_request=100, timeout=60),
            Phase("composer", 1, 300, 1.5),
        ),
        drain_timeout=60,
    ),
    "full": Size(
        phases=(
            Phase("api", 1, 4000, 6),
            Phase("api", 8, 4000, 6),
            Phase("api", 32, 4000, 6),
            Phase("batch", 2, 20, 6, per_request=1000, timeout=120),
            Phase("composer", 1, 4000, 6),
            Phase("composer", 8, 4000, 6),
        ),
        drain_timeout=120,
    ),
}
# Before measuring: imports, caches and connection pools filled, on every path.
WARMUP = (
    Phase("api", 4, 20, 10),
    Phase("batch", 1, 1, 10, per_request=5, timeout=60),
    Phase("composer", 1, 4, 10),
)
SUCCESS = {"api": 201, "batch": 200, "composer": 200}
PATHS = {
    "api": "POST /api/v1/messages",
    "batch": "POST /api/v1/messages/batch",
    "composer": "POST /inbox/c/<id>/send/",
}


@dataclass(frozen=True)
class Text:
    sender: str
    to: str
    body: str


def destinations() -> Iterator[str]:
    """Distinct valid North American numbers, never one of the business's own (555-01xx)."""
    import phonenumbers

    for exchange in range(201, 1000):
        if exchange == 555 or exchange % 100 == 11:
            continue
        for area in AREA_CODES:
            for line in range(10_000):
                number = f"+1{area}{exchange}{line:04d}"
                if phonenumbers.is_valid_number(phonenumbers.parse(number)):
                    yield number


class Plan:
    """The texts of each case, drawn from one sequence so that no number is texted twice."""

    def __init__(self) -> None:
        self.numbers = destinations()
        self.refs = itertools.count()

    def texts(self, count: int) -> list[Text]:
        texts = []
        for _ in range(count):
            ref = next(self.refs)
            body = BODY.format(ref=ref)
            assert len(body) == 71, body
            texts.append(Text(NUMBERS[ref % len(NUMBERS)], next(self.numbers), body))
        return texts


@dataclass
class Browser:
    """A logged-in session as the composer's htmx POST sends it."""

    cookie: str
    csrf_token: str


def log_in(base_url: str, email: str, password: str) -> Browser:
    """Log in through the login page, as a person does."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(base_url + "/login/", timeout=60) as response:
        page = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if token is None:
        raise BenchError("no CSRF token on the login page")
    form = {"csrfmiddlewaretoken": token.group(1), "username": email, "password": password}
    request = urllib.request.Request(  # noqa: S310 (127.0.0.1)
        base_url + "/login/", data=urllib.parse.urlencode(form).encode(), method="POST"
    )
    request.add_header("Referer", base_url + "/login/")
    with opener.open(request, timeout=60) as response:
        response.read()
    cookies = {cookie.name: cookie.value for cookie in jar}
    if "sessionid" not in cookies or "csrftoken" not in cookies:
        raise BenchError(f"logging in as {email} failed (cookies: {sorted(cookies)})")
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    return Browser(cookie, str(cookies["csrftoken"]))


def api_request(key: str, texts: list[Text], batch: bool) -> dict[str, Any]:
    items = [{"from": t.sender, "to": t.to, "body": t.body} for t in texts]
    return {
        "method": "POST",
        "path": "/api/v1/messages/batch" if batch else "/api/v1/messages",
        "headers": {"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        "body": json.dumps({"messages": items} if batch else items[0]),
    }


def composer_request(browser: Browser, conversation_id: int, text: Text) -> dict[str, Any]:
    return {
        "method": "POST",
        "path": f"/inbox/c/{conversation_id}/send/",
        "headers": {
            "Cookie": browser.cookie,
            "X-CSRFToken": browser.csrf_token,
            "HX-Request": "true",
            "HX-Target": "conversation-panel",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        "body": urllib.parse.urlencode({"body": text.body}),
    }


@dataclass
class Row:
    """An outbound message as the database holds it."""

    uid: str
    to: str
    body: str
    status: str
    created_at: float
    direction: str


@dataclass
class PhaseRun:
    phase: Phase
    texts: list[Text]  # request i carries texts[i * per_request:(i + 1) * per_request]
    out: dict[str, Any]  # the load generator's
    drained: bool
    cpu: dict[str, float]  # seconds by group
    postgres_seen: bool  # its processes were found (on PostgreSQL)
    loadgen_cpu: float
    deliveries: list[dict[str, Any]]  # those that arrived during this phase
    rows: list[Row]  # messages stored during this phase
    window: float  # seconds from the load's start to the last text sent (CPU measured over it)


def run(ctx: Context) -> None:
    size = SIZES[ctx.size]
    plan = Plan()
    warmup = [(phase, plan.texts(phase.texts)) for phase in WARMUP]
    phases = [(phase, plan.texts(phase.texts)) for phase in size.phases]
    composer_texts = [
        text for phase, texts in (*warmup, *phases) if phase.kind == "composer" for text in texts
    ]
    with ctx.database("send") as db:
        seeded = run_orm(
            "seed_send",
            {
                "numbers": [[number, HIGH_LIMIT] for number in NUMBERS],
                "email": EMAIL,
                "password": PASSWORD,
                "conversations": [[t.sender, t.to] for t in composer_texts],
            },
            db.env(),
        )
        conversation_of = dict(
            zip((t.to for t in composer_texts), seeded["conversation_ids"], strict=True)
        )
        with Stack(db, ctx.options.stack_config()) as stack:
            browser = None
            try:
                browser = log_in(stack.web_url, EMAIL, PASSWORD)
            except (BenchError, OSError) as exc:  # the API cases still run
                ctx.record(BENCH, "composer", "error", f"log in: {exc}"[:2000], "", ok=False)
            meter = _meter(db, stack)
            requests_of = _requests_builder(seeded["api_key"], browser, conversation_of)
            for phase, texts in warmup:
                try:
                    _run_phase(db, stack, meter, phase, texts, requests_of, size.drain_timeout)
                except BenchError as exc:
                    ctx.record(BENCH, f"warm-up {phase.case}", "error", str(exc)[:2000], "")
            for phase, texts in phases:
                try:
                    stack.check_alive()
                    phase_run = _run_phase(
                        db, stack, meter, phase, texts, requests_of, size.drain_timeout
                    )
                except BenchError as exc:
                    ctx.record(BENCH, phase.case, "error", str(exc)[:2000], "", ok=False)
                    print(f"   send {phase.case}: FAILED: {str(exc)[:300]}", file=sys.stderr)
                    continue
                _report(ctx, phase_run)


def _meter(db: Database, stack: Stack) -> CpuMeter:
    def web() -> list[int]:
        return process_tree(stack.web.pid) if stack.web else []

    def workers() -> list[int]:
        return [pid for worker in stack.workers if worker for pid in process_tree(worker.pid)]

    def fake() -> list[int]:
        return process_tree(stack.fake.pid) if stack.fake else []

    return CpuMeter(
        {
            "web": (web, True),
            "worker": (workers, True),
            "fake_carrier": (fake, True),
            # The postmaster's reaped children are every database's backends: not counted.
            "db": (lambda: postgres_pids(db), False),
        }
    )


RequestsOf = Callable[[Phase, list[Text]], list[dict[str, Any]]]


def _requests_builder(
    key: str, browser: Browser | None, conversation_of: dict[str, int]
) -> RequestsOf:
    """The requests that send a phase's texts."""

    def build(phase: Phase, texts: list[Text]) -> list[dict[str, Any]]:
        if phase.kind == "composer":
            if browser is None:
                raise BenchError("not logged in (see the composer's error)")
            return [composer_request(browser, conversation_of[t.to], t) for t in texts]
        k = phase.per_request
        chunks = [texts[i : i + k] for i in range(0, len(texts), k)]
        return [api_request(key, chunk, phase.kind == "batch") for chunk in chunks]

    return build


def _run_phase(
    db: Database,
    stack: Stack,
    meter: CpuMeter,
    phase: Phase,
    texts: list[Text],
    requests_of: RequestsOf,
    drain_timeout: float,
) -> PhaseRun:
    last_id = int(db.scalar("SELECT COALESCE(MAX(id), 0) FROM conversations_message"))
    deliveries_before = len(stack.fake_deliveries())
    requests = requests_of(phase, texts)
    path = db.workdir / f"send-{phase.kind}-{phase.concurrency}-{time.time_ns()}.jsonl"
    path.write_text("".join(json.dumps(request) + "\n" for request in requests))
    spec: dict[str, Any] = {
        "port": stack.web_port,
        "mode": "closed",
        "concurrency": phase.concurrency,
        "duration": phase.duration,
        "timeout": phase.timeout,
        "requests_file": str(path),
        # API answers are checked one by one; the composer's are whole inbox panels.
        "keep_bodies": phase.kind != "composer",
    }
    postgres_seen = bool(postgres_pids(db)) if db.kind == "postgres" else True
    started = time.monotonic()
    meter.start()
    before = os.times()
    out = run_loadgen(spec, db.workdir, timeout=phase.duration + phase.timeout + 120)
    after = os.times()
    loadgen_cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    drained = _wait_drained(db, drain_timeout)
    cpu = meter.stop()
    window = time.monotonic() - started
    stack.check_alive()
    deliveries = stack.fake_deliveries()[deliveries_before:]
    rows = _rows_since(db, last_id)
    path.unlink(missing_ok=True)
    return PhaseRun(
        phase, texts, out, drained, cpu, postgres_seen, loadgen_cpu, deliveries, rows, window
    )


def _wait_drained(db: Database, timeout: float) -> bool:
    """Whether the worker sent every queued text within `timeout` seconds."""

    def empty() -> bool:
        pending = db.scalar(
            "SELECT COUNT(*) FROM conversations_message "
            "WHERE direction = 'out' AND status IN ('queued', 'sending')"
        )
        return int(pending) == 0

    try:
        wait_until(empty, timeout, "the worker to send every text", interval=0.05)
    except BenchError:
        return False  # the checks report what is missing as lost
    return True


def _epoch(value: Any) -> float:
    """A `created_at` as either database gives it (SQLite: text in UTC), in epoch seconds."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _rows_since(db: Database, last_id: int) -> list[Row]:
    query = (
        "SELECT uid, to_number, body, status, created_at, direction FROM conversations_message "
        "WHERE id > %s ORDER BY id"
    )
    if db.kind == "sqlite":
        query = query.replace("%s", "?")
    return [
        Row(str(uuid.UUID(str(uid))), to, body, status, _epoch(created), direction)
        for uid, to, body, status, created, direction in db.connection()
        .execute(query, (last_id,))
        .fetchall()
    ]


@dataclass
class Answers:
    """What the server answered, per text."""

    accepted: dict[str, str | None] = field(default_factory=dict)  # to -> uid (None: unknown)
    refused: Counter[str] = field(default_factory=Counter)  # texts, by status or error code
    server_errors: int = 0  # requests (and batch items) answered 5xx or not at all
    wrong: list[str] = field(default_factory=list)  # answers that are not what was asked
    failed_requests: Counter[int] = field(default_factory=Counter)  # by status
    first_failure: str = ""  # the body of the first failed request


def _answers(run: PhaseRun) -> Answers:
    phase, answers = run.phase, Answers()
    bodies: dict[str, str] = run.out.get("bodies", {})
    k = phase.per_request
    for index, _at, _latency, status in run.out["results"]:
        texts = run.texts[index * k : (index + 1) * k]
        body = bodies.get(str(index), "")
        if status == 0 or status >= 500:
            answers.server_errors += 1
        if status != SUCCESS[phase.kind]:
            answers.failed_requests[status] += 1
            answers.first_failure = answers.first_failure or body[:300]
            if 0 < status < 500:
                answers.refused[f"HTTP {status}"] += len(texts)
            continue
        if phase.kind == "composer":
            answers.accepted[texts[0].to] = None  # the panel names no message: the database will
        elif phase.kind == "api":
            message = _json(body)
            _accept(answers, texts[0], message if isinstance(message, dict) else None)
        else:
            _batch(answers, texts, _json(body))
    return answers


def _json(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _accept(answers: Answers, text: Text, message: dict[str, Any] | None) -> None:
    """A text answered 201: its message must be the text asked for, queued."""
    if message is None or not message.get("id"):
        answers.accepted[text.to] = None
        answers.wrong.append(f"{text.to}: 201 without a message")
        return
    answers.accepted[text.to] = str(message["id"])
    got = (message.get("to"), message.get("from"), message.get("body"), message.get("status"))
    if got != (text.to, text.sender, text.body, "queued"):
        answers.wrong.append(f"{text.to}: 201 with {got}")


def _batch(answers: Answers, texts: list[Text], data: Any) -> None:
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list) or len(results) != len(texts):
        count = len(results) if isinstance(results, list) else "no"
        answers.wrong.append(f"a batch of {len(texts)} answered with {count} results")
        return
    accepted = 0
    for text, item in zip(texts, results, strict=True):
        status = item.get("status") if isinstance(item, dict) else None
        if status == 201:
            accepted += 1
            message = item.get("message")
            _accept(answers, text, message if isinstance(message, dict) else None)
        elif isinstance(status, int) and status >= 500:
            answers.server_errors += 1
        else:
            error = item.get("error") if isinstance(item, dict) else None
            code = error.get("code", "") if isinstance(error, dict) else ""
            answers.refused[f"{status} {code}".strip()] += 1
    if (data.get("accepted"), data.get("refused")) != (accepted, len(texts) - accepted):
        answers.wrong.append(
            f"a batch said accepted {data.get('accepted')}, refused {data.get('refused')}; its "
            f"results {accepted} and {len(texts) - accepted}"
        )


def _report(ctx: Context, run: PhaseRun) -> None:
    phase, case = run.phase, run.phase.case
    results = run.out["results"]
    answers = _answers(run)
    method_path = PATHS[phase.kind]
    accepted = len(answers.accepted)
    ctx.record(BENCH, case, "requests", len(results), "count")
    ctx.record(BENCH, case, "accepted", accepted, "texts", ok=accepted > 0)
    failed = sum(answers.failed_requests.values())
    if failed:
        statuses = ", ".join(f"{n} x HTTP {s}" for s, n in sorted(answers.failed_requests.items()))
        why = f"{method_path} answered {statuses} of {len(results)} requests"
        if answers.failed_requests.get(404) == len(results):
            why += " (is the endpoint there?)"
        if answers.first_failure:
            why += f"; first: {answers.first_failure!r}"
        ctx.record(BENCH, case, "error", why[:2000], "", ok=False)

    # Where every accepted text went: stored, sent, delivered once.
    rows = [row for row in run.rows if row.direction == "out"]
    row_of: dict[str, Row] = {}
    duplicate_rows = 0
    for row in rows:
        duplicate_rows += row.to in row_of
        row_of[row.to] = row
    delivery_of: dict[str, dict[str, Any]] = {}
    for delivery in run.deliveries:
        delivery_of.setdefault(delivery["idempotency_key"], delivery)
    lost = []
    uids = set()
    for to, uid in answers.accepted.items():
        stored = row_of.get(to)
        if stored is None or (uid is not None and uid != stored.uid):
            lost.append(to)
            continue
        uids.add(stored.uid)
        if stored.status != "sent" or stored.uid not in delivery_of:
            lost.append(to)
    by_key = Counter(d["idempotency_key"] for d in run.deliveries)
    by_text = Counter((d["to"], d["body"]) for d in run.deliveries)
    twice = sum(n - 1 for n in by_key.values()) + sum(n - 1 for n in by_text.values())
    unexpected = [d for d in run.deliveries if d["idempotency_key"] not in uids]
    stored_ok = (
        len(rows) == accepted
        and not duplicate_rows
        and all(row.to in answers.accepted for row in rows)
        and len(run.rows) == len(rows)
    )

    first_sent = min((r[1] for r in results), default=math.nan)
    last_answer = max((r[1] + r[2] for r in results), default=math.nan)
    ok_latencies = [r[2] * 1000 for r in results if r[3] == SUCCESS[phase.kind]]
    delivered = [delivery_of[uid] for uid in uids if uid in delivery_of]
    created = {row.uid: row.created_at for row in rows}
    to_carrier = [(d["at"] - created[d["idempotency_key"]]) * 1000 for d in delivered]
    ceiling = f"@c={phase.concurrency}" if phase.kind == "api" else None
    measures: dict[str, float] = {}
    if accepted:
        measures["accepted_rate"] = accepted / max(last_answer - first_sent, 1e-9)
        ctx.record(
            BENCH,
            case,
            "accepted_rate",
            measures["accepted_rate"],
            "texts/s",
            ceiling=f"healthz_rate{ceiling}" if ceiling else None,
        )
        for q in (50, 99):
            measures[f"p{q}"] = percentile(ok_latencies, q)
            ctx.record(
                BENCH,
                case,
                f"accept_p{q}_ms",
                measures[f"p{q}"],
                "ms",
                ceiling=f"healthz_p{q}{ceiling}" if ceiling else None,
                inverse=True,
            )
    if delivered:
        last = max(d["at"] for d in delivered)
        measures["delivered_rate"] = len(delivered) / max(last - first_sent, 1e-9)
        ctx.record(BENCH, case, "delivered_rate", measures["delivered_rate"], "texts/s")
        for q in (50, 99):
            value = percentile(to_carrier, q)
            measures[f"carrier_p{q}"] = value
            ctx.record(BENCH, case, f"commit_to_carrier_p{q}_ms", value, "ms")
    if accepted:
        _report_cpu(ctx, run, accepted, measures)

    ctx.record(BENCH, case, "lost", len(lost), "texts", ok=not lost)
    ctx.record(BENCH, case, "delivered_twice", twice, "texts", ok=twice == 0)
    ctx.record(BENCH, case, "unexpected_deliveries", len(unexpected), "texts", ok=not unexpected)
    errors = answers.server_errors
    ctx.record(BENCH, case, "server_errors", errors, "requests", ok=not errors)
    refused = sum(answers.refused.values())
    if refused:
        ctx.record(BENCH, case, "refused_kinds", json.dumps(answers.refused), "")
    # Every text the bench sends is one Twoway must take; a whole request failing is `error`.
    refused_texts = refused - sum(
        n * phase.per_request for s, n in answers.failed_requests.items() if 0 < s < 500
    )
    ctx.record(BENCH, case, "refused", refused_texts, "texts", ok=refused_texts == 0)
    if phase.kind != "composer":
        ctx.record(BENCH, case, "answers_wrong", len(answers.wrong), "texts", ok=not answers.wrong)
        if answers.wrong:
            ctx.record(BENCH, case, "answers_wrong_first", answers.wrong[0][:500], "")
    ctx.record(BENCH, case, "stored", len(run.rows), "messages", ok=stored_ok)
    if not run.drained:
        ctx.record(BENCH, case, "drained", 0, "0/1", ok=False)

    checks_ok = (
        accepted > 0
        and not failed
        and not lost
        and not twice
        and not unexpected
        and not answers.server_errors
        and not refused_texts
        and not answers.wrong
        and stored_ok
        and run.drained
    )
    line = f"   send {case}: {accepted} texts accepted"
    if accepted:
        line += (
            f" at {measures['accepted_rate']:.0f}/s (p50 {measures['p50']:.0f} ms,"
            f" p99 {measures['p99']:.0f} ms)"
        )
    if delivered:
        line += (
            f", delivered at {measures['delivered_rate']:.0f}/s, stored to carrier p50"
            f" {measures['carrier_p50']:.0f} ms p99 {measures['carrier_p99']:.0f} ms"
        )
    if "cpu_total" in measures:
        line += (
            f"; CPU ms/text web {measures['cpu_web']:.1f} worker {measures['cpu_worker']:.1f}"
            f" db {measures['cpu_db']:.1f} loadgen {measures['cpu_loadgen']:.1f}"
            f" other {measures['cpu_other']:.1f}"
        )
    line += "; checks ok" if checks_ok else "; CHECKS FAILED"
    print(line, file=sys.stderr, flush=True)


def _report_cpu(ctx: Context, run: PhaseRun, accepted: int, measures: dict[str, float]) -> None:
    """CPU per accepted text, from the load's start until the last text was sent."""
    case, cpu = run.phase.case, run.cpu

    def per_text(seconds: float) -> float:
        return seconds * 1000 / accepted

    db_seconds = cpu["db"] if run.postgres_seen else math.nan
    web, worker = per_text(cpu["web"]), per_text(cpu["worker"])
    database = per_text(db_seconds)
    loadgen = per_text(run.loadgen_cpu)
    accounted = cpu["web"] + cpu["worker"] + (0 if math.isnan(db_seconds) else db_seconds)
    accounted += run.loadgen_cpu + cpu["fake_carrier"] + cpu["runner"]
    other = per_text(cpu["machine"] - accounted)
    measures.update(
        cpu_web=web,
        cpu_worker=worker,
        cpu_db=database,
        cpu_loadgen=loadgen,
        cpu_total=web + worker + database,
        cpu_other=other,
    )
    ctx.record(BENCH, case, "cpu_ms_web", web, "ms/text")
    ctx.record(BENCH, case, "cpu_ms_worker", worker, "ms/text")
    ctx.record(BENCH, case, "cpu_ms_db", database, "ms/text")
    ctx.record(BENCH, case, "cpu_ms_total", web + worker + database, "ms/text")
    ctx.record(BENCH, case, "cpu_ms_loadgen", loadgen, "ms/text")
    ctx.record(BENCH, case, "cpu_ms_fake_carrier", per_text(cpu["fake_carrier"]), "ms/text")
    ctx.record(BENCH, case, "cpu_ms_runner", per_text(cpu["runner"]), "ms/text")
    ctx.record(BENCH, case, "cpu_ms_other", other, "ms/text")
    ctx.record(BENCH, case, "cpu_window", run.window, "s")

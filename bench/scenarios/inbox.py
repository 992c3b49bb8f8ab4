"""3. Inbox: reading a large organization's inbox, a thread and a search, as its people do.

`twoway generate-inbox` fills a fresh database with one organization (full: 100,000
conversations and 1,000,000 messages; smoke: 2,000 and 20,000), then `twoway web` serves it and
each page is requested one at a time (closed loop, one connection) with a logged-in session
cookie, so a latency is the page's own time. Pages: the inbox page and its htmx list partial per
folder (as the administrator, who sees every number, and the inbox as the Standard user, who sees
some), a thread over a spread of conversations including the longest ones (opened from the list,
which fetches the conversation's panel with htmx; the full page, as a direct visit or a reload
fetches it; the live thread partial), and the search page for a common word and for a rare one.
Before measuring, the pages are fetched once and checked against the database: the list starts
with the newest conversation of its folder and counts what the database counts, a thread (panel,
page, partial) ends with its last message, the search finds each planted rare word in its
conversations, and the Standard user never sees a conversation of a number they may not use (nor
opens one, nor finds one by searching).
"""

from __future__ import annotations

import http.cookiejar
import json
import random
import re
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from bench.harness import BenchError, Database, Stack, run_loadgen, twoway_command
from bench.scenarios import Context, percentile

BENCH = "inbox"
PASSWORD = "bench-inbox-password"  # noqa: S105 (a generated organization's, in a throwaway DB)
FOLDERS = ("needs_attention", "participating", "archived")
COMMON_WORD = "appointment"


@dataclass(frozen=True)
class Size:
    conversations: int
    messages: int
    requests: int  # per measured case
    seconds: float  # per measured case, at most
    threads: int  # distinct conversations a thread case cycles through


SIZES = {
    "smoke": Size(2_000, 20_000, requests=10, seconds=5, threads=10),
    "full": Size(100_000, 1_000_000, requests=200, seconds=20, threads=100),
}


def run(ctx: Context) -> None:
    size = SIZES[ctx.size]
    with ctx.database("inbox") as db:
        generated = _generate(ctx, db, size)
        with Stack(db, ctx.options.stack_config()) as stack:
            admin = Session(stack.web_url, generated["admin_email"])
            standard = Session(stack.web_url, generated["standard_email"])
            cases = _check(ctx, db, generated, admin, standard)
            stack.check_alive()
            for case, session, paths in cases:
                _measure(ctx, stack, db, size, case, session, paths)
            stack.check_alive()


def _generate(ctx: Context, db: Database, size: Size) -> dict[str, Any]:
    argv = [*twoway_command(), "generate-inbox", "--json", "--password", PASSWORD]
    argv += ["--conversations", str(size.conversations), "--messages", str(size.messages)]
    result = subprocess.run(  # noqa: S603 (our own argv)
        argv, env=db.env(), cwd=db.workdir, capture_output=True, text=True, timeout=3600
    )
    if result.returncode != 0:
        raise BenchError(f"twoway generate-inbox failed:\n{result.stderr[-3000:]}")
    generated: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    seconds = generated["seconds"]
    ctx.record(BENCH, "generate", "generate_seconds", seconds, "s")
    ctx.record(BENCH, "generate", "generate_rate", generated["messages"] / seconds, "msg/s")
    ok = generated["messages"] == size.messages and generated["conversations"] == size.conversations
    ctx.record(BENCH, "generate", "messages_generated", generated["messages"], "count", ok=ok)
    return generated


class Session:
    """A logged-in browser session: the cookie the load generator sends, and checked fetches."""

    def __init__(self, base_url: str, email: str) -> None:
        self.base_url = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        page = self.get("/login/")[1]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if token is None:
            raise BenchError("no CSRF token on the login page")
        form = {"csrfmiddlewaretoken": token.group(1), "username": email, "password": PASSWORD}
        request = urllib.request.Request(  # noqa: S310 (127.0.0.1)
            base_url + "/login/", data=urllib.parse.urlencode(form).encode(), method="POST"
        )
        request.add_header("Referer", base_url + "/login/")
        with self.opener.open(request, timeout=120) as response:
            response.read()
        self.cookie = "; ".join(f"{c.name}={c.value}" for c in self.jar)
        if "sessionid=" not in self.cookie:
            raise BenchError(f"logging in as {email} failed")

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        request = urllib.request.Request(self.base_url + path, headers=headers or {})  # noqa: S310
        try:
            with self.opener.open(request, timeout=120) as response:
                return int(response.status), response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def request(self, path: str) -> dict[str, Any]:
        headers = {"Cookie": self.cookie}
        if _is_htmx(path):
            headers.update(HTMX)
        return {"method": "GET", "path": path, "headers": headers}


def _rows(db: Database, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if db.kind == "sqlite":
        query = query.replace("%s", "?")
    return list(db.connection().execute(query, params).fetchall())


# What htmx sends with a click in the inbox list (the panel) or a live redraw (the thread).
HTMX = {"HX-Request": "true"}


def _is_htmx(path: str) -> bool:
    return path.endswith(("/panel/", "/thread/"))


def _listed(page: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-conversation="(\d+)"', page)]


def _check(
    ctx: Context, db: Database, generated: dict[str, Any], admin: Session, standard: Session
) -> list[tuple[str, Session, list[str]]]:
    """Check the pages against the database; the cases to measure, with their paths."""
    org = generated["organization_id"]
    allowed = set(generated["standard_numbers"])
    numbered = _rows(
        db,
        "SELECT c.id, n.number FROM conversations_conversation c JOIN numbers_phonenumber n "
        "ON n.id = c.phone_number_id WHERE c.organization_id = %s "
        "ORDER BY c.last_message_at DESC, c.id DESC",
        (org,),
    )
    visible = {pk for pk, number in numbered if number in allowed}
    hidden = [pk for pk, number in numbered if number not in allowed][:3]
    cases: list[tuple[str, Session, list[str]]] = []
    problems: list[str] = []

    # The list: newest first, counted as the database counts.
    counts = dict(
        _rows(
            db,
            "SELECT folder, COUNT(*) FROM conversations_conversation WHERE organization_id = %s "
            "GROUP BY folder",
            (org,),
        )
    )
    for folder in FOLDERS:
        newest = _rows(
            db,
            "SELECT id FROM conversations_conversation WHERE organization_id = %s AND folder = %s "
            "ORDER BY last_message_at DESC, id DESC LIMIT 1",
            (org, folder),
        )
        for path in (f"/inbox/?folder={folder}", f"/inbox/list/?folder={folder}"):
            status, page = admin.get(path)
            listed = _listed(page)
            if status != 200 or not listed or listed[0] != newest[0][0]:
                problems.append(f"{path}: {status}, first {listed[:1]} not {newest[0][0]}")
            # Exact, or capped ("999+") when the folder holds more.
            shown = re.search(rf'data-count="{folder}">(\d+)(\+?)<', page)
            count = counts.get(folder, 0)
            if not shown or not (int(shown[1]) == count if not shown[2] else int(shown[1]) < count):
                problems.append(f"{path}: count of {folder} {shown and shown[0]}, not {count}")
        cases.append((f"inbox {folder}", admin, [f"/inbox/?folder={folder}"]))
        cases.append((f"list {folder}", admin, [f"/inbox/list/?folder={folder}"]))
    ctx.record(BENCH, "admin", "inbox_lists_newest_first", len(FOLDERS) * 2, "pages",
               ok=not problems)  # fmt: skip

    # The Standard user: only conversations of their numbers, in lists, threads and search.
    leaks: list[str] = []
    for folder in FOLDERS:
        status, page = standard.get(f"/inbox/?folder={folder}")
        seen = _listed(page)
        if status != 200 or not seen:
            leaks.append(f"standard /inbox/?folder={folder}: {status}, {len(seen)} listed")
        leaks += [f"standard sees conversation {pk}" for pk in seen if pk not in visible]
    for pk in hidden:
        for path in (f"/inbox/c/{pk}/", f"/inbox/c/{pk}/panel/", f"/inbox/c/{pk}/thread/"):
            status, _ = standard.get(path, HTMX if _is_htmx(path) else None)
            if status != 404:
                leaks.append(f"standard opened {path}: {status}")
    cases.append(("inbox standard user", standard, ["/inbox/"]))

    # Threads: a spread of conversations and the longest ones, each ending with its last message.
    size = SIZES[ctx.size]
    longest = [
        pk
        for (pk,) in _rows(
            db,
            "SELECT conversation_id FROM conversations_message WHERE organization_id = %s "
            "GROUP BY conversation_id ORDER BY COUNT(*) DESC LIMIT %s",
            (org, max(size.threads // 10, 1)),
        )
    ]
    spread = [pk for (pk,) in _rows(
        db, "SELECT id FROM conversations_conversation WHERE organization_id = %s", (org,)
    )]  # fmt: skip
    rng = random.Random(7)
    threads = longest + rng.sample(spread, min(size.threads - len(longest), len(spread)))
    bad_threads = []
    for pk in threads[: max(size.threads // 5, 3)] + longest:
        last = _rows(
            db,
            "SELECT uid FROM conversations_message WHERE conversation_id = %s "
            "ORDER BY created_at DESC, id DESC LIMIT 1",
            (pk,),
        )[0][0]
        uid = str(last).replace("-", "")
        for path in (f"/inbox/c/{pk}/panel/", f"/inbox/c/{pk}/", f"/inbox/c/{pk}/thread/"):
            status, page = admin.get(path, HTMX if _is_htmx(path) else None)
            uids = re.findall(r'data-uid="([0-9a-f-]+)"', page)
            if status != 200 or not uids or uids[-1].replace("-", "") != uid:
                bad_threads.append(f"{path}: {status}, last {uids[-1:]} not {uid}")
            if path.endswith("/panel/") and ("conversation-items" in page or len(uids) > 50):
                bad_threads.append(f"{path}: the list, or {len(uids)} messages (50 at most)")
    ctx.record(BENCH, "admin", "threads_end_with_last_message", len(threads), "threads",
               ok=not bad_threads)  # fmt: skip
    problems += bad_threads
    # What a click in the list fetches: the panel (htmx swaps it in; the list stays on screen).
    cases.append(("thread open", admin, [f"/inbox/c/{pk}/panel/" for pk in threads]))
    cases.append(("thread page", admin, [f"/inbox/c/{pk}/" for pk in threads]))
    cases.append(("thread partial", admin, [f"/inbox/c/{pk}/thread/" for pk in threads]))

    # Search, once the search page exists.
    status, _ = admin.get(f"/search/?q={COMMON_WORD}")
    if status == 404:
        ctx.record(BENCH, "search", "search_page", "not built yet", "")
    else:
        found_all: list[str] = []
        for word, conversations in generated["planted"].items():
            status, page = admin.get(f"/search/?q={word}")
            missing = [pk for pk in conversations if f"/inbox/c/{pk}/" not in page]
            if status != 200 or missing:
                found_all.append(f"search {word}: {status}, missing {missing}")
            status, page = standard.get(f"/search/?q={word}")
            for pk in conversations:
                shown = f"/inbox/c/{pk}/" in page
                if status != 200 or shown != (pk in visible):
                    leaks.append(f"standard search {word}: {status}, conversation {pk} {shown}")
        status, page = admin.get(f"/search/?q={COMMON_WORD}")
        if status != 200 or "/inbox/c/" not in page:
            found_all.append(f"search {COMMON_WORD}: {status}, nothing found")
        ctx.record(BENCH, "search", "search_finds_planted", len(generated["planted"]), "words",
                   ok=not found_all)  # fmt: skip
        problems += found_all
        rare = next(iter(generated["planted"]))
        cases.append((f"search common ({COMMON_WORD})", admin, [f"/search/?q={COMMON_WORD}"]))
        cases.append((f"search rare ({rare})", admin, [f"/search/?q={rare}"]))
        cases.append(("search common, standard user", standard, [f"/search/?q={COMMON_WORD}"]))
    ctx.record(BENCH, "standard", "standard_sees_only_own_numbers", len(visible), "conversations",
               ok=not leaks)  # fmt: skip
    problems += leaks
    if problems:
        ctx.record(BENCH, "all", "problems", json.dumps(problems[:10]), "")
    return cases


def _measure(
    ctx: Context,
    stack: Stack,
    db: Database,
    size: Size,
    case: str,
    session: Session,
    paths: list[str],
) -> None:
    requests_file = db.workdir / "inbox-requests.jsonl"
    requests_file.write_text("".join(json.dumps(session.request(path)) + "\n" for path in paths))
    spec = {
        "port": stack.web_port,
        "mode": "closed",
        "concurrency": 1,
        "duration": size.seconds,
        "timeout": 60,
        "requests_file": str(requests_file),
        "count": size.requests + 2,
    }
    out = run_loadgen(spec, db.workdir, timeout=size.seconds + 120)
    results = out["results"][2:]  # the first two warm the server's caches for this page
    latencies = [r[2] * 1000 for r in results if r[3] == 200]
    errors = len(results) - len(latencies)
    ctx.record(BENCH, case, "requests", len(results), "count")
    for q in (50, 95, 99):
        ctx.record(BENCH, case, f"p{q}", percentile(latencies, q), "ms",
                   ceiling=f"healthz_p{q}@c=1", inverse=True)  # fmt: skip
    ctx.record(BENCH, case, "http_errors", errors, "count", ok=errors == 0 and bool(latencies))

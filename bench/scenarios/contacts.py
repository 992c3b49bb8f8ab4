"""Contacts: a CSV import as an administrator runs it, and the address book's pages at size.

- `import`: a generated CSV (name, e-mail, client ID, client type, a phone typed as people type
  them; a tenth of the rows with a problem: a number that is not one, no number, the row before
  repeated) imported with `twoway contacts import FILE --email ADMIN`, then the same file again.
  Per run: seconds, rows/s and the command's peak RSS; checks: every good row made a contact,
  every bad one was reported, and the second run changed nothing.
- `lookup`: `bench/contacts_lookup.py` on the same database (an organization of its own, filled
  with bulk inserts): each page of the contacts table (search kinds, filters, paging) and New
  conversation's suggestions, in process through Django's test client, median and p95 in ms.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import PYTHON, REPO, BenchError, twoway_command
from bench.scenarios import Context

BENCH = "contacts"
EMAIL = "importer@bench.example.com"
PASSWORD = "bench-import-password"  # noqa: S105 (a throwaway database's administrator)


@dataclass(frozen=True)
class Size:
    rows: int
    lookup_contacts: int
    requests: int


SIZES = {
    "smoke": Size(rows=2_000, lookup_contacts=2_000, requests=5),
    "full": Size(rows=100_000, lookup_contacts=100_000, requests=100),
}


def run(ctx: Context) -> None:
    size = SIZES[ctx.size]
    with ctx.database("contacts") as db:
        env = db.env()
        _twoway(env, db.workdir, "migrate")
        _twoway(
            env,
            db.workdir,
            "createadmin",
            "--email",
            EMAIL,
            "--password",
            PASSWORD,
            "--organization",
            "Bench import",
        )
        path = db.workdir / "clients.csv"
        good, bad = _write_csv(path, size.rows)
        for case in ("import", "import again"):
            seconds, rss_kib, out = _timed(env, db.workdir, path)
            ctx.record(BENCH, case, "seconds", seconds, "s")
            ctx.record(BENCH, case, "rows_per_second", size.rows / seconds, "rows/s")
            ctx.record(BENCH, case, "peak_rss", rss_kib / 1024, "MiB")
            summary = _summary(out)
            first = case == "import"
            # Every good row makes a contact the first time; nothing changes the second.
            expected = good if first else 0
            ok = summary["created"] == expected
            ctx.record(BENCH, case, "created", summary["created"], "contacts", ok=ok)
            ok = summary["skipped"] == bad
            ctx.record(BENCH, case, "skipped", summary["skipped"], "rows", ok=ok)
            if not first:
                ok = summary["updated"] == 0
                ctx.record(BENCH, case, "updated", summary["updated"], "contacts", ok=ok)
        for line in _lookup(env, db.workdir, size):
            ctx.record(BENCH, f"lookup: {line['case']}", "p95", line["p95_ms"], "ms")
            ctx.record(BENCH, f"lookup: {line['case']}", "median", line["median_ms"], "ms")


def _write_csv(path: Path, rows: int) -> tuple[int, int]:
    """The file, and how many rows make a contact and how many are reported. Every tenth row
    has a problem, in turn: a number that is not one, no number, the previous row again."""
    good = bad = 0
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["First Name", "Last Name", "E-mail", "Client ID", "Client type", "Mobile"])
        previous: list[str] = []
        for n in range(rows):
            line = n // 10
            digits = f"{2000000 + n:07d}"
            # Typed as people type them: national with punctuation, or E.164.
            phone = f"(312) {digits[:3]}-{digits[3:]}" if n % 2 else f"+1312{digits}"
            row = [f"Client{n}", "Bench", f"client{n}@example.com", f"C{n:07d}", "Member", phone]
            if n % 10 == 9:
                kind = line % 3
                if kind == 0:
                    row[5] = "12345"
                elif kind == 1:
                    row[5] = ""
                else:
                    row = previous  # the same number as the row before: merged, not a problem
            if n % 10 == 9 and line % 3 != 2:
                bad += 1
            elif n % 10 != 9:
                good += 1
            writer.writerow(row)
            previous = row
    return good, bad


def _timed(env: dict[str, str], workdir: Path, path: Path) -> tuple[float, int, str]:
    argv = [*twoway_command(), "contacts", "import", str(path), "--email", EMAIL]
    errors = workdir / "import-stderr.txt"
    began = time.perf_counter()
    with errors.open("w") as err:
        process = subprocess.Popen(  # noqa: S603 (our own argv)
            argv, env=env, cwd=workdir, stdout=subprocess.PIPE, stderr=err, text=True
        )
        assert process.stdout is not None
        out = process.stdout.read()
        # This command's own resource use (its peak RSS), not the benchmark's other children's.
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - began
    if process.returncode != 0:
        raise BenchError(f"twoway contacts import failed:\n{errors.read_text()[-3000:]}")
    return seconds, int(usage.ru_maxrss), out


def _summary(out: str) -> dict[str, int]:
    found = re.search(
        r"([\d,]+) rows read: ([\d,]+) created, ([\d,]+) added to contacts already there, "
        r"([\d,]+) with nothing new, ([\d,]+) skipped",
        out,
    )
    if found is None:
        raise BenchError(f"no summary in the import's output:\n{out[:2000]}")
    read, created, updated, unchanged, skipped = (int(g.replace(",", "")) for g in found.groups())
    return {
        "read": read,
        "created": created,
        "updated": updated,
        "unchanged": unchanged,
        "skipped": skipped,
    }


def _lookup(env: dict[str, str], workdir: Path, size: Size) -> list[dict[str, Any]]:
    argv = [
        PYTHON,
        "-m",
        "bench.contacts_lookup",
        "--contacts",
        str(size.lookup_contacts),
        "--requests",
        str(size.requests),
        "--json",
    ]
    result = subprocess.run(  # noqa: S603 (our own argv)
        argv,
        env={**env, "PYTHONPATH": str(REPO)},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if result.returncode != 0:
        raise BenchError(f"bench.contacts_lookup failed:\n{result.stderr[-3000:]}")
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def _twoway(env: dict[str, str], workdir: Path, *args: str) -> None:
    result = subprocess.run(  # noqa: S603 (our own argv)
        [*twoway_command(), *args],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise BenchError(f"twoway {args[0]} failed:\n{result.stderr[-3000:]}")

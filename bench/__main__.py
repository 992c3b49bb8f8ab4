"""`python -m bench [BENCHMARK ...|all] --db sqlite|postgres|both --size smoke|full`

Benchmarks: inbound, outbound, inbox, ceilings (always first, unless --no-ceilings).

Prints one JSON line per result on stdout as it is measured, and a table on stderr at the end.
Exits 1 when any correctness check failed or a benchmark could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit, urlunsplit

from bench.harness import (
    DEFAULT_PG_ADMIN_URL,
    BenchError,
    cpu_busy,
    cpu_seconds,
    machine,
    wait_quiet,
)
from bench.scenarios import Context, Options, Result, registry


def default_pg_admin_url() -> str:
    """BENCH_POSTGRES_URL, else the server of a postgres DATABASE_URL, else the local one."""
    if url := os.environ.get("BENCH_POSTGRES_URL"):
        return url
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith(("postgres://", "postgresql://")):
        return urlunsplit(urlsplit(database_url)._replace(path="/postgres"))
    return DEFAULT_PG_ADMIN_URL


def build_parser(names: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "benchmarks", nargs="*", default=["all"], choices=[*names, "all"], metavar="BENCHMARK"
    )
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--size", choices=["smoke", "full"], default="smoke")
    parser.add_argument("--pg-url", default=default_pg_admin_url(), help="server to create on")
    parser.add_argument("--web-processes", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--worker-concurrency", type=int, default=None)
    parser.add_argument(
        "--worker-processes",
        type=int,
        default=None,
        help="processes each `twoway worker` runs (default: Twoway's WORKER_PROCESSES)",
    )
    parser.add_argument("--carrier-latency-ms", type=float, default=0.0)
    parser.add_argument(
        "--no-ceilings", action="store_true", help="skip the ceilings (no ratios then)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work dir (logs)")
    parser.add_argument(
        "--py-spy", type=Path, default=None, metavar="DIR", help="profile web and workers into DIR"
    )
    parser.add_argument("--py-spy-gil", action="store_true", help="profile CPU only (--gil)")
    parser.add_argument(
        "--soak-messages",
        type=int,
        default=0,
        metavar="N",
        help="inbound: afterwards, N raw events straight into the table for the worker (RSS)",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        metavar="SECONDS",
        help="before each benchmark, wait up to this long for other processes to leave the CPUs",
    )
    return parser


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds every `with`: children stopped, databases dropped


def main(argv: list[str] | None = None) -> int:
    scenarios = registry()
    args = build_parser(list(scenarios)).parse_args(argv)
    selected = list(scenarios) if "all" in args.benchmarks else args.benchmarks
    names = [name for name in scenarios if name in selected]
    if args.no_ceilings:
        names = [name for name in names if name != "ceilings"]
    elif names and "ceilings" not in names:
        names.insert(0, "ceilings")
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    options = Options(
        web_processes=args.web_processes,
        workers=args.workers,
        worker_concurrency=args.worker_concurrency,
        worker_processes=args.worker_processes,
        carrier_latency_ms=args.carrier_latency_ms,
        profile_dir=args.py_spy.resolve() if args.py_spy else None,
        profile_gil=args.py_spy_gil,
        soak_messages=args.soak_messages,
    )
    signal.signal(signal.SIGTERM, _terminate)
    started = time.monotonic()
    print(f"machine: {json.dumps(machine())}", file=sys.stderr, flush=True)
    results: list[Result] = []
    try:
        for db in dbs:
            work = Path(tempfile.mkdtemp(prefix=f"twoway-bench-{db}-"))
            ctx = Context(
                db=db,
                size=args.size,
                workdir=work,
                pg_admin_url=args.pg_url,
                options=options,
                emit=lambda r: print(json.dumps(r.as_dict()), flush=True),
            )
            for name in names:
                busy = wait_quiet(0.1, args.wait_quiet) if args.wait_quiet else cpu_busy(1.0)
                began = time.monotonic()
                machine_before, ours_before = cpu_seconds()
                print(
                    f"== {name} on {db} ({args.size}); CPUs {busy:.0%} busy before it",
                    file=sys.stderr,
                    flush=True,
                )
                try:
                    scenarios[name](ctx)
                except BenchError as exc:
                    ctx.record(name, "", "error", str(exc)[-2000:], "", ok=False)
                except Exception:
                    ctx.record(name, "", "error", traceback.format_exc()[-2000:], "", ok=False)
                elapsed = time.monotonic() - began
                machine_after, ours_after = cpu_seconds()
                used, ours = machine_after - machine_before, ours_after - ours_before
                print(
                    f"   {name} on {db}: {elapsed:.0f} s; CPU {used:.0f} s of "
                    f"{elapsed * (os.cpu_count() or 1):.0f} s, of which the bench's processes "
                    f"{ours:.0f} s and others (PostgreSQL included) {used - ours:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
            results += ctx.results
            if args.keep:
                print(f"work dir kept: {work}", file=sys.stderr)
            else:
                _remove(work)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    print(table(results), file=sys.stderr)
    print(
        f"total {time.monotonic() - started:.0f} s; machine at the end: {json.dumps(machine())}",
        file=sys.stderr,
    )
    failed = [r for r in results if r.ok is False]
    return 1 if failed else 0


def _remove(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _format(value: object) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    text = str(value)
    return text if len(text) < 40 else text[:37] + "..."


def table(results: list[Result]) -> str:
    header = ["db", "bench", "case", "metric", "value", "unit", "x ceiling", "ok"]
    rows = [
        [
            r.db,
            r.bench,
            r.case,
            r.metric,
            _format(r.value),
            r.unit,
            "" if r.ceiling_fraction is None else f"{r.ceiling_fraction:.2f}",
            {True: "ok", False: "FAIL", None: ""}[r.ok],
        ]
        for r in results
    ]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    right = {4, 6}
    lines = []
    for row in [header, ["-" * w for w in widths], *rows]:
        cells = [
            str(cell).rjust(w) if i in right else str(cell).ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

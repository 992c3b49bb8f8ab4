"""The `twoway` command: everything an operator runs."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from typing import Any


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "twoway.settings")
    import django

    django.setup()


def cmd_migrate(args: argparse.Namespace) -> int:
    _setup_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=args.verbosity)
    return 0


def cmd_createadmin(args: argparse.Namespace) -> int:
    _setup_django()
    from twoway.numbers.bootstrap import admin_create

    try:
        result = admin_create(
            email=args.email,
            password=args.password,
            organization_name=args.organization,
            country=args.country,
            two_way=not args.no_two_way,
        )
    except ValueError as exc:
        print(f"twoway createadmin: {exc}", file=sys.stderr)
        return 2
    print(result.describe())
    return 0


def cmd_createapikey(args: argparse.Namespace) -> int:
    _setup_django()
    from twoway.accounts.api_keys import api_key_create, api_key_owner_for_email
    from twoway.core.errors import TwowayError

    try:
        owner = api_key_owner_for_email(args.email)
        _, raw = api_key_create(owner=owner, name=args.name)
    except TwowayError as exc:
        print(f"twoway createapikey: {exc.message}", file=sys.stderr)
        return 2
    print(raw)
    print(
        f"(a key of {owner.user.email}, {owner.get_role_display()}, in "
        f"{owner.organization.name}: it can do what they can; shown once)",
        file=sys.stderr,
    )
    return 0


def cmd_balance(args: argparse.Namespace) -> int:
    """Show or change an organization's SMS balance (segments)."""
    _setup_django()
    from twoway.accounts.models import Membership
    from twoway.billing.services import balance_grant, balance_of
    from twoway.core.errors import TwowayError

    membership = Membership.objects.filter(user__username=args.email.strip().lower()).first()
    if membership is None:
        print(f"twoway balance: no user with e-mail {args.email}", file=sys.stderr)
        return 2
    organization = membership.organization
    if args.add:
        try:
            balance_grant(organization=organization, amount=args.add, note=args.note)
        except TwowayError as exc:
            print(f"twoway balance: {exc.message}", file=sys.stderr)
            return 2
    left = balance_of(organization.pk)
    print(f"{organization.name}: " + ("unlimited" if left is None else f"{left} segments left"))
    return 0


def cmd_events(args: argparse.Namespace) -> int:
    """Carrier events processing gave up on: list them, or hand some back to the worker."""
    _setup_django()
    from twoway.carrier_events.failed import failed_events, failed_events_retry

    if args.action == "retry":
        count = failed_events_retry(ids=args.ids)
        print(f"{count} failed event(s) handed back to the worker.")
        return 0 if count == len(set(args.ids)) else 1
    events = list(failed_events(args.limit))
    for event in events:
        assert event.failed_at is not None
        print(
            f"{event.pk}\t{event.failed_at:%Y-%m-%d %H:%M:%S}\t{event.carrier} {event.kind}"
            f"\t{event.dedupe_key}\t{event.error}"
        )
    if not events:
        print("No failed carrier events.")
    return 0


def cmd_generate_inbox(args: argparse.Namespace) -> int:
    """A new organization with a generated inbox of the given size (benchmarks, trials)."""
    _setup_django()
    import json

    from twoway.sample_inbox.generate import inbox_generate

    def progress(text: str) -> None:
        if not args.json:
            print(text, file=sys.stderr, flush=True)

    try:
        result = inbox_generate(
            conversations=args.conversations,
            messages=args.messages,
            organization_name=args.organization,
            admin_email=args.admin_email,
            standard_email=args.standard_email,
            password=args.password,
            numbers=args.numbers,
            seed=args.seed,
            progress=progress,
        )
    except ValueError as exc:
        print(f"twoway generate-inbox: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.as_dict()))
    else:
        print(
            f"Organization {result.organization_id}: {result.contacts:,} contacts, "
            f"{result.conversations:,} conversations, {result.messages:,} messages in "
            f"{result.seconds:.0f} s.\nLog in as {result.admin_email} (Administrative) or "
            f"{result.standard_email} (Standard, numbers {', '.join(result.standard_numbers)}) "
            f"with password {result.password}."
        )
    return 0


def cmd_contacts_import(args: argparse.Namespace) -> int:
    """Import a CSV file of contacts in the foreground, as the Contacts page does."""
    _setup_django()
    import csv

    from twoway.accounts.models import Membership
    from twoway.contacts.import_columns import field_named
    from twoway.contacts.imports import (
        contact_import_cancel,
        contact_import_create,
        contact_import_run,
        contact_import_start,
    )
    from twoway.contacts.models import ContactImport, CustomField
    from twoway.contacts.selectors import contact_import_problems
    from twoway.core.errors import InvalidInput, TwowayError
    from twoway.core.text import csv_cell

    membership = Membership.objects.filter(user__username=args.email.strip().lower()).first()
    if membership is None:
        print(f"twoway contacts import: no user with e-mail {args.email}", file=sys.stderr)
        return 2
    try:
        with open(args.file, "rb") as content:
            started = contact_import_create(
                membership=membership,
                file_name=os.path.basename(args.file),
                content=content,
                size=os.fstat(content.fileno()).st_size,
            )
    except OSError as exc:
        print(f"twoway contacts import: {exc.strerror}: {args.file}", file=sys.stderr)
        return 2
    except TwowayError as exc:
        print(f"twoway contacts import: {exc.message}", file=sys.stderr)
        return 2
    fields = list(CustomField.objects.filter(organization_id=membership.organization_id))
    mapping = list(started.mapping)
    try:
        for choice in args.map:
            column, _, field = choice.partition("=")
            if column not in started.columns:
                raise InvalidInput(f"The file has no column “{column}” (--map {choice}).")
            mapping[started.columns.index(column)] = field_named(field, fields)
        for column, field in zip(started.columns, mapping, strict=True):
            print(f"  {column} -> {field or 'not imported'}", file=sys.stderr)
        contact_import_start(
            membership=membership, contact_import=started, mapping=mapping, background=False
        )
    except TwowayError as exc:
        contact_import_cancel(membership=membership, contact_import=started)
        print(f"twoway contacts import: {exc.message}", file=sys.stderr)
        return 2

    def progress(running: ContactImport) -> None:
        print(f"  {running.rows_done:,} rows ({running.percent}%)", file=sys.stderr, flush=True)

    done = contact_import_run(started.pk, progress=progress)
    if done.error:
        print(f"twoway contacts import: {done.error}", file=sys.stderr)
        return 1
    print(
        f"{done.rows_done:,} rows read: {done.created:,} created, {done.updated:,} added to "
        f"contacts already there, {done.unchanged:,} with nothing new, {done.skipped:,} skipped"
        + (f"; {done.opted_out:,} opted out" if done.opted_out else "")
        + "."
    )
    problems = contact_import_problems(done)
    if args.errors:
        with open(args.errors, "w", newline="", encoding="utf-8-sig") as report:
            writer = csv.writer(report)
            writer.writerow(["row", "column", "reason"])
            for row, column, reason in problems:
                writer.writerow([row, csv_cell(column), csv_cell(reason)])
        print(f"The error report is in {args.errors}.")
    else:
        for row, column, reason in problems:
            print(f"row {row}" + (f", {column}" if column else "") + f": {reason}")
    return 0


def cmd_web(args: argparse.Namespace) -> int:
    import uvicorn

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "twoway.settings")
    uvicorn.run(
        "twoway.asgi:application",
        host=args.host,
        port=args.port,
        workers=args.processes,
        log_level=os.environ.get("LOG_LEVEL", "info").lower(),
        access_log=args.access_log,
        # Open event streams would otherwise hold a shutdown up for good.
        timeout_graceful_shutdown=2,
        lifespan="off",
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    _setup_django()
    from django.conf import settings

    processes = args.processes or settings.WORKER_PROCESSES
    job_runners = settings.JOBS_RUNNERS if args.job_runners is None else args.job_runners
    if processes > 1 or job_runners > 0:
        from twoway.worker.supervisor import worker_processes_run

        return worker_processes_run(processes, args.concurrency, job_runners)
    from twoway.worker.loop import Worker

    Worker(concurrency=args.concurrency).run()
    return 0


def cmd_jobs(args: argparse.Namespace) -> int:
    """One job runner, until Ctrl-C: `twoway worker` runs JOBS_RUNNERS of them already."""
    _setup_django()
    from twoway.jobs.runner import JobRunner

    JobRunner().run()
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Migrate, make sure someone can log in, then run web and worker until Ctrl-C."""
    _setup_django()
    from django.core.management import call_command

    from twoway.numbers.bootstrap import first_run_setup

    call_command("migrate", interactive=False, verbosity=0)
    if message := first_run_setup():
        print(message, flush=True)
    base = [sys.executable, "-m", "twoway.cli"]
    children = [
        subprocess.Popen([*base, "web", "--host", args.host, "--port", str(args.port)]),
        subprocess.Popen([*base, "worker"]),
    ]
    print(f"Twoway is running on http://{args.host}:{args.port}/ (Ctrl-C stops it)", flush=True)
    if notice := public_url_notice():
        print(notice, flush=True)
    return _supervise(children)


def public_url_notice() -> str:
    """What `serve` says when TWOWAY_PUBLIC_URL is unset: links in e-mails and the carriers'
    callbacks need the address the world reaches Twoway at."""
    from django.conf import settings

    if settings.TWOWAY_PUBLIC_URL:
        return ""
    return (
        "TWOWAY_PUBLIC_URL is not set: set it to the address people and carriers reach Twoway "
        "at (such as https://texts.example.com) so that links in e-mails and carriers' "
        "delivery reports reach it."
    )


def _supervise(children: list[subprocess.Popen[Any]]) -> int:
    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.2)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for child in children:
        try:
            child.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    failed = [c for c in children if c.returncode not in (0, -signal.SIGTERM, -signal.SIGINT)]
    return 0 if stopping and not failed else 1


def cmd_segments(args: argparse.Namespace) -> int:
    from twoway.core.segments_cli import run

    return run(args.text, sys.stdin, sys.stdout)


def cmd_keywords(args: argparse.Namespace) -> int:
    """What each text on stdin would do as an inbound text (the worker's own classification)."""
    _setup_django()
    from twoway.accounts.models import Organization
    from twoway.compliance.keywords_cli import run

    organization = None
    if args.organization:
        found = Organization.objects.filter(name=args.organization)
        if found.count() != 1:
            what = "no" if not found.exists() else "more than one"
            print(
                f"twoway keywords: {what} organization named {args.organization!r}", file=sys.stderr
            )
            return 2
        organization = found.get()
    if organization is None:
        if args.number:
            print("twoway keywords: --number needs --organization", file=sys.stderr)
            return 2
        return run(sys.stdin, sys.stdout, None)
    from twoway.answering.selectors import answering_verdict
    from twoway.numbers.models import PhoneNumber

    number_id = None
    if args.number:
        number = PhoneNumber.objects.filter(organization=organization, number=args.number).first()
        if number is None:
            print(
                f"twoway keywords: {args.organization!r} has no number {args.number}",
                file=sys.stderr,
            )
            return 2
        number_id = number.pk
    chosen = organization

    def rule_and_away(text: str, action: str) -> dict[str, object]:
        return answering_verdict(chosen, number_id, text, action)

    return run(sys.stdin, sys.stdout, organization, rule_and_away)


def cmd_manage(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "twoway.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["twoway manage", *args.rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="twoway", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))

    p = sub.add_parser("serve", help="migrate, then run web server and worker together")
    p.add_argument("--host", default=host)
    p.add_argument("--port", type=int, default=port)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("web", help="run the web server (ASGI)")
    p.add_argument("--host", default=host)
    p.add_argument("--port", type=int, default=port)
    p.add_argument("--processes", type=int, default=int(os.environ.get("WEB_PROCESSES", "1")))
    p.add_argument("--access-log", action="store_true")
    p.set_defaults(func=cmd_web)

    p = sub.add_parser(
        "worker", help="run a background worker (sending, inbound, simulator, background jobs)"
    )
    p.add_argument(
        "--concurrency", type=int, default=int(os.environ.get("WORKER_CONCURRENCY", "8"))
    )
    p.add_argument(
        "--processes",
        type=int,
        default=None,
        help="worker processes, supervised (default WORKER_PROCESSES: 2 on PostgreSQL, 1 on "
        "SQLite)",
    )
    p.add_argument(
        "--job-runners",
        type=int,
        default=None,
        help="background job runners beside them, supervised too (default JOBS_RUNNERS: 1)",
    )
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser(
        "jobs", help="run a background job runner (the worker runs one already; this adds one)"
    )
    p.set_defaults(func=cmd_jobs)

    p = sub.add_parser("migrate", help="create or update the database tables")
    p.add_argument("--verbosity", type=int, default=1)
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("createadmin", help="create an organization and its first admin")
    p.add_argument("--email", required=True)
    p.add_argument("--password", help="generated and printed when left out")
    p.add_argument("--organization", default="My business")
    p.add_argument("--country", default="US")
    p.add_argument(
        "--no-two-way",
        action="store_true",
        help="leave two-way texting off (no dedicated number yet): an admin turns it on in "
        "Settings > Two-way texting",
    )
    p.set_defaults(func=cmd_createadmin)

    p = sub.add_parser(
        "createapikey", help="issue a personal API key that acts as that user (printed once)"
    )
    p.add_argument("--email", help="whose key; the installation's first admin when left out")
    p.add_argument("--name", default="API key")
    p.set_defaults(func=cmd_createapikey)

    p = sub.add_parser("balance", help="show or add to an organization's SMS balance")
    p.add_argument("--email", required=True, help="any user of the organization")
    p.add_argument("--add", type=int, default=0, help="segments to add (negative removes)")
    p.add_argument("--note", default="", help="why, for the ledger")
    p.set_defaults(func=cmd_balance)

    p = sub.add_parser("events", help="carrier events that failed: list them, or retry some")
    p.add_argument("action", choices=["failed", "retry"], help="failed: list; retry: IDs again")
    p.add_argument("ids", nargs="*", type=int, help="the events to retry (from the list)")
    p.add_argument("--limit", type=int, default=50, help="how many to list, newest first")
    p.set_defaults(func=cmd_events)

    p = sub.add_parser(
        "generate-inbox", help="create an organization with a generated inbox (benchmarks)"
    )
    p.add_argument("--conversations", type=int, default=100_000)
    p.add_argument("--messages", type=int, default=1_000_000)
    p.add_argument("--organization", default="Generated inbox", help="its name")
    p.add_argument("--admin-email", help="default admin@org<ID>.example.com")
    p.add_argument("--standard-email", help="default agent@org<ID>.example.com")
    p.add_argument("--password", help="of both users; generated and printed when left out")
    p.add_argument("--numbers", type=int, default=5, help="business numbers (at least 1)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", action="store_true", help="print the result as one JSON line")
    p.set_defaults(func=cmd_generate_inbox)

    p = sub.add_parser("contacts", help="contacts: import a CSV file")
    contacts = p.add_subparsers(dest="action", required=True)
    p = contacts.add_parser(
        "import", help="import a CSV file of contacts, as the Contacts page does, and wait for it"
    )
    p.add_argument("file", help="the CSV file (its first row names the columns)")
    p.add_argument("--email", required=True, help="who imports: a member who may add contacts")
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="COLUMN=FIELD",
        help="the field a column fills, over the guess from its name (FIELD: first_name, phone, "
        "phone:mobile, email, groups, opted_out, a custom field's name, - for none...)",
    )
    p.add_argument("--errors", help="write the error report (row, column, reason) to this CSV")
    p.set_defaults(func=cmd_contacts_import)

    p = sub.add_parser("segments", help="encoding and SMS segments of a text, as JSON")
    p.add_argument("text", nargs="*", help="the text; without it, JSON strings from stdin")
    p.set_defaults(func=cmd_segments)

    p = sub.add_parser(
        "keywords",
        help="what Twoway does with each inbound text on stdin (JSON strings), as JSON lines",
    )
    p.add_argument(
        "--organization", help="its name: its own keywords and replies too (else the defaults)"
    )
    p.add_argument(
        "--number", help="with --organization, the number texted (+12025550100): its own rules"
    )
    p.set_defaults(func=cmd_keywords)

    p = sub.add_parser("manage", help="run a Django management command")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())

"""The contacts table and New conversation's suggestions at 100,000 contacts.

    DATABASE_URL=postgres://... python -m bench.contacts_lookup [--contacts 100000]

Fills the database DATABASE_URL names (migrated first) with one organization of generated
contacts, written with bulk inserts, unless it has them already; then requests each page in
process through Django's test client (middleware, view, template: no HTTP server), one at a
time, as the organization's administrator, and prints each case's median and p95 in ms. Each
answer is checked first: a search finds the contact it was made from.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from typing import Any

ORG = "Bench contacts"
EMAIL = "bench-contacts@bench.test"
FIRST = "Ava Ben Cara Dana Eli Finn Gia Hugo Ivy Jon Kai Lena Milo Nora Omar Pia Quinn Rosa Sam"
LAST = (
    "Smith Jones Garcia Miller Davis Lopez Wilson Moore Taylor Thomas Lee Martin Clark Lewis "
    "Walker Hall Young King Wright Scott Green Baker Adams Nelson Hill Campbell Whitfield"
)
TYPES = ["Member", "Guest", "Trial", "Staff", "Family"]
LOCATIONS = [f"Studio {n}" for n in range(1, 11)]


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "twoway.settings")
    import django

    django.setup()


def _fill(count: int) -> Any:
    from django.core.management import call_command
    from django.db import connection, transaction

    from twoway.accounts.models import Membership, Organization, Role
    from twoway.contacts.models import Contact, ContactGroup, ContactPhone, CreatedFrom, OptInStatus
    from twoway.numbers.models import PhoneNumber

    call_command("migrate", verbosity=0)
    org = Organization.objects.filter(name=ORG).first()
    if org is not None and Contact.objects.filter(organization=org).count() >= count:
        return Membership.objects.get(organization=org, user__email=EMAIL)
    from django.contrib.auth import get_user_model

    with transaction.atomic():
        org = Organization.objects.create(name=ORG, country="US", two_way_enabled=True)
        user = get_user_model().objects.create_user(username=EMAIL, email=EMAIL, password=None)
        member = Membership.objects.create(user=user, organization=org, role=Role.ADMINISTRATIVE)
        PhoneNumber.objects.create(organization=org, number="+14155559900", carrier="simulator")
        groups = [
            ContactGroup.objects.create(organization=org, name=f"Group {n}") for n in range(5)
        ]
    rng = random.Random(7)
    through = Contact.groups.through
    batch = 5000
    for start in range(0, count, batch):
        contacts = []
        for n in range(start, min(count, start + batch)):
            first, last = rng.choice(FIRST.split()), rng.choice(LAST.split())
            contacts.append(
                Contact(
                    organization=org,
                    name=f"{first} {last}" if n % 20 else "",
                    first_name=first,
                    last_name=last,
                    email=f"{first}.{last}{n}@example.com".lower() if n % 3 else "",
                    client_id=f"C-{n:06}",
                    external_uid=f"U{n:07}" if n % 2 else "",
                    client_type=TYPES[n % len(TYPES)],
                    home_location=LOCATIONS[n % len(LOCATIONS)],
                    opt_in_status=OptInStatus.OPTED_OUT if n % 33 == 0 else OptInStatus.OPTED_IN,
                    created_from=CreatedFrom.INBOUND if n % 10 == 0 else CreatedFrom.IMPORT,
                )
            )
        with transaction.atomic():
            made = Contact.objects.bulk_create(contacts)
            phones, memberships = [], []
            for contact in made:
                for k in range(1 + (contact.pk % 4 == 0)):
                    number = (
                        f"+1{rng.randint(201, 989)}{rng.randint(200, 999)}{rng.randint(0, 9999):04}"
                    )
                    phones.append(
                        ContactPhone(
                            organization=org, contact=contact, number=number, is_primary=k == 0
                        )
                    )
                if contact.pk % 5 == 0:
                    memberships.append(
                        through(contact_id=contact.pk, contactgroup_id=groups[contact.pk % 5].pk)
                    )
            ContactPhone.objects.bulk_create(phones, ignore_conflicts=True)
            through.objects.bulk_create(memberships)
        print(f"  {min(count, start + batch)} contacts", file=sys.stderr)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return member


def _measure(client: Any, url: str, requests: int) -> tuple[float, float]:
    times = []
    for _ in range(requests):
        began = time.perf_counter()
        response = client.get(url, HTTP_HX_REQUEST="true") if "&hx" in url else client.get(url)
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--json", action="store_true", help="one JSON line per case (bench)")
    args = parser.parse_args()
    _setup()
    from django.test import Client

    from twoway.contacts.models import Contact, ContactGroup, ContactPhone

    member = _fill(args.contacts)
    org = member.organization
    client = Client(HTTP_HOST="localhost")
    client.force_login(member.user)
    with_email = Contact.objects.filter(organization=org).exclude(email="").order_by("pk")
    sample = with_email[min(4321, with_email.count() // 2)]
    phone = ContactPhone.objects.filter(contact=sample).first()
    assert phone is not None
    group = ContactGroup.objects.filter(organization=org).order_by("pk").first()
    assert group is not None
    digits = phone.number[-7:]
    national = f"({phone.number[2:5]})+{phone.number[5:8]}-{phone.number[8:]}"
    studio = "home_location=Studio+1"
    found = client.get(f"/contacts/?q={sample.email}").content.decode()
    assert f'data-contact="{sample.pk}"' in found, "the search misses its contact"
    suggested = client.get(f"/inbox/new/suggestions/?to={digits}").content.decode()
    assert phone.number in suggested, "the suggestions miss their contact"
    first = client.get("/contacts/?client_type=Member").content.decode()
    cursor = first.split("after=")[1].split('"')[0]
    cases = {
        "table, first page": "/contacts/",
        "table rows (htmx), first page": "/contacts/?&hx",
        "table, newest first": "/contacts/?sort=-created",
        "table, a later page": f"/contacts/?client_type=Member&after={cursor}&hx",
        "search: a name (common)": "/contacts/?q=smith&hx",
        "search: a full name": "/contacts/?q=dana+whitfield&hx",
        "search: a rare name part": "/contacts/?q=whitf&hx",
        "search: a first name late in the order": "/contacts/?q=rosa&hx",
        "search: an e-mail": f"/contacts/?q={sample.email}&hx",
        "search: a client ID": f"/contacts/?q={sample.client_id}&hx",
        "search: 7 digits of a number": f"/contacts/?q={digits}&hx",
        "search: a number typed nationally": f"/contacts/?q={national}&hx",
        "filter: client type": "/contacts/?client_type=Trial&hx",
        "filter: group": f"/contacts/?group={group.pk}&hx",
        "filter: opted out": "/contacts/?opted_out=1&hx",
        "filter: lead + location + type": f"/contacts/?lead=1&{studio}&client_type=Member&hx",
        "search + filters": f"/contacts/?q=smith&client_type=Member&group={group.pk}&hx",
        "suggestions: a name": "/inbox/new/suggestions/?to=dana+w",
        "suggestions: an e-mail": f"/inbox/new/suggestions/?to={sample.email[:12]}",
        "suggestions: digits": f"/inbox/new/suggestions/?to={digits}",
        "suggestions: a client ID": f"/inbox/new/suggestions/?to={sample.client_id}",
        "suggestions: 3 letters": "/inbox/new/suggestions/?to=ava",
        "suggestions: a first name late in the order": "/inbox/new/suggestions/?to=rosa",
        "suggestions: a client ID's first digits": "/inbox/new/suggestions/?to=C-0042",
    }
    vendor = __import__("django.db", fromlist=["connection"]).connection.vendor
    if not args.json:
        print(f"{args.contacts} contacts on {vendor}, {args.requests} requests each (ms)")
    for name, url in cases.items():
        client.get(url)  # warm
        median, p95 = _measure(client, url, args.requests)
        if args.json:
            print(json.dumps({"case": name, "median_ms": median, "p95_ms": p95}))
        else:
            print(f"{name:40} median {median:6.1f}   p95 {p95:6.1f}")


if __name__ == "__main__":
    main()

"""Shared fixtures: an organization with members of each role and a simulated number."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import Client

from twoway.accounts.models import Membership, Organization, Role, Team
from twoway.numbers.models import PhoneNumber

PASSWORD = "correct-horse-battery"


def make_member(org: Organization, email: str, role: str = Role.STANDARD) -> Membership:
    user = get_user_model().objects.create_user(username=email, email=email, password=PASSWORD)
    return Membership.objects.create(user=user, organization=org, role=role)


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    # Members are made and logged in throughout; the real hasher's deliberate slowness would
    # only make the suite crawl.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_throttles() -> None:
    # The counters of wrong API keys and invitation links (accounts/throttling.py) live in a file
    # cache, which outlives a test and a run: each test starts with none.
    cache.clear()


@pytest.fixture
def org(db: None) -> Organization:
    return Organization.objects.create(name="Acme Dental", country="US", two_way_enabled=True)


@pytest.fixture
def other_org(db: None) -> Organization:
    return Organization.objects.create(name="Other Org", country="US", two_way_enabled=True)


@pytest.fixture
def admin(org: Organization) -> Membership:
    return make_member(org, "admin@acme.test", Role.ADMINISTRATIVE)


@pytest.fixture
def standard(org: Organization) -> Membership:
    return make_member(org, "agent@acme.test", Role.STANDARD)


@pytest.fixture
def limited(org: Organization) -> Membership:
    return make_member(org, "limited@acme.test", Role.LIMITED)


@pytest.fixture
def number(org: Organization) -> PhoneNumber:
    return PhoneNumber.objects.create(
        organization=org, number="+14155550100", carrier="simulator", mps_limit=100
    )


@pytest.fixture
def twilio_number(org: Organization) -> PhoneNumber:
    return PhoneNumber.objects.create(
        organization=org, number="+14155550123", carrier="twilio", mps_limit=100
    )


def make_conversation(
    org: Organization,
    number: PhoneNumber,
    handset: str,
    *,
    name: str = "",
    folder: str = "needs_attention",
) -> Any:
    """A conversation with a contact of its own, active just now."""
    from django.utils import timezone

    from twoway.contacts.models import Contact
    from twoway.conversations.models import Conversation

    contact = Contact.objects.create(organization=org, name=name or f"Client {handset[-4:]}")
    return Conversation.objects.create(
        organization=org,
        contact=contact,
        phone_number=number,
        contact_number=handset,
        folder=folder,
        last_message_at=timezone.now(),
    )


@pytest.fixture
def sam(org: Organization) -> Membership:
    """A Standard user with a name, as assignments show people."""
    member = make_member(org, "sam@acme.test", Role.STANDARD)
    member.user.first_name = "Sam Rivera"
    member.user.save()
    return member


@pytest.fixture
def front_desk(org: Organization, sam: Membership) -> Team:
    """A team with Sam in it."""
    team = Team.objects.create(organization=org, name="Front desk")
    team.members.add(sam)
    return team


def logged_in(membership: Membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


@pytest.fixture
def admin_client(admin: Membership) -> Client:
    return logged_in(admin)


@pytest.fixture(autouse=True)
def _fresh_carrier_registry(settings: object) -> Iterator[None]:
    """Adapters are cached per process; tests that change carrier settings get fresh ones."""
    from twoway.carriers.registry import get_carrier

    get_carrier.cache_clear()
    yield
    get_carrier.cache_clear()


@pytest.fixture(autouse=True)
def _private_wake_port(settings: object) -> None:
    """A wake-up port of this test run's own, so parallel runs never nudge each other."""
    settings.WORKER_WAKE_PORT = free_port()  # type: ignore[attr-defined]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url() -> str:
    """A URL for the test database, for processes a test starts (workers, servers)."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def subprocess_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url()
    env.update(extra)
    return env

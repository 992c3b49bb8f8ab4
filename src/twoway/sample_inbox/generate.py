"""A generated organization with a busy inbox, for benchmarks and for trying Twoway at scale.

`twoway generate-inbox --conversations 100000 --messages 1000000` makes a new organization with
business numbers (some open to everyone, some restricted), an administrator and a Standard user
who sees only some numbers, contacts with names and one to three phones, and conversations whose
folder, unread count and last message agree with their messages, as Twoway itself would have left
them. The few organization rows go through the ORM; contacts, phones, conversations and messages
are written with plain SQL in bulk (COPY on PostgreSQL, executemany on SQLite), so a million
messages take minutes. Whatever the database maintains by itself (indexes, triggers) sees every
row as it would see the ORM's.

Deterministic for a seed, apart from uids and the time it runs at. A few rare words are planted in
known conversations so a search can be checked: `InboxGenerated.planted`.
"""

from __future__ import annotations

import math
import random
import secrets
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from twoway.accounts.models import Membership, Organization, Role
from twoway.contacts.models import Contact, ContactPhone, CreatedFrom
from twoway.contacts.validation import name_split
from twoway.conversations.models import Conversation, Direction, Folder, Kind, Message, Status
from twoway.core.segments import segment_info
from twoway.numbers.models import PhoneNumber
from twoway.sample_inbox.vocabulary import (
    DAYS,
    FIRST_NAMES,
    INBOUND,
    ITEMS,
    LAST_NAMES,
    NOTES,
    OUTBOUND,
    PLANTED_PER_WORD,
    PLANTED_WORDS,
    VOCABULARY,
)
from twoway.sample_inbox.writer import Writer

AREA_CODES = (212, 312, 415, 617, 718, 202, 305, 512, 206, 303, 404, 503, 614, 713, 808)
DAY = 86_400.0
# How long ago a conversation's last message was, by folder (days): the contact's unanswered
# texts are recent, archived threads may be old.
RECENCY_DAYS = {
    Folder.NEEDS_ATTENTION: 14.0,
    Folder.PARTICIPATING: 120.0,
    Folder.ARCHIVED: 730.0,
}
FOLDER_WEIGHTS = {Folder.NEEDS_ATTENTION: 0.12, Folder.PARTICIPATING: 0.38, Folder.ARCHIVED: 0.5}
# Plain strings for the rows (the drivers need no enum types).
IN, OUT = Direction.INBOUND.value, Direction.OUTBOUND.value
MESSAGE, NOTE = Kind.MESSAGE.value, Kind.NOTE.value
RECEIVED, DELIVERED, FAILED = Status.RECEIVED.value, Status.DELIVERED.value, Status.FAILED.value


@dataclass
class InboxGenerated:
    organization_id: int
    admin_email: str
    standard_email: str
    password: str
    numbers: list[str]
    # Numbers the Standard user may use (the others are restricted to administrators).
    standard_numbers: list[str]
    contacts: int
    conversations: int
    messages: int
    seconds: float
    # word -> the conversations (ids) with a message containing it
    planted: dict[str, list[int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class _Thread:
    """One conversation while it is planned: its messages as compact tuples."""

    id: int
    contact_index: int
    number_index: int
    contact_number: str
    first_name: str
    folder: str
    # (created_at epoch, direction, kind, body, sender slot) in time order
    messages: list[tuple[float, str, str, str, int]] = field(default_factory=list)


def inbox_generate(
    *,
    conversations: int,
    messages: int,
    organization_name: str = "Generated inbox",
    admin_email: str | None = None,
    standard_email: str | None = None,
    password: str | None = None,
    numbers: int = 5,
    seed: int = 1,
    progress: Callable[[str], None] = lambda text: None,
) -> InboxGenerated:
    if conversations < 1 or messages < conversations:
        raise ValueError(
            "Need at least one conversation and at least one message per conversation."
        )
    started = time.perf_counter()
    rng = random.Random(seed)
    password = password or secrets.token_urlsafe(9)
    with transaction.atomic():
        organization, admin, standard, phone_numbers, open_to_standard = _organization(
            organization_name, admin_email, standard_email, password, numbers
        )
    progress(f"organization {organization.pk}: {len(phone_numbers)} numbers, 2 users")
    now = timezone.now().timestamp()
    threads, contacts = _plan(rng, conversations, messages, len(phone_numbers), now)
    planted = _plant(rng, threads, len(phone_numbers))
    progress(f"planned {len(contacts)} contacts, {len(threads)} conversations")
    writer = Writer()
    with transaction.atomic():
        contact_base = writer.next_id(Contact)
        conversation_base = writer.next_id(Conversation)
        contact_ids = [contact_base + i for i in range(len(contacts))]
        writer.write(
            Contact,
            [
                "id",
                "organization_id",
                "name",
                "first_name",
                "last_name",
                "email",
                "created_from",
                "created_at",
            ],
            (
                (
                    contact_ids[i],
                    organization.pk,
                    name,
                    *name_split(name),
                    email,
                    (CreatedFrom.INBOUND if created_inbound else CreatedFrom.MANUAL).value,
                    writer.time(created),
                )
                for i, (name, email, created_inbound, created, _) in enumerate(contacts)
            ),
        )
        writer.write(
            ContactPhone,
            ["organization_id", "contact_id", "number", "created_at"],
            (
                (organization.pk, contact_ids[i], number, writer.time(created))
                for i, (_, _, _, created, phones) in enumerate(contacts)
                for number in phones
            ),
        )
        progress("contacts written")
        for thread in threads:
            thread.id += conversation_base
        writer.write(
            Conversation,
            [
                "id",
                "organization_id",
                "contact_id",
                "phone_number_id",
                "contact_number",
                "folder",
                "unread_count",
                "last_message_at",
                "last_message_preview",
                "created_at",
            ],
            (
                _conversation_row(writer, organization.pk, contact_ids, phone_numbers, t)
                for t in threads
            ),
        )
        progress("conversations written")
        senders = (admin.user_id, standard.user_id)
        count = writer.write(
            Message,
            [
                "uid",
                "organization_id",
                "conversation_id",
                "direction",
                "kind",
                "category",
                "body",
                "encoding",
                "segments",
                "status",
                "from_number",
                "to_number",
                "carrier",
                "carrier_message_id",
                "sent_by_id",
                "sent_by_label",
                "created_at",
                "sent_at",
                "delivered_at",
                "error_code",
                "error_message",
            ],
            _message_rows(
                writer, organization.pk, threads, phone_numbers, senders, open_to_standard
            ),
        )
        writer.reset_sequences([Contact, Conversation])
        # Each contact's last activity: the last message of its conversations.
        latest = Conversation.objects.filter(contact_id=OuterRef("pk")).order_by(
            F("last_message_at").desc(nulls_last=True)
        )
        Contact.objects.filter(organization=organization).update(
            last_activity_at=Subquery(latest.values("last_message_at")[:1])
        )
    writer.analyze([Contact, ContactPhone, Conversation, Message])
    progress(f"{count} messages written")
    return InboxGenerated(
        organization_id=organization.pk,
        admin_email=admin.user.email,
        standard_email=standard.user.email,
        password=password,
        numbers=[n.number for n in phone_numbers],
        standard_numbers=[n.number for i, n in enumerate(phone_numbers) if open_to_standard[i]],
        contacts=len(contacts),
        conversations=len(threads),
        messages=count,
        seconds=time.perf_counter() - started,
        planted={word: [threads[i].id for i in found] for word, found in planted.items()},
    )


def _organization(
    name: str, admin_email: str | None, standard_email: str | None, password: str, numbers: int
) -> tuple[Organization, Membership, Membership, list[PhoneNumber], list[bool]]:
    user_model = get_user_model()
    organization = Organization.objects.create(name=name, country="US", two_way_enabled=True)
    tag = f"org{organization.pk}"
    admin_email = (admin_email or f"admin@{tag}.example.com").strip().lower()
    standard_email = (standard_email or f"agent@{tag}.example.com").strip().lower()
    for email in (admin_email, standard_email):
        if user_model.objects.filter(username=email).exists():
            raise ValueError(f"A user {email} exists already.")
    members = []
    for email, role in ((admin_email, Role.ADMINISTRATIVE), (standard_email, Role.STANDARD)):
        user = user_model.objects.create_user(username=email, email=email, password=password)
        members.append(Membership.objects.create(user=user, organization=organization, role=role))
    admin, standard = members
    taken = set(PhoneNumber.objects.values_list("number", flat=True))
    free = (
        f"+1{area}5550{line:03d}"
        for area in AREA_CODES
        for line in range(100, 200)
        if f"+1{area}5550{line:03d}" not in taken
    )
    # The first half (at least one) is open to everyone; of the rest the Standard user gets
    # the first, and the others stay restricted to administrators.
    open_count = max(1, numbers // 2)
    phone_numbers, open_to_standard = [], []
    for index in range(numbers):
        number = PhoneNumber.objects.create(
            organization=organization,
            number=next(free),
            label=f"Line {index + 1}",
            is_dedicated=index == 0,
            access_everyone=index < open_count,
        )
        if index == open_count:
            number.access_users.add(standard)
        phone_numbers.append(number)
        open_to_standard.append(index <= open_count)
    return organization, admin, standard, phone_numbers, open_to_standard


def _contact_numbers(rng: random.Random, count: int) -> Iterator[str]:
    """Distinct North American numbers (valid area codes and exchanges, never 555)."""
    seen: set[str] = set()
    while len(seen) < count:
        exchange = rng.randint(201, 998)
        if exchange == 555 or exchange % 100 == 11:
            continue
        number = f"+1{rng.choice(AREA_CODES)}{exchange}{rng.randint(0, 9999):04d}"
        if number not in seen:
            seen.add(number)
            yield number


def _message_counts(rng: random.Random, conversations: int, messages: int) -> list[int]:
    """At least one message each; the rest spread with a long tail (a few threads are long)."""
    weights = [min(rng.paretovariate(1.2), 400.0) for _ in range(conversations)]
    extra = messages - conversations
    scale = extra / sum(weights)
    counts = [1 + int(w * scale) for w in weights]
    short = messages - sum(counts)
    for index in rng.choices(range(conversations), weights=weights, k=short):
        counts[index] += 1
    return counts


def _plan(
    rng: random.Random, conversations: int, messages: int, numbers: int, now: float
) -> tuple[list[_Thread], list[tuple[str, str, bool, float, list[str]]]]:
    """Contacts (name, e-mail, came in by text, created, phones) and their conversations."""
    phones = _contact_numbers(rng, conversations)
    counts = _message_counts(rng, conversations, messages)
    folders = [folder.value for folder in FOLDER_WEIGHTS]
    weights = list(FOLDER_WEIGHTS.values())
    threads: list[_Thread] = []
    contacts: list[tuple[str, str, bool, float, list[str]]] = []
    while len(threads) < conversations:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        named = rng.random() < 0.8
        name = f"{first} {last}" if named else ""
        email = f"{first}.{last}{rng.randint(1, 99)}@example.com".lower() if named else ""
        own: list[str] = []
        contact_index = len(contacts)
        created = now
        for _ in range(rng.choices((1, 2, 3), weights=(85, 12, 3))[0]):
            number = next(phones)
            own.append(number)
            # Most phones text one business number; some text two.
            lines = rng.sample(range(numbers), min(numbers, 2 if rng.random() < 0.05 else 1))
            for line in lines:
                if len(threads) == conversations:
                    break
                thread = _Thread(
                    id=len(threads),
                    contact_index=contact_index,
                    number_index=line,
                    contact_number=number,
                    first_name=first if named else "there",
                    folder=rng.choices(folders, weights)[0],
                )
                _fill(rng, thread, counts[len(threads)], now)
                created = min(created, thread.messages[0][0] - 60)
                threads.append(thread)
            if len(threads) == conversations:
                break
        contacts.append((name, email, rng.random() < 0.6, created, own))
    return threads, contacts


def _fill(rng: random.Random, thread: _Thread, count: int, now: float) -> None:
    """`count` messages ending when the folder says: unanswered texts last in Needs attention,
    our reply last in Participating, either in the archive. Notes are never last."""
    last = now - rng.random() ** 2 * RECENCY_DAYS[Folder(thread.folder)] * DAY - 1
    at = last
    stamps = []
    for _ in range(count):
        stamps.append(at)
        # Minutes apart within an exchange, days between exchanges.
        at -= rng.expovariate(1 / 600) if rng.random() < 0.8 else rng.expovariate(1 / (4 * DAY))
    stamps.reverse()
    inbound = rng.random() < 0.5
    for index, stamp in enumerate(stamps):
        final = index == count - 1
        if final and thread.folder == Folder.NEEDS_ATTENTION:
            inbound = True
        elif final and thread.folder == Folder.PARTICIPATING:
            inbound = False
        elif rng.random() < 0.45:
            inbound = not inbound
        if not final and rng.random() < 0.02:
            thread.messages.append((stamp, OUT, NOTE, _body(rng, thread, NOTES), 0))
            continue
        body = _body(rng, thread, INBOUND if inbound else OUTBOUND)
        sender = rng.randint(0, 3)  # 0-1: a person; 2: the API; 3: automation
        thread.messages.append((stamp, IN if inbound else OUT, MESSAGE, body, sender))


_ZIPF = [1 / (rank + 1) for rank in range(len(VOCABULARY))]


def _body(rng: random.Random, thread: _Thread, templates: Sequence[str]) -> str:
    text = rng.choice(templates).format(
        first=thread.first_name,
        day=rng.choice(DAYS),
        time=f"{rng.randint(8, 17)}:{rng.choice(('00', '15', '30', '45'))}",
        item=rng.choice(ITEMS),
        code=f"#{rng.randint(10000, 99999)}",
    )
    if rng.random() < 0.3:
        words = rng.choices(VOCABULARY, weights=_ZIPF, k=rng.randint(3, 9))
        text += " " + " ".join(words).capitalize() + "."
    return text


def _plant(rng: random.Random, threads: list[_Thread], numbers: int) -> dict[str, list[int]]:
    """Each planted word in a message of PLANTED_PER_WORD conversations, one of them on the
    last number (restricted to administrators) when there are several numbers."""
    planted: dict[str, list[int]] = {}
    restricted = [i for i, t in enumerate(threads) if t.number_index == numbers - 1]
    for word in PLANTED_WORDS:
        chosen = rng.sample(range(len(threads)), min(PLANTED_PER_WORD, len(threads)))
        if numbers > 1 and restricted and not any(i in restricted for i in chosen):
            chosen[-1] = rng.choice(restricted)
        planted[word] = sorted(set(chosen))
        for index in planted[word]:
            messages = threads[index].messages
            spot = rng.randrange(len(messages))
            at, direction, kind, body, sender = messages[spot]
            messages[spot] = (at, direction, kind, f"{body} About the {word} we discussed.", sender)
    return planted


def _preview(thread: _Thread) -> tuple[float, str, int]:
    """Last message time, its preview and the unread count, as Twoway keeps them."""
    texts = [m for m in thread.messages if m[2] == MESSAGE]
    unread = 0
    for _at, direction, _kind, _body, _sender in reversed(texts):
        if direction != IN:
            break
        unread += 1
    return texts[-1][0], texts[-1][3][:160], unread


def _conversation_row(
    writer: Writer,
    organization_id: int,
    contact_ids: list[int],
    phone_numbers: list[PhoneNumber],
    thread: _Thread,
) -> tuple[Any, ...]:
    last_at, preview, unread = _preview(thread)
    return (
        thread.id,
        organization_id,
        contact_ids[thread.contact_index],
        phone_numbers[thread.number_index].pk,
        thread.contact_number,
        thread.folder,
        unread,
        writer.time(last_at),
        preview,
        writer.time(thread.messages[0][0] - 1),
    )


def _segments(body: str) -> tuple[str, int]:
    if body.isascii():  # the generated texts use no GSM-7 extension characters
        return "GSM-7", 1 if len(body) <= 160 else math.ceil(len(body) / 153)
    info = segment_info(body)
    return info.encoding, info.segments


def _message_rows(
    writer: Writer,
    organization_id: int,
    threads: list[_Thread],
    phone_numbers: list[PhoneNumber],
    senders: tuple[int, int],
    open_to_standard: list[bool],
) -> Iterator[tuple[Any, ...]]:
    """Every message in the order they happened, as a database would have received them."""
    timeline = sorted(
        (message[0], index, position)
        for index, thread in enumerate(threads)
        for position, message in enumerate(thread.messages)
    )
    for at, index, position in timeline:
        thread = threads[index]
        _at, direction, kind, body, sender = thread.messages[position]
        line = phone_numbers[thread.number_index]
        uid = uuid.uuid4()
        person = senders[1] if sender == 1 and open_to_standard[thread.number_index] else senders[0]
        if kind == NOTE:
            yield (
                writer.uid(uid), organization_id, thread.id, direction, kind, "", body, "", 0,
                "", "", "", "", None, person, "", writer.time(at), None, None, "", "",
            )  # fmt: skip
            continue
        encoding, segments = _segments(body)
        if direction == IN:
            yield (
                writer.uid(uid), organization_id, thread.id, direction, kind, "", body, encoding,
                segments, RECEIVED, thread.contact_number, line.number, line.carrier,
                "SM" + uid.hex, None, "", writer.time(at), None, None, "", "",
            )  # fmt: skip
            continue
        failed = uid.int % 50 == 0
        yield (
            writer.uid(uid), organization_id, thread.id, direction, kind,
            "direct" if sender < 2 else "transactional", body, encoding, segments,
            FAILED if failed else DELIVERED, line.number, thread.contact_number,
            line.carrier, "SM" + uid.hex, person if sender < 2 else None,
            "api" if sender == 2 else ("reminders" if sender == 3 else ""),
            writer.time(at), writer.time(at + 1), None if failed else writer.time(at + 4),
            "30003" if failed else "", "Unreachable destination handset" if failed else "",
        )  # fmt: skip

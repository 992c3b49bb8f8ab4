"""Many outbound texts queued together: for each, what the API's send does through `message_send`,
with a few statements for the whole group.

Every text is checked on its own, in the order given and with the same rules and messages as
`message_send`, and gets its own answer: the message queued, or the error that refused it. What
the accepted ones need is read once for all of them (the senders' numbers, which destinations
are the organization's own numbers, the contacts and conversations), and they are written
together: new contacts and conversations, the messages, the balance and its entries, the
conversations' folders and previews and the realtime events, each in one statement, and the
worker is woken once. A text a check refused writes nothing.

A text that needs more than queuing (the consent message goes first to a contact who has not
had it; a text scheduled for later) goes through `message_send` itself, in order: what the
group held so far is written first, and later texts to the same contact follow it there, so
each contact sees its texts in the order given.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import Error as DatabaseFailure
from django.db import IntegrityError, connections, router, transaction
from django.db.models import Q
from django.utils import timezone

from twoway.accounts.access import initiate_refusal, sms_permission_missing
from twoway.accounts.models import Membership, Organization
from twoway.billing.services import BalanceCharges
from twoway.contacts.models import Contact, ContactPhone, CreatedFrom
from twoway.contacts.services.activity import contacts_activity_record
from twoway.conversations.models import Category, Conversation, Direction, Folder, Message, Status
from twoway.conversations.services import conversation_preview, message_created
from twoway.core.errors import InvalidInput, TwowayError
from twoway.core.phones import InvalidPhoneNumber, normalize_phone
from twoway.core.rows import pairs_in, rows_insert, rows_update
from twoway.core.segments import SegmentInfo, segment_info
from twoway.messaging.senders import SenderPlan, sender_plan
from twoway.messaging.services import (
    check_opt_out,
    check_recipient,
    message_send,
    needs_consent_message,
    priority_of,
    validate_body,
)
from twoway.numbers.access import UsableNumbers
from twoway.numbers.models import PhoneNumber
from twoway.realtime.events import ConversationUpdated, DomainEvent, events_publish
from twoway.realtime.wakeup import wake_worker

# An IntegrityError means another transaction created one of the group's contacts or
# conversations between our read and our write; the group is tried again, reading theirs.
ATTEMPTS = 3


@dataclass(frozen=True, kw_only=True)
class TextToSend:
    """One text as the API takes it: `sender` is its `from` (a number or a number's id)."""

    membership: Membership  # the person sending: their numbers, role and permission
    sender: int | str | None
    to: str
    body: str
    category: str = Category.DIRECT
    confirm_opted_out: bool = False
    label: str = "api"
    created_from: str = CreatedFrom.API
    retry_of: int | None = None  # the failed text this one sends again (Retry)
    send_at: dt.datetime | None = None  # when to send it; None: now


SendResult = Message | TwowayError


def texts_send(texts: Sequence[TextToSend]) -> list[SendResult]:
    """Queue the texts in one transaction; each gets its message or the error refusing it."""
    for attempt in range(1, ATTEMPTS + 1):
        stored = False
        try:
            with transaction.atomic():
                results = _Group(texts).run()
                stored = True
            return results
        except IntegrityError:
            if attempt == ATTEMPTS:
                raise
        except DatabaseFailure as exc:
            # Failing at the commit, the texts may be stored or not: never try them again then.
            exc.at_commit = stored  # type: ignore[attr-defined]
            raise
    raise AssertionError("unreachable")


def failed_before_commit(error: DatabaseFailure) -> bool:
    """`error` came before any commit of `texts_send` (or from outside it): nothing was
    stored, a retry is safe."""
    return not getattr(error, "at_commit", False)


def require_sender(text: TextToSend) -> None:
    """A direct text says which of the person's numbers it leaves from."""
    if text.sender is None and text.category == Category.DIRECT:
        raise InvalidInput(
            "Say which of your numbers to text from (`from`).", code="sender_required"
        )


def one_text_send(text: TextToSend, *, phone_number: PhoneNumber | None) -> Message:
    """`text` through `message_send`, as the API's one-text endpoint sends it (the sender
    checked by `require_sender` and resolved with `access_phone_number`)."""
    return message_send(
        phone_number=phone_number,
        organization=text.membership.organization,
        to=text.to,
        body=text.body,
        category=text.category,
        membership=text.membership,
        confirm_opted_out=text.confirm_opted_out,
        label=text.label,
        created_from=text.created_from,
        retry_of=text.retry_of,
        send_at=text.send_at,
    )


@dataclass(slots=True)
class _Checked:
    """A text that passed the checks needing no contact: what queuing it takes."""

    index: int
    text: TextToSend
    organization: Organization
    phone_number: PhoneNumber | None
    to_number: str
    body: str
    info: SegmentInfo
    # `sender_plan`'s answer, or its refusal, given in its turn (after the recipient's checks).
    plan_or_error: SenderPlan | TwowayError
    contact: Contact | None = None
    conversation: Conversation | None = None
    charged: bool = False  # its segments were reserved from the balance

    @property
    def plan(self) -> SenderPlan:
        assert isinstance(self.plan_or_error, SenderPlan), "checked by _sender_checks"
        return self.plan_or_error


@dataclass
class _Pending:
    """Accepted texts not written yet, with the contacts and conversations they start."""

    texts: list[_Checked] = field(default_factory=list)
    new_contacts: list[tuple[Contact, str]] = field(default_factory=list)
    new_conversations: list[Conversation] = field(default_factory=list)


class _Group:
    def __init__(self, texts: Sequence[TextToSend]) -> None:
        self.texts = texts
        self.results: list[SendResult | None] = [None] * len(texts)
        self.usable: dict[int, UsableNumbers] = {}
        self.plans: dict[tuple[int, int | None, str], SenderPlan | TwowayError] = {}
        self.contacts: dict[tuple[int, str], Contact] = {}
        self.conversations: dict[tuple[int, str], Conversation] = {}
        self.balances: dict[int, BalanceCharges] = {}
        # (organization, number) a text sent through `message_send` touched: later texts to
        # them go that way too, reading what it wrote.
        self.one_by_one: set[tuple[int, str]] = set()
        self.pending = _Pending()

    def run(self) -> list[SendResult]:
        first = [self._first_checks(index, text) for index, text in enumerate(self.texts)]
        checked = [c for c in first if c is not None]
        own = _own_numbers(checked)
        ready = [c for c in checked if self._sender_checks(c, own)]
        self._read_contacts_and_conversations(ready)
        for item in ready:
            self._queue_or_refuse(item)
        self._write()
        answered = [result for result in self.results if result is not None]
        assert len(answered) == len(self.texts), "every text is answered"
        return answered

    # -- checks, in `message_send`'s order ---------------------------------------------------

    def _first_checks(self, index: int, text: TextToSend) -> _Checked | None:
        """The API's: a sender given and theirs; then the text and the number it goes to."""
        try:
            require_sender(text)
            organization = text.membership.organization
            phone_number = None
            if text.sender is not None:
                phone_number = self._usable(text.membership).get(text.sender)
            body = validate_body(organization, text.body, text.category)
            try:
                to_number = normalize_phone(text.to, organization.country)
            except InvalidPhoneNumber as exc:
                raise InvalidInput(str(exc), code="invalid_to") from exc
            plan = self._plan(organization, phone_number, text.category)
        except TwowayError as exc:
            self.results[index] = exc
            return None
        return _Checked(
            index, text, organization, phone_number, to_number, body, segment_info(body), plan
        )

    def _sender_checks(self, item: _Checked, own: set[tuple[int | None, str]]) -> bool:
        text, organization = item.text, item.organization
        try:
            is_own = (organization.pk, item.to_number) in own or (None, item.to_number) in own
            check_recipient(organization, item.to_number, own=is_own)
            if isinstance(item.plan_or_error, TwowayError):
                raise item.plan_or_error
            plan = item.plan
            if not plan.sender.sms_enabled:
                raise InvalidInput(
                    f"{plan.sender.display} cannot send SMS.", code="sender_disabled"
                )
            if not text.membership.can_reply:
                raise sms_permission_missing()
        except TwowayError as exc:
            self.results[item.index] = exc
            return False
        return True

    def _queue_or_refuse(self, item: _Checked) -> None:
        organization, text = item.organization, item.text
        key = (organization.pk, item.to_number)
        if key in self.one_by_one or text.send_at is not None:
            self._one_by_one(item)
            return
        contact = self.contacts.get(key)
        if contact is None:
            contact = Contact(organization=organization, created_from=text.created_from)
        number = item.plan.conversation_number
        conversation = (
            self.conversations.get((number.pk, item.to_number)) if number is not None else None
        )
        try:
            refusal = initiate_refusal(text.membership) if conversation is None else None
            if refusal is not None:
                raise refusal
            check_opt_out(contact, text.category, text.confirm_opted_out, item.to_number)
            if needs_consent_message(organization, contact, text.category):
                self._one_by_one(item)
                return
            item.charged = self._balance(organization.pk).charge(
                category=text.category, segments=item.info.segments
            )
        except TwowayError as exc:
            self.results[item.index] = exc
            return
        if contact.pk is None and key not in self.contacts:
            self.contacts[key] = contact
            self.pending.new_contacts.append((contact, item.to_number))
        if conversation is None and number is not None:
            conversation = Conversation(
                organization_id=organization.pk,
                contact=contact,
                phone_number=number,
                contact_number=item.to_number,
            )
            self.conversations[(number.pk, item.to_number)] = conversation
            self.pending.new_conversations.append(conversation)
        item.contact, item.conversation = contact, conversation
        self.pending.texts.append(item)

    def _one_by_one(self, item: _Checked) -> None:
        """Through `message_send`, after what the group holds so far is written."""
        self._write()
        self.one_by_one.add((item.organization.pk, item.to_number))
        self.balances.clear()  # it charged the balance itself: read it again
        try:  # message_send's own savepoint undoes what a refused text wrote
            self.results[item.index] = one_text_send(item.text, phone_number=item.phone_number)
        except TwowayError as exc:
            self.results[item.index] = exc

    # -- what the checks read ------------------------------------------------------------------

    def _usable(self, membership: Membership) -> UsableNumbers:
        if membership.pk not in self.usable:
            self.usable[membership.pk] = UsableNumbers(membership)
        return self.usable[membership.pk]

    def _plan(
        self, organization: Organization, phone_number: PhoneNumber | None, category: str
    ) -> SenderPlan | TwowayError:
        """`sender_plan`, once per sender and category; its refusal is kept, to be given in
        its turn (after the recipient's checks, as `message_send` does)."""
        key = (organization.pk, phone_number.pk if phone_number else None, category)
        if key not in self.plans:
            try:
                self.plans[key] = sender_plan(
                    organization=organization, phone_number=phone_number, category=category
                )
            except TwowayError as exc:
                self.plans[key] = exc
        return self.plans[key]

    def _balance(self, organization_id: int) -> BalanceCharges:
        if organization_id not in self.balances:
            self.balances[organization_id] = BalanceCharges(organization_id)
        return self.balances[organization_id]

    def _read_contacts_and_conversations(self, items: list[_Checked]) -> None:
        wanted = {(item.organization.pk, item.to_number) for item in items}
        if wanted:
            phones = ContactPhone.objects.filter(
                pairs_in(ContactPhone, ("organization_id", "number"), wanted)
            ).select_related("contact")
            for phone in phones:
                self.contacts[(phone.organization_id, phone.number)] = phone.contact
        threads = {
            (item.plan.conversation_number.pk, item.to_number)
            for item in items
            if item.plan.conversation_number is not None
        }
        if threads:
            found = Conversation.objects.filter(
                pairs_in(Conversation, ("phone_number_id", "contact_number"), threads)
            )
            for conversation in found:
                key = (conversation.phone_number_id, conversation.contact_number)
                self.conversations[key] = conversation

    # -- writing -------------------------------------------------------------------------------

    def _write(self) -> None:
        pending, self.pending = self.pending, _Pending()
        if not pending.texts:
            return
        _insert_contacts(pending.new_contacts)
        messages = _new_messages(pending.texts)
        _insert_conversations(pending.new_conversations, pending.texts, messages)
        _insert_messages(pending.texts, messages)
        by_organization: dict[int, list[int]] = {}
        for item, message in zip(pending.texts, messages, strict=True):
            if item.charged:
                by_organization.setdefault(item.organization.pk, []).append(message.pk)
        for organization_id, message_ids in by_organization.items():
            self.balances[organization_id].write(message_ids)
        events = _record_in_conversations(
            pending.texts, messages, new={c.pk for c in pending.new_conversations}
        )
        contacts_activity_record(
            {
                item.conversation.contact_id: message.created_at
                for item, message in zip(pending.texts, messages, strict=True)
                if item.conversation is not None
            }
        )
        events_publish(events)
        for item, message in zip(pending.texts, messages, strict=True):
            self.results[item.index] = message
        wake_worker()


def _own_numbers(items: list[_Checked]) -> set[tuple[int | None, str]]:
    """(organization, number) of each destination that is an organization's own number, and
    (None, number) for the system number: `is_own_number` for every text at once."""
    numbers = {item.to_number for item in items}
    if not numbers:
        return set()
    organizations = {item.organization.pk for item in items}
    found = PhoneNumber.objects.filter(
        Q(organization_id__in=organizations) | Q(is_system=True), number__in=numbers
    ).values_list("organization_id", "is_system", "number")
    return {(None if system else org, number) for org, system, number in found}


def _insert_contacts(new: list[tuple[Contact, str]]) -> None:
    if not new:
        return
    ids = rows_insert(
        Contact,
        [
            {
                "organization_id": contact.organization_id,
                "created_from": contact.created_from,
                "source_number_id": None,
            }
            for contact, _ in new
        ],
        returning=True,
    )
    for (contact, _), pk in zip(new, ids, strict=True):
        contact.pk = pk
    rows_insert(
        ContactPhone,
        [
            {"organization_id": contact.organization_id, "contact_id": contact.pk, "number": n}
            for contact, n in new
        ],
    )


def _new_messages(items: list[_Checked]) -> list[Message]:
    """The texts' messages, not stored yet (their new conversations have no id so far)."""
    now = timezone.now()
    messages = []
    for item in items:
        membership = item.text.membership
        messages.append(
            Message(
                uid=uuid.uuid4(),
                organization_id=item.organization.pk,
                direction=Direction.OUTBOUND.value,
                category=item.text.category,
                body=item.body,
                encoding=item.info.encoding,
                segments=item.info.segments,
                status=Status.QUEUED.value,
                from_number=item.plan.sender.number,
                to_number=item.to_number,
                carrier=item.plan.sender.carrier,
                sent_by_id=membership.user_id,
                sent_by_label=item.text.label,
                retry_of_id=item.text.retry_of,
                priority=priority_of(item.text.category),
                next_attempt_at=now,
                created_at=now,
            )
        )
    return messages


def _insert_conversations(
    new: list[Conversation], items: list[_Checked], messages: list[Message]
) -> None:
    """The new conversations as their texts leave them (see `_record_in_conversations`), so
    none is updated right after its insert, which wrote a second version of the row and of
    its index entries."""
    if not new:
        return
    # By id() of the conversation, which has no primary key yet.
    last: dict[int, tuple[Message, bool]] = {}
    for item, message in zip(items, messages, strict=True):
        if item.conversation is not None and item.conversation.pk is None:
            earlier = last.get(id(item.conversation))
            answers = item.text.category == Category.DIRECT or bool(earlier and earlier[1])
            last[id(item.conversation)] = (message, answers)
    rows = []
    for conversation in new:
        conversation.contact_id = conversation.contact.pk
        latest, answers = last[id(conversation)]
        if answers:
            conversation.folder, conversation.unread_count = Folder.PARTICIPATING, 0
        rows.append(
            {
                "organization_id": conversation.organization_id,
                "contact_id": conversation.contact_id,
                "phone_number_id": conversation.phone_number_id,
                "contact_number": conversation.contact_number,
                "folder": str(conversation.folder),
                "unread_count": conversation.unread_count,
                "last_message_at": latest.created_at,
                "last_message_preview": conversation_preview(latest),
            }
        )
    ids = rows_insert(Conversation, rows, returning=True)
    for conversation, pk in zip(new, ids, strict=True):
        conversation.pk = pk


def _insert_messages(items: list[_Checked], messages: list[Message]) -> None:
    for item, message in zip(items, messages, strict=True):
        message.conversation_id = item.conversation.pk if item.conversation else None
    ids = rows_insert(Message, [_message_row(m) for m in messages], returning=True)
    for message, pk in zip(messages, ids, strict=True):
        message.pk = pk
        message._state.adding = False


_MESSAGE_FIELDS = [f.attname for f in Message._meta.concrete_fields if not f.primary_key]


def _message_row(message: Message) -> dict[str, Any]:
    return {name: getattr(message, name) for name in _MESSAGE_FIELDS}


def _record_in_conversations(
    items: list[_Checked], messages: list[Message], *, new: set[int]
) -> list[DomainEvent]:
    """`conversation_record_outbound` for every conversation at once (the last text of each
    decides its preview; a direct text moves it to Participating and clears its unread
    count), then the events: each conversation's new state once, and each message. The `new`
    conversations were stored so already (`_insert_conversations`)."""
    last: dict[int, tuple[Message, bool]] = {}
    state: dict[int, tuple[int, str, int, bool]] = {}
    for item, message in zip(items, messages, strict=True):
        if item.conversation is not None and item.conversation.pk in new:
            c = item.conversation
            state[c.pk] = (c.organization_id, str(c.folder), c.unread_count, c.muted)
        elif item.conversation is not None:
            answers = item.text.category == Category.DIRECT
            earlier = last.get(item.conversation.pk)
            last[item.conversation.pk] = (message, answers or bool(earlier and earlier[1]))
    db = connections[router.db_for_write(Conversation)]
    at_field = Conversation._meta.get_field("last_message_at")
    updated = rows_update(
        Conversation,
        columns=[
            ("cid", "bigint"),
            ("answers", "boolean"),
            ("at", "timestamptz"),
            ("preview", "text"),
        ],
        rows=[
            (pk, answers, at_field.get_db_prep_save(m.created_at, db), conversation_preview(m))
            for pk, (m, answers) in last.items()
        ],
        assignments=(
            f"folder = CASE WHEN v.answers THEN '{Folder.PARTICIPATING.value}' ELSE folder END,"
            " unread_count = CASE WHEN v.answers THEN 0 ELSE unread_count END,"
            " last_message_at = v.at, last_message_preview = v.preview"
        ),
        returning="id, organization_id, folder, unread_count, muted",
    )
    state.update(
        {pk: (org, folder, unread, bool(muted)) for pk, org, folder, unread, muted in updated}
    )
    # Each conversation's new state, then its texts, as one text at a time publishes them.
    by_conversation: dict[int | None, list[tuple[_Checked, Message]]] = {}
    for item, message in zip(items, messages, strict=True):
        by_conversation.setdefault(message.conversation_id, []).append((item, message))
    events: list[DomainEvent] = []
    for conversation_id, sent in by_conversation.items():
        muted = False
        if conversation_id is not None:
            organization_id, folder, unread_count, muted = state[conversation_id]
            events.append(
                ConversationUpdated(
                    organization_id=organization_id,
                    conversation_id=conversation_id,
                    folder=folder,
                    unread_count=unread_count,
                )
            )
        for item, message in sent:
            name = item.contact.name if item.contact is not None else ""
            events.append(message_created(message, contact=name or item.to_number, muted=muted))
    return events

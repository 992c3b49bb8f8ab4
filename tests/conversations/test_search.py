"""Full-text search: what matches, in what order, and what a member may see."""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.db import connection
from django.utils import timezone

from tests.conftest import make_member
from twoway.accounts.models import Membership, Organization, Role
from twoway.contacts.models import Contact, ContactGroup, ContactPhone
from twoway.conversations import search
from twoway.conversations.models import (
    Category,
    Conversation,
    Direction,
    Folder,
    Kind,
    Message,
    Status,
)
from twoway.conversations.search import (
    conversation_search,
    fts5_match,
    highlight,
    search_terms,
    tsquery,
)
from twoway.conversations.search_index import search_triggers_ensure
from twoway.conversations.selectors import ContactFilter
from twoway.core.errors import NotFound
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db

_numbers = itertools.count(100)


def make_conversation(
    number: PhoneNumber,
    *,
    name: str = "",
    contact_number: str = "",
    folder: str = Folder.PARTICIPATING,
) -> Conversation:
    org = number.organization
    contact_number = contact_number or f"+1202555{next(_numbers):04d}"
    contact = Contact.objects.create(organization=org, name=name)
    ContactPhone.objects.create(organization=org, contact=contact, number=contact_number)
    return Conversation.objects.create(
        organization=org,
        contact=contact,
        phone_number=number,
        contact_number=contact_number,
        folder=folder,
        last_message_at=timezone.now(),
    )


def say(
    conversation: Conversation,
    body: str,
    *,
    at: datetime.datetime | None = None,
    kind: str = Kind.MESSAGE,
) -> Message:
    message = Message.objects.create(
        organization_id=conversation.organization_id,
        conversation=conversation,
        direction=Direction.INBOUND,
        kind=kind,
        body=body,
        status=Status.RECEIVED if kind == Kind.MESSAGE else "",
    )
    if at is not None:
        Message.objects.filter(pk=message.pk).update(created_at=at)
    return message


def found(membership: Membership, query: str, **filters: object) -> list[str]:
    return [m.body for m in conversation_search(membership, query, **filters).messages]  # type: ignore[arg-type]


@pytest.fixture
def thread(number: PhoneNumber) -> Conversation:
    return make_conversation(number, name="Dana Whitfield", contact_number="+14155550123")


# ---- matching -------------------------------------------------------------------------------


def test_every_word_must_match_and_the_last_is_a_prefix(
    admin: Membership, thread: Conversation
) -> None:
    say(thread, "Can I move my cleaning to Tuesday?")
    say(thread, "The cleaning went well")
    say(thread, "See you Tuesday")
    assert found(admin, "cleaning tuesday") == ["Can I move my cleaning to Tuesday?"]
    assert found(admin, "CLEAN") == ["The cleaning went well", "Can I move my cleaning to Tuesday?"]
    assert found(admin, "clean tuesday") == []  # only the last word is a prefix
    assert found(admin, "Tues") == ["See you Tuesday", "Can I move my cleaning to Tuesday?"]
    assert found(admin, "wednesday") == []


def test_newest_first_by_when_they_were_written(admin: Membership, thread: Conversation) -> None:
    now = timezone.now()
    # Inserted in the opposite order of their dates: the order is the dates', not the ids'.
    say(thread, "invoice three", at=now - datetime.timedelta(days=1))
    say(thread, "invoice two", at=now - datetime.timedelta(days=2))
    say(thread, "invoice one", at=now - datetime.timedelta(days=3))
    say(thread, "invoice four")
    assert found(admin, "invoice") == [
        "invoice four",
        "invoice three",
        "invoice two",
        "invoice one",
    ]
    assert found(admin, "invoice", limit=2) == ["invoice four", "invoice three"]


def test_notes_and_archived_conversations_are_searched(
    admin: Membership, number: PhoneNumber
) -> None:
    archived = make_conversation(number, folder=Folder.ARCHIVED)
    say(archived, "old x-ray results attached")
    say(make_conversation(number), "x-ray booked", kind=Kind.NOTE)
    results = conversation_search(admin, "x-ray")
    assert [m.body for m in results.messages] == ["x-ray booked", "old x-ray results attached"]
    assert results.messages[0].is_note
    assert results.messages[1].conversation.folder == Folder.ARCHIVED
    assert found(admin, "x-ray", folder=Folder.ARCHIVED) == ["old x-ray results attached"]


def test_texts_without_a_conversation_are_left_out(admin: Membership, org: Organization) -> None:
    Message.objects.create(
        organization=org,
        direction=Direction.OUTBOUND,
        category=Category.MARKETING,
        body="Spring whitening offer",
        status=Status.QUEUED,
    )
    assert found(admin, "whitening") == []


def test_another_organizations_identical_text_never_shows(
    admin: Membership, other_org: Organization, thread: Conversation
) -> None:
    their_number = PhoneNumber.objects.create(organization=other_org, number="+14155550199")
    theirs = make_conversation(their_number, name="Dana Other", contact_number="+14155550123")
    say(theirs, "zeppelin tickets")
    say(thread, "zeppelin tickets")
    results = conversation_search(admin, "zeppelin")
    assert [m.conversation_id for m in results.messages] == [thread.pk]
    assert [c.pk for c in conversation_search(admin, "dana").conversations] == [thread.pk]
    assert [c.pk for c in conversation_search(admin, "0123").conversations] == [thread.pk]


def test_a_member_sees_only_the_numbers_open_to_them(
    org: Organization, admin: Membership, standard: Membership, number: PhoneNumber
) -> None:
    restricted = PhoneNumber.objects.create(
        organization=org, number="+14155550111", access_everyone=False
    )
    hidden = make_conversation(restricted, name="Quentin Hidden")
    say(hidden, "marzipan order")
    say(make_conversation(number), "marzipan delivered")
    assert found(standard, "marzipan") == ["marzipan delivered"]
    assert conversation_search(standard, "quentin").conversations == []
    assert found(admin, "marzipan") == ["marzipan delivered", "marzipan order"]
    with pytest.raises(NotFound):
        conversation_search(standard, "marzipan", number_id=restricted.pk)
    restricted.access_users.add(standard)
    assert found(standard, "marzipan", number_id=restricted.pk) == ["marzipan order"]


def test_limited_users_search_their_inbox_too(
    org: Organization, number: PhoneNumber, thread: Conversation
) -> None:
    limited = make_member(org, "limited@acme.test", Role.LIMITED)
    say(thread, "floss daily")
    assert found(limited, "floss") == ["floss daily"]


def test_number_and_date_filters(admin: Membership, org: Organization, number: PhoneNumber) -> None:
    second = PhoneNumber.objects.create(organization=org, number="+14155550112")
    now = timezone.now()
    say(make_conversation(number), "retainer fits", at=now - datetime.timedelta(days=10))
    say(make_conversation(second), "retainer lost", at=now - datetime.timedelta(days=1))
    assert found(admin, "retainer", number_id=second.pk) == ["retainer lost"]
    assert found(admin, "retainer", since=now - datetime.timedelta(days=2)) == ["retainer lost"]
    assert found(admin, "retainer", until=now - datetime.timedelta(days=2)) == ["retainer fits"]


def test_contact_filters_narrow_messages_and_contacts(
    admin: Membership, org: Organization, number: PhoneNumber
) -> None:
    vip = ContactGroup.objects.create(organization=org, name="VIP")
    ada = make_conversation(number, name="Ada Retainer")
    bob = make_conversation(number, name="Bob Retainer")
    Contact.objects.filter(pk=ada.contact_id).update(client_type="Patient", home_location="Lyon")
    Contact.objects.filter(pk=bob.contact_id).update(client_type="Supplier", home_location="Lyon")
    ada.contact.groups.add(vip)
    say(ada, "retainer fits")
    say(bob, "retainer lost")

    def both(contact_filter: ContactFilter) -> tuple[list[str], list[str]]:
        results = conversation_search(admin, "retainer", contact_filter=contact_filter)
        return (
            sorted(m.body for m in results.messages),
            sorted(c.contact.name for c in results.conversations),
        )

    assert both(ContactFilter()) == (
        ["retainer fits", "retainer lost"],
        ["Ada Retainer", "Bob Retainer"],
    )
    assert both(ContactFilter(client_type="Patient")) == (["retainer fits"], ["Ada Retainer"])
    assert both(ContactFilter(group_id=vip.pk)) == (["retainer fits"], ["Ada Retainer"])
    assert both(ContactFilter(home_location="Lyon", client_type="Supplier")) == (
        ["retainer lost"],
        ["Bob Retainer"],
    )
    assert both(ContactFilter(home_location="Paris")) == ([], [])


# ---- queries that must not break the match syntax -------------------------------------------

NASTY = [
    '"',
    '""',
    "'",
    "\\",
    "AND",
    "OR",
    "NOT",
    "*",
    "-foo",
    "NEAR(",
    "NEAR(a b, 2)",
    "body:foo",
    "a & b | !c",
    "foo:*",
    "(",
    ")",
    "^",
    "{a b}",
    "<->",
    "%_",
    "_",
    "😀",
    "👍 thanks",
    "naïve café",
    "日本語",
    "x" * 300,
    "word " * 40,
    "\x00",
]


@pytest.mark.parametrize("query", NASTY)
def test_special_characters_never_raise(
    admin: Membership, thread: Conversation, query: str
) -> None:
    say(thread, 'He said "foo" AND -foo NEAR( the 👍 thanks * naïve café 日本語')
    results = conversation_search(admin, query)
    assert isinstance(results.messages, list)


def test_operator_words_are_plain_words(admin: Membership, thread: Conversation) -> None:
    say(thread, "Salt AND pepper")
    say(thread, "salt or pepper")
    assert found(admin, "and pepper") == ["Salt AND pepper"]
    assert found(admin, "-pepper") == ["salt or pepper", "Salt AND pepper"]
    assert found(admin, '"salt') == ["salt or pepper", "Salt AND pepper"]
    assert found(admin, "!!!") == []


def test_match_expressions_quote_every_word() -> None:
    terms = search_terms('NEAR( -foo "bar" o\'brien')
    assert terms == ("near", "foo", "bar", "o", "brien")
    assert fts5_match(terms) == '"near" "foo" "bar" "o" "brien"*'
    assert tsquery(terms) == "'near' & 'foo' & 'bar' & 'o' & 'brien':*"


# ---- the index follows every write ----------------------------------------------------------


def test_updates_and_deletes_keep_the_index_right(admin: Membership, thread: Conversation) -> None:
    message = say(thread, "quetzal feathers")
    message.body = "parrot feathers"
    message.save()
    assert found(admin, "quetzal") == []
    assert found(admin, "parrot") == ["parrot feathers"]
    Message.objects.filter(pk=message.pk).update(body="toucan feathers")
    assert found(admin, "parrot") == []
    assert found(admin, "toucan") == ["toucan feathers"]
    message.delete()
    assert found(admin, "feathers") == []


def test_bulk_and_raw_sql_writes_are_indexed(admin: Membership, thread: Conversation) -> None:
    Message.objects.bulk_create(
        [
            Message(
                organization_id=thread.organization_id,
                conversation=thread,
                direction=Direction.INBOUND,
                body=f"bulk ocelot {i}",
            )
            for i in range(3)
        ]
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE conversations_message SET body = %s WHERE body = %s",
            [("raw jaguar", "bulk ocelot 0")],
        )
        cursor.execute("DELETE FROM conversations_message WHERE body = %s", ["bulk ocelot 1"])
    assert found(admin, "ocelot") == ["bulk ocelot 2"]
    assert found(admin, "jaguar") == ["raw jaguar"]


def test_moving_a_message_into_a_conversation_indexes_it(
    admin: Membership, org: Organization, thread: Conversation
) -> None:
    loose = Message.objects.create(
        organization=org, direction=Direction.OUTBOUND, body="Your narwhal is ready"
    )
    assert found(admin, "narwhal") == []
    Message.objects.filter(pk=loose.pk).update(conversation=thread)
    assert found(admin, "narwhal") == ["Your narwhal is ready"]
    Message.objects.filter(pk=loose.pk).update(conversation=None)
    assert found(admin, "narwhal") == []


def test_deleting_a_conversation_removes_its_messages_from_the_index(
    admin: Membership, thread: Conversation
) -> None:
    say(thread, "walrus")
    thread.delete()
    assert found(admin, "walrus") == []
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # An external-content index that missed the delete would still list the row.
            cursor.execute(
                "SELECT count(*) FROM conversations_message_search "
                "WHERE conversations_message_search MATCH 'walrus'"
            )
            assert cursor.fetchone()[0] == 0


@pytest.mark.skipif(
    "connection.vendor != 'sqlite'",
    reason="only SQLite keeps the index with triggers; the PostgreSQL run covers its own index",
)
def test_triggers_dropped_by_a_table_rebuild_come_back(
    admin: Membership, thread: Conversation
) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER conversations_message_search_ai")
    say(thread, "platypus")  # written while the trigger is missing
    assert search_triggers_ensure(connection) is True
    assert found(admin, "platypus") == ["platypus"]
    say(thread, "platypus again")
    assert found(admin, "platypus") == ["platypus again", "platypus"]
    assert search_triggers_ensure(connection) is False


# ---- contacts -------------------------------------------------------------------------------


def test_contact_name_by_word_prefixes_any_case(admin: Membership, number: PhoneNumber) -> None:
    dana = make_conversation(number, name="Dana Whitfield")
    make_conversation(number, name="Danny Ortiz")
    make_conversation(number, name="Ada Danaher")
    make_conversation(number, name="")
    names = lambda q: sorted(c.contact.name for c in conversation_search(admin, q).conversations)  # noqa: E731
    assert names("dan") == ["Ada Danaher", "Dana Whitfield", "Danny Ortiz"]
    assert names("DANA") == ["Ada Danaher", "Dana Whitfield"]
    assert names("dana whit") == ["Dana Whitfield"]
    assert names("whit dana") == ["Dana Whitfield"]
    assert names("itfield") == []
    Contact.objects.filter(pk=dana.contact_id).update(name="Dana Moreau")
    assert names("whit") == []
    assert names("moreau") == ["Dana Moreau"]


@pytest.mark.parametrize(
    "typed", ["(415) 555-0123", "415-555-0123", "4155550123", "+1 415 555 0123", "555 0123", "0123"]
)
def test_contact_number_by_its_digits_in_any_format(
    admin: Membership, number: PhoneNumber, thread: Conversation, typed: str
) -> None:
    make_conversation(number, name="Someone Else", contact_number="+12025550999")
    assert [c.pk for c in conversation_search(admin, typed).conversations] == [thread.pk]


def test_two_digits_are_not_a_phone_search(admin: Membership, thread: Conversation) -> None:
    assert conversation_search(admin, "23").conversations == []


# ---- snippets -------------------------------------------------------------------------------


def test_highlight_escapes_everything_and_marks_the_words() -> None:
    text = '<script>alert("x")</script> Your <b>cleaning</b> & checkup'
    html = highlight(text, ("clean", "script"))
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;<mark>script</mark>&gt;alert(&quot;x&quot;)" in html
    assert "&lt;b&gt;<mark>cleaning</mark>&lt;/b&gt; &amp; checkup" in html


def test_highlight_cuts_long_text_around_the_first_match() -> None:
    text = "word " * 100 + "zebra crossing " + "tail " * 100
    html = highlight(text, ("zebra",), width=80)
    assert html.startswith("…") and html.endswith("…")
    assert "<mark>zebra</mark> crossing" in html
    assert len(html) < 120


# ---- finding the newest matches without reading them all ------------------------------------


@pytest.fixture
def small_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows (PostgreSQL) and chunks (SQLite) of a few messages, so tests cross them."""
    monkeypatch.setattr(search, "WINDOWS", (4, 10, 25))
    monkeypatch.setattr(search, "FEW_MATCHES", 0)
    monkeypatch.setattr(search, "FIRST_CHUNK", 2)
    monkeypatch.setattr(search, "LAST_CHUNK", 4)


def chatter(conversation: Conversation, count: int, start: datetime.datetime) -> None:
    """`count` texts that match nothing searched below, a minute apart from `start`."""
    for index in range(count):
        say(conversation, f"filler {index}", at=start + datetime.timedelta(minutes=index))


@pytest.mark.usefixtures("small_steps")
def test_a_match_older_than_the_first_window_is_found(
    admin: Membership, thread: Conversation
) -> None:
    start = timezone.now() - datetime.timedelta(days=1)
    say(thread, "gondola booked", at=start - datetime.timedelta(minutes=1))
    chatter(thread, 40, start)
    assert found(admin, "gondola") == ["gondola booked"]
    assert found(admin, "gondola", since=start) == []


@pytest.mark.usefixtures("small_steps")
def test_newest_first_across_windows_and_chunks(admin: Membership, thread: Conversation) -> None:
    start = timezone.now() - datetime.timedelta(days=1)
    expected = []
    for index in range(12):
        at = start + datetime.timedelta(hours=index)
        say(thread, f"kayak {index}", at=at)
        chatter(thread, index % 4, at + datetime.timedelta(minutes=1))
        expected.insert(0, f"kayak {index}")
    assert found(admin, "kayak") == expected
    assert found(admin, "kayak", limit=5) == expected[:5]
    # Written last but dated first, and the other way round: the order is still the dates'.
    say(thread, "kayak early", at=start - datetime.timedelta(hours=1))
    say(thread, "kayak latest", at=start + datetime.timedelta(days=2))
    chatter(thread, 30, start + datetime.timedelta(hours=20))
    assert found(admin, "kayak", limit=3) == ["kayak latest", *expected[:2]]
    assert found(admin, "kayak")[-1] == "kayak early"


@pytest.mark.usefixtures("small_steps")
def test_scope_filters_hold_across_chunks(
    admin: Membership, org: Organization, number: PhoneNumber
) -> None:
    second = PhoneNumber.objects.create(organization=org, number="+14155550113")
    archived = make_conversation(number, folder=Folder.ARCHIVED)
    elsewhere = make_conversation(second)
    start = timezone.now() - datetime.timedelta(days=1)
    say(archived, "sherpa old", at=start)
    for index in range(15):
        say(elsewhere, f"sherpa {index}", at=start + datetime.timedelta(minutes=index + 1))
    chatter(elsewhere, 20, start + datetime.timedelta(hours=1))
    assert found(admin, "sherpa", folder=Folder.ARCHIVED) == ["sherpa old"]
    assert found(admin, "sherpa", number_id=number.pk) == ["sherpa old"]
    assert found(admin, "sherpa", limit=2) == ["sherpa 14", "sherpa 13"]
    assert found(admin, "sherpa", until=start + datetime.timedelta(minutes=2), limit=2) == [
        "sherpa 0",
        "sherpa old",
    ]


@pytest.mark.usefixtures("small_steps")
def test_a_member_who_sees_one_number_among_many_finds_its_old_match(
    org: Organization, standard: Membership, number: PhoneNumber
) -> None:
    start = timezone.now() - datetime.timedelta(days=1)
    say(make_conversation(number), "tandem ride", at=start)
    for index in range(3):
        hidden = PhoneNumber.objects.create(
            organization=org, number=f"+1415555012{index}", access_everyone=False
        )
        conversation = make_conversation(hidden)
        for minute in range(10):
            at = start + datetime.timedelta(hours=index, minutes=minute + 1)
            say(conversation, f"tandem {index} {minute}", at=at)
    assert found(standard, "tandem") == ["tandem ride"]


@pytest.mark.usefixtures("small_steps")
def test_newest_first_by_dates_when_ids_are_out_of_order_in_small_steps(
    admin: Membership, thread: Conversation
) -> None:
    # Read by id in chunks of 2, the older ids with later dates are found by the date check.
    test_newest_first_by_when_they_were_written(admin, thread)


@pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="the planner settings are PostgreSQL's"
)
@pytest.mark.usefixtures("small_steps")
def test_the_planner_settings_a_search_switches_off_come_back(
    admin: Membership, thread: Conversation
) -> None:
    names = ("enable_indexscan", "enable_hashjoin", "enable_mergejoin", "jit")

    def settings() -> tuple[str, ...]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(f"current_setting('{name}')" for name in names))
            return tuple(cursor.fetchone())

    start = timezone.now() - datetime.timedelta(days=1)
    say(thread, "gondola booked", at=start - datetime.timedelta(minutes=1))
    chatter(thread, 40, start)
    before = settings()  # inside the test's transaction, as a caller's would be
    assert "off" not in before[:3]
    assert found(admin, "gondola") == ["gondola booked"]  # through the later windows
    assert settings() == before

"""The inbox list a page at a time: "Show older conversations" (keyset paging, with and without
JavaScript), and the live refresh keeping every row the member loaded."""

from __future__ import annotations

import datetime
import html
import itertools
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import logged_in, make_conversation
from twoway.accounts.models import Membership, Organization
from twoway.conversations import selectors
from twoway.conversations.models import Conversation, Folder
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db

LIST = "/inbox/list/?folder=needs_attention"
START = datetime.datetime(2026, 3, 1, 9, 0, tzinfo=datetime.UTC)


def _rows(page: str) -> list[int]:
    return [
        int(pk)
        for pk in re.findall(r'<li class="conversation-item[^"]*" data-conversation="(\d+)"', page)
    ]


def _older(page: str) -> dict[str, str] | None:
    """The "Show older conversations" link's href and hx-get, or None."""
    found = re.search(r'<li class="older">\s*<a href="([^"]+)"\s*hx-get="([^"]+)"', page)
    if not found:
        return None
    assert page.count("Show older conversations") == 1
    return {"href": html.unescape(found[1]), "hx-get": html.unescape(found[2])}


def _through(page: str) -> str:
    """The cursor twoway.js sends on a live refresh: the last row's time and id."""
    last = re.findall(
        r'data-conversation="(\d+)">.*?<time datetime="([^"]*)">', page, flags=re.DOTALL
    )[-1]
    return f"{last[1]}_{last[0]}"


def _listed_in_order(membership: Membership, folder: str = Folder.NEEDS_ATTENTION) -> list[int]:
    """The folder as the database orders it: what the pages must add up to."""
    return list(
        Conversation.objects.filter(organization_id=membership.organization_id, folder=folder)
        .order_by("-last_message_at", "-id")
        .values_list("pk", flat=True)
    )


def _make(org: Organization, number: PhoneNumber, count: int, first: int = 0) -> list[int]:
    made = []
    for i in range(first, first + count):
        made.append(make_conversation(org, number, f"+1415555{i:04d}").pk)
    return made


@pytest.fixture
def folder(org: Organization, number: PhoneNumber) -> list[int]:
    """130 conversations: 70 with a last message, in groups of three at the same instant (ties
    broken by id), and 60 without one yet (NULL: first on PostgreSQL, last on SQLite), so
    pages start and end inside each kind and across both."""
    dated = _make(org, number, 70)
    for i, pk in enumerate(dated):
        at = START + datetime.timedelta(minutes=i // 3)
        Conversation.objects.filter(pk=pk).update(last_message_at=at)
    never = _make(org, number, 60, first=100)
    Conversation.objects.filter(pk__in=never).update(last_message_at=None)
    return dated + never


def _walk(client: Client, first_url: str, link: str) -> tuple[list[list[int]], list[str]]:
    """Every page from the first, following "Show older" (`link`: "href" or "hx-get")."""
    pages, urls = [], [first_url]
    while True:
        response = client.get(urls[-1])
        assert response.status_code == 200
        page = response.content.decode()
        pages.append(_rows(page))
        older = _older(page)
        if older is None:
            return pages, urls
        urls.append(older[link])


@pytest.mark.parametrize("link", ["hx-get", "href"])
def test_pages_list_each_conversation_once_in_order(
    folder: list[int], admin: Membership, link: str
) -> None:
    first = LIST if link == "hx-get" else "/inbox/?folder=needs_attention"
    pages, urls = _walk(logged_in(admin), first, link)
    assert [len(p) for p in pages] == [50, 50, 30]
    assert [pk for p in pages for pk in p] == _listed_in_order(admin)
    # Without JavaScript, the link is the inbox page; with htmx, the rows alone.
    assert all(url.startswith("/inbox/?folder=needs_attention&before=") for url in urls[1:]) is (
        link == "href"
    )


def test_ties_are_ordered_by_id_newest_first(folder: list[int], admin: Membership) -> None:
    pages, _ = _walk(logged_in(admin), LIST, "hx-get")
    listed = [pk for p in pages for pk in p]
    at = dict(Conversation.objects.values_list("pk", "last_message_at"))
    for newer, older in itertools.pairwise(listed):
        if at[newer] == at[older]:
            assert newer > older
    assert sum(1 for pk in listed if at[pk] is None) == 60


def test_the_link_shows_only_when_more_remain(
    org: Organization, number: PhoneNumber, admin: Membership
) -> None:
    client = logged_in(admin)
    _make(org, number, 50)
    page = client.get(LIST).content.decode()
    assert len(_rows(page)) == 50 and _older(page) is None
    assert "Show older conversations" not in client.get("/inbox/").content.decode()
    _make(org, number, 1, first=50)
    page = client.get(LIST).content.decode()
    assert len(_rows(page)) == 50 and _older(page) is not None
    last = _older(page)
    assert last is not None
    older = client.get(last["hx-get"]).content.decode()
    assert len(_rows(older)) == 1 and _older(older) is None
    assert "No conversations here" not in older and "conversation-items" not in older


def test_the_link_keeps_the_folder_and_the_assignee_filter(
    org: Organization, number: PhoneNumber, admin: Membership, sam: Membership
) -> None:
    mine = _make(org, number, 55, first=0)
    Conversation.objects.filter(pk__in=mine).update(folder=Folder.PARTICIPATING)
    Conversation.objects.filter(pk__in=mine[::2]).update(assignee=sam.user)  # 28 of them
    client = logged_in(sam)
    page = client.get("/inbox/?folder=participating&assignee=me").content.decode()
    assert len(_rows(page)) == 28 and _older(page) is None
    Conversation.objects.filter(pk__in=mine).update(assignee=sam.user)
    page = client.get("/inbox/?folder=participating&assignee=me").content.decode()
    older = _older(page)
    assert older is not None
    for url in older.values():
        assert "folder=participating" in url and url.endswith("&assignee=me")
    rest = client.get(older["hx-get"]).content.decode()
    assert len(_rows(rest)) == 5
    assert set(_rows(page) + _rows(rest)) == set(mine)
    # The no-JavaScript page: the older rows, the tabs and the filter as they were.
    without_js = client.get(older["href"]).content.decode()
    assert _rows(without_js) == _rows(rest)
    assert 'aria-current="page"' in without_js and 'value="me" selected' in without_js


def test_a_text_moving_a_conversation_to_the_top_shifts_no_page(
    folder: list[int], admin: Membership
) -> None:
    client = logged_in(admin)
    first = client.get(LIST).content.decode()
    link = _older(first)
    assert link is not None
    # New texts move two conversations of the last page up, after page 1 was read (above it on
    # SQLite; on PostgreSQL below the conversations without a message yet, which come first).
    moved = _listed_in_order(admin)[-2:]
    Conversation.objects.filter(pk__in=moved).update(last_message_at=timezone.now())
    pages, _ = _walk(client, link["hx-get"], "hx-get")
    later = [pk for p in pages for pk in p]
    # The pages after the first go on from its last row, whatever moved: nothing repeated,
    # nothing skipped.
    order = _listed_in_order(admin)
    assert later == order[order.index(_rows(first)[-1]) + 1 :]
    assert sorted(_rows(first) + later + [pk for pk in moved if pk not in later]) == sorted(folder)


def test_a_bad_cursor_is_a_400(folder: list[int], admin: Membership) -> None:
    client = logged_in(admin)
    for value in [
        "x",
        "_",
        "2026-03-01T09:00:00+00:00",
        "2026-03-01T09:00:00_12",  # no time zone
        "2026-13-01T09:00:00+00:00_12",
        "2026-03-01T09:00:00+00:00_1234567890123456789",
        "2026-03-01T09:00:00+00:00_-5",
        "' OR 1=1 --_5",
    ]:
        for url in ["/inbox/?folder=needs_attention", LIST]:
            for name in ["before", "through"] if url == LIST else ["before"]:
                response = client.get(url, {name: value})
                assert response.status_code == 400, (url, name, value)
                assert "is not a place in the conversation list" in response.content.decode()
    # Empty is none at all: the first page.
    assert len(_rows(client.get(LIST, {"before": ""}).content.decode())) == 50


def test_an_open_id_that_is_not_one_marks_no_row(folder: list[int], admin: Membership) -> None:
    client = logged_in(admin)
    for value in ["x", "-3", "1e3", "²", "9" * 40]:
        response = client.get(LIST, {"open": value})
        assert response.status_code == 200, value
        assert 'aria-current="true"' not in response.content.decode()
    shown = _rows(client.get(LIST).content.decode())[0]
    marked = client.get(LIST, {"open": str(shown)}).content.decode()
    assert marked.count('aria-current="true"') == 1


def test_another_organizations_conversations_never_appear(
    folder: list[int], admin: Membership, other_org: Organization
) -> None:
    theirs_number = PhoneNumber.objects.create(
        organization=other_org, number="+14155550999", carrier="simulator", mps_limit=100
    )
    theirs = _make(other_org, theirs_number, 60, first=500)
    Conversation.objects.filter(pk__in=theirs[:30]).update(last_message_at=None)
    Conversation.objects.filter(pk__in=theirs[30:]).update(last_message_at=START)
    client = logged_in(admin)
    pages, _ = _walk(client, LIST, "hx-get")
    assert sorted(pk for p in pages for pk in p) == sorted(folder)
    # A cursor naming one of their rows pages through ours only.
    cursor = f"{START.isoformat()}_{theirs[-1]}"
    for name in ["before", "through"]:
        listed = _rows(client.get(LIST, {name: cursor}).content.decode())
        assert listed and not set(listed) & set(theirs)


def test_the_live_refresh_keeps_the_rows_loaded(folder: list[int], admin: Membership) -> None:
    client = logged_in(admin)
    first = client.get(LIST).content.decode()
    link = _older(first)
    assert link is not None
    second = client.get(link["hx-get"]).content.decode()
    on_screen = _rows(first) + _rows(second)
    assert len(on_screen) == 100
    # A text arrives for a conversation not loaded yet: it moves up among the loaded ones.
    newcomer = next(pk for pk in _listed_in_order(admin) if pk not in on_screen)
    Conversation.objects.filter(pk=newcomer).update(last_message_at=timezone.now())
    refreshed = client.get(LIST, {"through": _through(second), "open": on_screen[70]})
    page = refreshed.content.decode()
    order = _listed_in_order(admin)
    assert _rows(page) == order[: order.index(on_screen[-1]) + 1]
    assert sorted(_rows(page)) == sorted([newcomer, *on_screen])
    assert _older(page) is not None  # 29 remain
    assert f'<li class="conversation-item open" data-conversation="{on_screen[70]}">' in page
    assert '<span class="count" data-count="needs_attention">130</span>' in page
    # The last row on screen left the folder: the rows down to its place are still shown.
    Conversation.objects.filter(pk=on_screen[-1]).update(folder=Folder.ARCHIVED)
    page = client.get(LIST, {"through": _through(second)}).content.decode()
    assert _rows(page) == [pk for pk in order[: order.index(on_screen[-1])]]


def test_the_live_refresh_shows_at_least_a_page(folder: list[int], admin: Membership) -> None:
    client = logged_in(admin)
    order = _listed_in_order(admin)
    first = client.get(LIST).content.decode()
    # Conversations of the first page left the folder: the refresh still shows a full page.
    Conversation.objects.filter(pk__in=order[5:45]).update(folder=Folder.ARCHIVED)
    page = client.get(LIST, {"through": _through(first)}).content.decode()
    remaining = [pk for pk in order if pk not in order[5:45]]
    assert _rows(page) == remaining[:50] and _older(page) is not None
    # Everything loaded: every row, and no link.
    _pages, urls = _walk(client, LIST, "hx-get")
    last_page = client.get(urls[-1]).content.decode()
    page = client.get(LIST, {"through": _through(last_page)}).content.decode()
    assert _rows(page) == remaining and _older(page) is None


def test_the_live_refresh_is_capped(
    folder: list[int], admin: Membership, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "INBOX_THROUGH_MAX", 60)
    client = logged_in(admin)
    _pages, urls = _walk(client, LIST, "hx-get")
    last_page = client.get(urls[-1]).content.decode()
    page = client.get(LIST, {"through": _through(last_page)}).content.decode()
    assert _rows(page) == _listed_in_order(admin)[:60]
    older = _older(page)
    assert older is not None
    rest = client.get(older["hx-get"]).content.decode()
    assert _rows(rest) == _listed_in_order(admin)[60:110]


def _queries(client: Client, url: str, params: dict[str, Any]) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params).status_code == 200
    return len(captured)


def test_the_live_refresh_costs_no_more_queries_than_the_first_page(
    folder: list[int], admin: Membership
) -> None:
    client = logged_in(admin)
    first = client.get(LIST).content.decode()
    link = _older(first)
    assert link is not None
    second = client.get(link["hx-get"]).content.decode()
    plain = _queries(client, LIST, {})
    assert _queries(client, LIST, {"through": _through(first)}) == plain
    assert _queries(client, LIST, {"through": _through(second)}) == plain
    # An older page has no tabs to count: no more than the list.
    before = parse_qs(urlsplit(link["hx-get"]).query)["before"][0]
    assert _queries(client, LIST, {"before": before}) <= plain


def test_older_rows_are_marked_open(folder: list[int], admin: Membership) -> None:
    client = logged_in(admin)
    link = _older(client.get(LIST).content.decode())
    assert link is not None
    order = _listed_in_order(admin)
    page = client.get(link["hx-get"] + f"&open={order[60]}").content.decode()
    assert f'<li class="conversation-item open" data-conversation="{order[60]}">' in page
    assert page.count('aria-current="true"') == 1

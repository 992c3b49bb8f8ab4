"""Opening a conversation from the list: the panel alone, a page of messages, older ones later."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import logged_in, make_member
from tests.conversations.test_search import make_conversation, say
from twoway.accounts.models import Membership, Role
from twoway.conversations.models import Conversation, Message
from twoway.conversations.selectors import THREAD_PAGE
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
TOTAL = THREAD_PAGE * 2 + 7  # three pages: 50, 50, 7


@pytest.fixture
def long_thread(number: PhoneNumber) -> tuple[Conversation, list[Message]]:
    conversation = make_conversation(number, name="Dana Whitfield")
    start = timezone.now() - datetime.timedelta(days=1)
    said = [
        say(conversation, f"text number {i}", at=start + datetime.timedelta(minutes=i))
        for i in range(TOTAL)
    ]
    return conversation, said


def _uids(html: str) -> list[str]:
    return re.findall(r'data-uid="([0-9a-f-]+)"', html)


def test_panel_is_the_conversation_without_the_list(
    admin_client: Client, long_thread: tuple[Conversation, list[Message]]
) -> None:
    conversation, said = long_thread
    response = admin_client.get(reverse("conversation_panel", args=[conversation.pk]), **HX)
    assert response.status_code == 200
    html = response.content.decode()
    # The panel with its header, actions, live thread and composer; not the list nor the tabs.
    assert html.count('id="conversation-panel"') == 1
    assert 'id="thread-heading" tabindex="-1">Dana Whitfield</h2>' in html
    assert f'hx-trigger="sse:conversation-{conversation.pk}"' in html
    assert 'id="composer-body"' in html and "Archive" in html
    assert "conversation-items" not in html and 'aria-label="Folders"' not in html
    assert "<title>Dana Whitfield · Inbox · Twoway</title>" in html
    # The newest page only, oldest first, ending with the last message.
    assert _uids(html) == [str(m.uid) for m in said[-THREAD_PAGE:]]
    assert "Show earlier messages" in html


def test_panel_of_another_organization_is_404(
    admin: Membership, other_org, long_thread: tuple[Conversation, list[Message]]
) -> None:
    conversation, _ = long_thread
    outsider = logged_in(make_member(other_org, "boss@other.test", Role.ADMINISTRATIVE))
    for url in (
        reverse("conversation_panel", args=[conversation.pk]),
        reverse("conversation_thread", args=[conversation.pk]) + "?before=x",
    ):
        assert outsider.get(url, **HX).status_code == 404


def test_earlier_messages_load_page_by_page(
    admin_client: Client, long_thread: tuple[Conversation, list[Message]]
) -> None:
    conversation, said = long_thread
    html = admin_client.get(reverse("conversation_thread", args=[conversation.pk]), **HX)
    html = html.content.decode()
    shown = [str(m.uid) for m in said[-THREAD_PAGE:]]
    assert _uids(html) == shown
    seen = list(shown)
    while "Show earlier messages" in html:
        link = re.search(r'hx-get="([^"]+\?before=([0-9a-f-]+))"', html)
        assert link and link[2] == seen[0]  # older than the oldest shown
        # Without JS, the link's href shows the page from that message on, with older ones.
        href = re.search(r'<li class="earlier"><a href="([^"]+)"', html)
        assert href and href[1] == f"/inbox/c/{conversation.pk}/?around={seen[0]}#message-{seen[0]}"
        html = admin_client.get(link[1], **HX).content.decode()
        assert "<ol" not in html and "No messages yet." not in html
        seen = _uids(html) + seen
    assert seen == [str(m.uid) for m in said]
    # Nothing older than the first message, and a made-up uid gives nothing either.
    url = reverse("conversation_thread", args=[conversation.pk])
    for before in (str(said[0].uid), "not-a-uid", "00000000-0000-0000-0000-000000000000"):
        html = admin_client.get(f"{url}?before={before}", **HX).content.decode()
        assert _uids(html) == [] and "Show earlier" not in html and "No messages" not in html


def test_a_live_redraw_keeps_the_earlier_messages_on_screen(
    admin_client: Client, long_thread: tuple[Conversation, list[Message]]
) -> None:
    conversation, said = long_thread
    url = reverse("conversation_thread", args=[conversation.pk])
    # The reader loaded a second page: the oldest on screen is 100 messages back.
    oldest = said[-2 * THREAD_PAGE]
    html = admin_client.get(f"{url}?since={oldest.uid}", **HX).content.decode()
    assert _uids(html) == [str(m.uid) for m in said[-2 * THREAD_PAGE :]]
    assert "Show earlier messages" in html  # the 7 before it are still a click away
    # A text arrives: the next redraw has it too, and still everything from the oldest on.
    said.append(say(conversation, "a new text"))
    html = admin_client.get(f"{url}?since={oldest.uid}", **HX).content.decode()
    assert _uids(html) == [str(m.uid) for m in said[-2 * THREAD_PAGE - 1 :]]
    # Never fewer than the newest page; an unknown uid is the newest page.
    for since in (str(said[-1].uid), "not-a-uid", "00000000-0000-0000-0000-000000000000"):
        html = admin_client.get(f"{url}?since={since}", **HX).content.decode()
        assert _uids(html) == [str(m.uid) for m in said[-THREAD_PAGE:]]


def test_a_search_hit_older_than_the_first_page_is_on_the_page(
    admin_client: Client, long_thread: tuple[Conversation, list[Message]]
) -> None:
    conversation, said = long_thread
    hit = said[3]  # in the third page
    for name in ("conversation", "conversation_panel"):
        url = reverse(name, args=[conversation.pk])
        html = admin_client.get(f"{url}?around={hit.uid}").content.decode()
        assert f'id="message-{hit.uid}"' in html
        # The hit, up to THREAD_PAGE older ones (here the 3 there are) and all the newer ones.
        assert _uids(html) == [str(m.uid) for m in said]
    hit = said[-THREAD_PAGE - 5]  # just before the first page
    html = admin_client.get(
        reverse("conversation_panel", args=[conversation.pk]) + f"?around={hit.uid}", **HX
    ).content.decode()
    assert _uids(html) == [str(m.uid) for m in said[-2 * THREAD_PAGE - 5 :]]
    assert "Show earlier messages" in html
    # A uid of another conversation (or none) is ignored: the newest page.
    other = say(make_conversation(conversation.phone_number), "elsewhere")
    url = reverse("conversation", args=[conversation.pk])
    for around in (str(other.uid), "nonsense"):
        html = admin_client.get(f"{url}?around={around}").content.decode()
        assert _uids(html) == [str(m.uid) for m in said[-THREAD_PAGE:]]


def test_list_rows_open_the_panel_and_keep_the_filter(
    admin_client: Client, admin: Membership, number: PhoneNumber
) -> None:
    first = make_conversation(number, name="First")
    second = make_conversation(number, name="Second")
    say(first, "one")
    say(second, "two")
    Conversation.objects.update(assignee_id=admin.user_id)  # both listed under "Mine"
    page = reverse("conversation", args=[first.pk])
    html = admin_client.get(f"{page}?folder=participating&assignee=me").content.decode()
    # The page has no copy kept by htmx (back and forward fetch it again), and its panel.
    assert 'hx-history="false"' in html
    for c in (first, second):
        url = reverse("conversation", args=[c.pk]) + "?folder=participating&amp;assignee=me"
        assert f'<a href="{url}"' in html
        assert f'hx-get="{reverse("conversation_panel", args=[c.pk])}" hx-push-url="{url}"' in html
    # The open row is marked, for sight (class) and for screen readers (aria-current).
    assert re.search(rf'data-open-conversation="{first.pk}" aria-current="true"', html)
    assert not re.search(rf'data-open-conversation="{second.pk}" aria-current', html)
    assert 'hx-target="#conversation-panel" hx-swap="outerHTML"' in html
    # The live list asks for the open conversation's mark itself (twoway.js), not a fixed one.
    assert "&open=" not in html
    listing = admin_client.get(
        reverse("conversation_list") + f"?folder=participating&open={second.pk}"
    ).content.decode()
    assert re.search(rf'data-open-conversation="{second.pk}" aria-current="true"', listing)
    # The empty inbox has a panel to swap too.
    html = admin_client.get(reverse("inbox")).content.decode()
    assert 'class="panel empty-panel" id="conversation-panel"' in html

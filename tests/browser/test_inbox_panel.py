"""Opening conversations from the inbox list: only the panel is fetched, the URL follows, the
back button returns to the previous conversation, and the live updates follow the open one.

An organization of its own ("Golf Clinic", filled by `twoway generate-inbox`), so the other
browser tests' organizations are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.pages import log_in

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

TIMEOUT = 10_000  # ms
EMAIL = "boss@golf-clinic.test"
PASSWORD = "golf-correct-horse-battery"
FOLDERS = ("needs_attention", "participating", "archived")

expect.set_options(timeout=TIMEOUT)

_NOTE_SCRIPT = """
from twoway.conversations.models import Conversation
from twoway.conversations.services import note_add
note_add(conversation=Conversation.objects.get(pk={pk}), body={body!r}, author_id=None)
"""


@pytest.fixture(scope="module")
def golf(twoway_cli: Callable[..., str]) -> None:
    twoway_cli(
        "generate-inbox",
        "--conversations",
        "12",
        "--messages",
        "400",
        "--organization",
        "Golf Clinic",
        "--admin-email",
        EMAIL,
        "--password",
        PASSWORD,
    )


def rows(page: Page) -> Locator:
    return page.locator("ul.conversation-items a[data-open-conversation]")


def panel_id(page: Page) -> str:
    return page.locator("#conversation-panel").get_attribute("data-conversation") or ""


def test_open_conversations_from_the_list(
    page: Page, twoway_server: TwowayServer, twoway_cli: Callable[..., str], golf: None
) -> None:
    server = twoway_server
    page.set_default_timeout(TIMEOUT)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{server.url}/login/")
    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/inbox/$"))

    # A folder with at least two conversations.
    for folder in FOLDERS:
        page.goto(f"{server.url}/inbox/?folder={folder}")
        if rows(page).count() >= 2:
            break
    else:
        pytest.fail("no folder holds two conversations")
    first, second = (rows(page).nth(i).get_attribute("data-open-conversation") for i in (0, 1))
    assert first and second
    page.evaluate("window.__twowayNoReload = true")

    full_loads: list[str] = []
    page.on(
        "request",
        lambda r: full_loads.append(r.url) if r.resource_type == "document" else None,
    )

    def open_row(pk: str) -> None:
        rows(page).and_(page.locator(f'[data-open-conversation="{pk}"]')).click()
        expect(page).to_have_url(re.compile(rf"/inbox/c/{pk}/\?folder={folder}$"))
        expect(page.locator("#conversation-panel")).to_have_attribute("data-conversation", pk)
        # The thread shows its messages and follows its own live events.
        expect(page.locator("#thread li.message").first).to_be_visible()
        expect(page.locator("#thread")).to_have_attribute("hx-trigger", f"sse:conversation-{pk}")
        # The row is marked open, the previous one no longer; the heading has the focus.
        link = page.locator(f'a[data-open-conversation="{pk}"]')
        expect(link).to_have_attribute("aria-current", "true")
        expect(page.locator('ul.conversation-items a[aria-current="true"]')).to_have_count(1)
        expect(page.locator("#thread-heading")).to_be_focused()

    open_row(first)
    title_first = page.title()
    open_row(second)
    assert page.title() != title_first and "Inbox · Twoway" in page.title()
    assert page.evaluate("window.__twowayNoReload === true"), "the page was reloaded"
    assert full_loads == [], f"full page loads: {full_loads}"

    # Live: a note added elsewhere shows in the newly opened thread, and the list stays marked.
    twoway_cli(
        "manage", "shell", "-c", _NOTE_SCRIPT.format(pk=second, body="Called back, all good")
    )
    expect(
        page.locator("#thread li.message").filter(has_text="Called back, all good")
    ).to_be_visible()
    expect(page.locator(f'a[data-open-conversation="{second}"]')).to_have_attribute(
        "aria-current", "true"
    )

    # Older messages load above, in place of the link, when the thread has more than a page.
    earlier = page.locator("#thread a[data-earlier]")
    if earlier.count():
        before = page.locator("#thread li.message").count()
        earlier.click()
        expect(page.locator("#thread li.message")).not_to_have_count(before)
        assert page.locator("#thread li.message").count() > before

    # Back: the previous conversation, fetched again (htmx keeps no copy of the inbox).
    page.go_back()
    expect(page).to_have_url(re.compile(rf"/inbox/c/{first}/\?folder={folder}$"))
    expect(page.locator("#conversation-panel")).to_have_attribute("data-conversation", first)
    expect(page.locator(f'a[data-open-conversation="{first}"]')).to_have_attribute(
        "aria-current", "true"
    )
    page.go_forward()
    expect(page).to_have_url(re.compile(rf"/inbox/c/{second}/\?folder={folder}$"))
    expect(page.locator("#conversation-panel")).to_have_attribute("data-conversation", second)
    assert page.evaluate("window.__twowayNoReload === true"), "the page was reloaded"

    # A reload (or a direct visit) renders the whole page with the conversation open.
    page.reload()
    expect(page.locator("#conversation-panel")).to_have_attribute("data-conversation", second)
    expect(page.locator(f'a[data-open-conversation="{second}"]')).to_have_attribute(
        "aria-current", "true"
    )


_LONGEST_SCRIPT = """
from django.db.models import Count
from twoway.conversations.models import Conversation
longest = (
    Conversation.objects.filter(organization__name="Golf Clinic")
    .annotate(n=Count("messages"))
    .order_by("-n")
    .first()
)
print("longest", longest.pk, longest.n)
"""


def test_a_live_redraw_keeps_the_earlier_messages_the_reader_loaded(
    page: Page, twoway_server: TwowayServer, twoway_cli: Callable[..., str], golf: None
) -> None:
    found = re.search(r"longest (\d+) (\d+)", twoway_cli("manage", "shell", "-c", _LONGEST_SCRIPT))
    assert found, "no conversation in the generated inbox"
    pk, count = found.groups()
    assert int(count) > 50, "the generated inbox has no thread longer than a page"
    log_in(page, twoway_server, EMAIL, PASSWORD)
    page.goto(f"{twoway_server.url}/inbox/c/{pk}/")
    messages = page.locator("#thread li.message")
    expect(messages).to_have_count(50)
    page.locator("#thread a[data-earlier]").click()
    expect(messages).not_to_have_count(50)
    loaded = messages.count()
    oldest = messages.first.get_attribute("data-uid")
    # The reader is up among the earlier messages when a note comes in.
    twoway_cli("manage", "shell", "-c", _NOTE_SCRIPT.format(pk=pk, body="Left a voicemail"))
    expect(messages.filter(has_text="Left a voicemail")).to_be_visible()
    expect(messages).to_have_count(loaded + 1)
    assert messages.first.get_attribute("data-uid") == oldest

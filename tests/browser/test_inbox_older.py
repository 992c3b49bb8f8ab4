"""The inbox list a page at a time: "Show older conversations" appends the next rows in place
of itself (keyboard focus going on to the first of them), and a text arriving live redraws the
list with every row loaded still there and the open conversation still marked.

An organization of its own ("Paging Clinic", filled by `twoway generate-inbox`), so the other
browser tests' organizations are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import log_in

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

TIMEOUT = 10_000  # ms
EMAIL = "boss@paging-clinic.test"
PASSWORD = "paging-correct-horse-battery"

expect.set_options(timeout=TIMEOUT)

# A conversation of Needs attention from below the first page: its handset and business number.
_PICK_SCRIPT = """
from twoway.conversations.models import Conversation
rows = list(
    Conversation.objects.filter(organization__name="Paging Clinic", folder="needs_attention")
    .order_by("-last_message_at", "-id")
    .select_related("phone_number")
)
print("count", len(rows))
for c in rows[60:61]:
    print("pick", c.pk, c.contact_number, c.phone_number.number)
"""

_TEXT_SCRIPT = """
from twoway.simulator.network import handset_send
handset_send(handset_number={handset!r}, business_number={business!r}, body={body!r})
"""


@pytest.fixture(scope="module")
def paging_clinic(twoway_cli: Callable[..., str]) -> None:
    # About an eighth of generated conversations need attention: more than two pages.
    twoway_cli(
        "generate-inbox",
        "--conversations",
        "1500",
        "--messages",
        "3000",
        "--organization",
        "Paging Clinic",
        "--admin-email",
        EMAIL,
        "--password",
        PASSWORD,
    )


def test_show_older_conversations_and_keep_them_live(
    page: Page,
    twoway_server: TwowayServer,
    twoway_cli: Callable[..., str],
    paging_clinic: None,
    screenshots_dir: Path,
) -> None:
    picked = twoway_cli("manage", "shell", "-c", _PICK_SCRIPT)
    counted = re.search(r"count (\d+)", picked)
    assert counted, picked
    count = int(counted[1])
    assert count > 100, "the generated inbox has too few conversations needing attention"
    found = re.search(r"pick (\d+) (\S+) (\S+)", picked)
    assert found
    pk, handset, business = found.groups()

    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, twoway_server, EMAIL, PASSWORD)
    page.goto(f"{twoway_server.url}/inbox/?folder=needs_attention")
    rows = page.locator("ul.conversation-items li.conversation-item")
    older = page.get_by_role("link", name="Show older conversations")
    expect(rows).to_have_count(50)
    page.evaluate("window.__twowayNoReload = true")

    # By keyboard: the next 50 are appended, and the focus goes on to the first of them.
    last_before = rows.nth(49).get_attribute("data-conversation")
    older.focus()
    page.keyboard.press("Enter")
    expect(rows).to_have_count(100)
    expect(rows.nth(50).locator("a")).to_be_focused()
    assert rows.nth(49).get_attribute("data-conversation") == last_before
    expect(older).to_have_count(1)  # more remain: a new link after the new rows
    # By mouse, the rest (or the next 50).
    older.click()
    expect(rows).not_to_have_count(100)
    loaded = rows.count()
    assert loaded == min(count, 150)
    listed = [rows.nth(i).get_attribute("data-conversation") for i in range(loaded)]
    assert len(set(listed)) == loaded, "a conversation was listed twice"
    assert page.evaluate("window.__twowayNoReload === true"), "the page was reloaded"

    # Open one of the older rows (the 61st); the client then texts in.
    opened = page.locator(f'a[data-open-conversation="{pk}"]')
    opened.click()
    expect(page.locator("#conversation-panel")).to_have_attribute("data-conversation", pk)
    expect(opened).to_have_attribute("aria-current", "true")
    body = "Running ten minutes late, sorry!"
    twoway_cli(
        "manage",
        "shell",
        "-c",
        _TEXT_SCRIPT.format(handset=handset, business=business, body=body),
    )

    # Live: the conversation moves up, and every row loaded is still listed, in order.
    moved = page.locator(f'li.conversation-item[data-conversation="{pk}"]')
    expect(moved.locator(".preview")).to_have_text(body)
    expect(rows).to_have_count(loaded)
    now_listed = [rows.nth(i).get_attribute("data-conversation") for i in range(loaded)]
    assert sorted(now_listed) == sorted(listed)
    assert now_listed.index(pk) < listed.index(pk)
    assert now_listed[-1] == listed[-1]
    expect(opened).to_have_attribute("aria-current", "true")
    expect(page.locator('ul.conversation-items a[aria-current="true"]')).to_have_count(1)
    assert page.evaluate("window.__twowayNoReload === true"), "the page was reloaded"

    # The end of the list: the last rows loaded, and "Show older conversations" if more remain.
    (older if older.count() else rows.last).scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots_dir / "inbox-older.png"))

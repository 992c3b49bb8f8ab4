"""Two agents on one conversation: what one does (assign, archive) and a new text from the
client show in the other's open header at once, without a reload and without taking away the
other's keyboard focus or draft.

In an organization of its own ("Juliet Dental"), created on the running server with the `twoway`
command, so the other browser tests' organizations are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser import pages

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

TIMEOUT = 10_000  # ms
PASSWORD = "juliet-correct-horse-battery"
BOSS, KIM = "boss@juliet.test", "kim@juliet.test"
CLIENT = "+12025550177"

expect.set_options(timeout=TIMEOUT)

_MEMBER_SCRIPT = """
from django.contrib.auth import get_user_model
from twoway.accounts.models import Membership, Role
org = Membership.objects.get(user__email={boss!r}).organization
user = get_user_model().objects.create_user(
    username={kim!r}, email={kim!r}, password={pw!r}, first_name="Kim Park"
)
Membership.objects.create(user=user, organization=org, role=Role.STANDARD)
"""


@pytest.fixture(scope="module")
def juliet(twoway_cli: Callable[..., str]) -> None:
    out = twoway_cli(
        "createadmin", "--email", BOSS, "--password", PASSWORD, "--organization", "Juliet Dental"
    )
    assert "Its texting number is" in out, out
    twoway_cli("manage", "shell", "-c", _MEMBER_SCRIPT.format(boss=BOSS, kim=KIM, pw=PASSWORD))


def text_in(page: Page, server: TwowayServer, body: str) -> None:
    """The client texts the organization from the simulated phone."""
    phone = page.context.new_page()
    phone.set_default_timeout(TIMEOUT)
    phone.goto(f"{server.url}/simulator/{CLIENT}/")
    phone.get_by_label("Text message").fill(body)
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_label("Text message")).to_have_value("")
    phone.close()


def test_the_open_header_follows_another_agent_and_new_texts(
    page: Page,
    browser: Browser,
    twoway_server: TwowayServer,
    juliet: None,
    screenshots_dir: Path,
) -> None:
    server = twoway_server
    pages.log_in(page, server, BOSS, PASSWORD)
    text_in(page, server, "Can I move my cleaning to Friday?")
    page.goto(f"{server.url}/inbox/")
    pages.inbox_item(page, server, "cleaning to Friday").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/inbox/c/\d+/"))
    conversation_url = page.url.split("?")[0]

    # Kim has the same conversation open, a reply half typed.
    kim = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    pages.log_in(kim, server, KIM, PASSWORD)
    kim.goto(conversation_url)
    header = kim.locator(".thread-header")
    expect(header.locator("[data-assignee]")).to_have_text("Unassigned")
    composer = kim.get_by_label("Message", exact=True)
    composer.fill("Friday at 10 works")

    # The boss hands it to Kim: Kim's header says so, and her draft and focus are untouched.
    page.get_by_label("Assign to").select_option(label="Kim Park")
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.locator(".thread-header [data-assignee]")).to_have_text("Assigned to Kim Park")
    expect(header.locator("[data-assignee]")).to_have_text("Assigned to Kim Park")
    expect(kim.get_by_label("Assign to")).to_have_value(re.compile(r"^user:\d+$"))
    expect(composer).to_be_focused()
    expect(composer).to_have_value("Friday at 10 works")

    # Kim has picked "Unassigned" in the assign menu, not yet confirmed, when the boss archives
    # it: the header offers Unarchive, and her focus and her pick stay on the menu.
    kim.get_by_label("Assign to").select_option(label="Unassigned")
    kim.get_by_label("Assign to").focus()
    page.get_by_role("button", name="Archive", exact=True).click()
    expect(page.get_by_role("button", name="Unarchive")).to_be_visible()
    expect(header.get_by_role("button", name="Unarchive")).to_be_visible()
    expect(header.locator("[data-folder-state]")).to_have_text("Archived")
    expect(kim.get_by_label("Assign to")).to_be_focused()
    expect(kim.get_by_label("Assign to")).to_have_value("")
    expect(header.locator("[data-assignee]")).to_have_text("Assigned to Kim Park")
    kim.screenshot(path=str(screenshots_dir / "live-header.png"))

    # The client writes again: the conversation is back in Needs attention on Kim's screen.
    text_in(page, server, "Or Saturday morning?")
    expect(kim.locator("#thread")).to_contain_text("Or Saturday morning?")
    expect(header.locator("[data-folder-state]")).to_have_text("Needs attention")
    expect(header.get_by_role("button", name="Archive", exact=True)).to_be_visible()
    expect(header.locator("[data-assignee]")).to_have_text("Assigned to Kim Park")
    expect(kim.get_by_label("Assign to")).to_have_value("")  # still her unconfirmed pick
    # She confirms it: the pick was real, and now it is the conversation's state.
    kim.get_by_role("button", name="Assign", exact=True).click()
    expect(header.locator("[data-assignee]")).to_have_text("Unassigned")
    kim.context.close()

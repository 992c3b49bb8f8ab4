"""Assignment as a business uses it: an admin makes a team, a client writes in, the admin hands
the conversation to the team, and a member of the team finds it under "Mine" while a colleague
outside the team does not.

Everything happens in an organization of its own ("Delta Physio"), created on the running
server with the `twoway` command, so the other browser tests' organizations are left alone.
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
PASSWORD = "delta-correct-horse-battery"
BOSS, KIM, JOE = "boss@delta.test", "kim@delta.test", "joe@delta.test"
CLIENT = "+12025550196"
TEAM = "Physio team"

expect.set_options(timeout=TIMEOUT)

_MEMBERS_SCRIPT = """
from django.contrib.auth import get_user_model
from twoway.accounts.models import Membership, Role
org = Membership.objects.get(user__email={boss!r}).organization
for email, name in {members!r}:
    user = get_user_model().objects.create_user(
        username=email, email=email, password={pw!r}, first_name=name
    )
    Membership.objects.create(user=user, organization=org, role=Role.STANDARD)
"""


@pytest.fixture(scope="module")
def delta(twoway_cli: Callable[..., str]) -> None:
    out = twoway_cli(
        "createadmin",
        "--email",
        BOSS,
        "--password",
        PASSWORD,
        "--organization",
        "Delta Physio",
    )
    assert "Its texting number is" in out, out
    members = [(KIM, "Kim Park"), (JOE, "Joe Lane")]
    twoway_cli(
        "manage", "shell", "-c", _MEMBERS_SCRIPT.format(boss=BOSS, members=members, pw=PASSWORD)
    )


def log_in(page: Page, server: TwowayServer, email: str) -> None:
    pages.log_in(page, server, email, PASSWORD)


def new_page(browser: Browser) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    return context.new_page()


def show_mine(page: Page) -> None:
    page.get_by_label("Assigned to").select_option(label="Mine")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"assignee=me"))


def test_admin_assigns_a_conversation_to_a_team_whose_member_finds_it_under_mine(
    page: Page,
    browser: Browser,
    twoway_server: TwowayServer,
    delta: None,
    screenshots_dir: Path,
) -> None:
    server = twoway_server
    log_in(page, server, BOSS)

    # Settings, Teams: a team with Kim in it.
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Teams", exact=True).click()
    page.get_by_label("Team name").fill(TEAM)
    page.get_by_label(f"Kim Park ({KIM})").check()
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("status")).to_contain_text(f"Team “{TEAM}” created.")

    # A client writes in from their phone.
    phone = page.context.new_page()
    phone.set_default_timeout(TIMEOUT)
    phone.goto(f"{server.url}/simulator/{CLIENT}/")
    phone.get_by_label("Text message").fill("My knee hurts again, can someone call me?")
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_label("Text message")).to_have_value("")
    phone.close()

    # The admin opens it once the worker has taken it in, and hands it to the team.
    item = pages.inbox_item(page, server, "My knee hurts")
    item.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/inbox/c/\d+/"))
    header = page.locator(".thread-header")
    expect(header.locator("[data-assignee]")).to_have_text("Unassigned")
    page.get_by_label("Assign to").select_option(label=f"Team {TEAM}")
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(header.locator("[data-assignee]")).to_have_text(f"Assigned to team {TEAM}")
    expect(page.locator("#thread li.message.note")).to_contain_text(
        f"{BOSS} assigned this conversation to the team {TEAM}."
    )
    expect(item.locator(".assignee-tag")).to_have_text(f"Team {TEAM}")
    conversation_url = page.url.split("?")[0]

    # Kim, in the team, finds it under Mine; the filter stays on across the folder tabs.
    kim = new_page(browser)
    log_in(kim, server, KIM)
    show_mine(kim)
    mine = kim.locator("li.conversation-item").filter(has_text="My knee hurts")
    expect(mine).to_have_count(1)
    kim.get_by_role("link", name=re.compile(r"^Participating")).click()
    expect(kim).to_have_url(re.compile(r"folder=participating&assignee=me"))
    expect(kim.get_by_text("No conversations here.")).to_be_visible()
    kim.get_by_role("link", name=re.compile(r"^Needs attention")).click()
    expect(kim).to_have_url(re.compile(r"folder=needs_attention&assignee=me"))
    mine.get_by_role("link").click()
    expect(kim).to_have_url(re.compile(re.escape(conversation_url) + r"\?.*assignee=me"))
    expect(kim.locator(".thread-header [data-assignee]")).to_have_text(f"Assigned to team {TEAM}")
    expect(kim.get_by_label("Assigned to")).to_have_value("me")
    kim.screenshot(path=str(screenshots_dir / "assignment.png"))

    # Joe, outside the team, sees it among everyone's but not under Mine.
    joe = new_page(browser)
    log_in(joe, server, JOE)
    expect(joe.locator("li.conversation-item").filter(has_text="My knee hurts")).to_have_count(1)
    show_mine(joe)
    expect(joe.get_by_text("No conversations here.")).to_be_visible()
    for other in (kim, joe):
        other.context.close()

"""Numbers and roles as people meet them: an admin buys a second number from the simulator's
inventory and restricts it to one agent, who then sees it in the From picker while a colleague
does not; a Limited user cannot start a conversation but answers one.

Everything happens in an organization of its own ("Bravo Salon"), created on the running server
with the `twoway` command, so the other browser tests' organization is left as they expect it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser import pages

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

TIMEOUT = 10_000  # ms
PASSWORD = "bravo-correct-horse-battery"
BOSS, SAM, ALEX, LEE = (
    "boss@bravo.test",
    "sam@bravo.test",
    "alex@bravo.test",
    "lee@bravo.test",
)
CLIENT = "+12025550184"  # the Limited user's client (a simulated handset)
NEW_CLIENT_TYPED = "202-555-0185"

expect.set_options(timeout=TIMEOUT)

# Members are created the way an operator would from a shell: the server has its own database.
_MEMBERS_SCRIPT = """
from django.contrib.auth import get_user_model
from twoway.accounts.models import Membership, Role
org = Membership.objects.get(user__email={boss!r}).organization
for email, role in {members!r}:
    user = get_user_model().objects.create_user(username=email, email=email, password={pw!r})
    Membership.objects.create(user=user, organization=org, role=role)
"""


@dataclass
class Bravo:
    """The second organization: its admin and agents, and its first (simulated) number."""

    main_number: str  # as displayed, e.g. "(415) 555-0101"


@pytest.fixture(scope="module")
def bravo(twoway_cli: Callable[..., str]) -> Bravo:
    out = twoway_cli(
        "createadmin",
        "--email",
        BOSS,
        "--password",
        PASSWORD,
        "--organization",
        "Bravo Salon",
    )
    found = re.search(r"Its texting number is (\(\d{3}\) \d{3}-\d{4})", out)
    assert found, out
    members = [(SAM, "standard"), (ALEX, "standard"), (LEE, "limited")]
    script = _MEMBERS_SCRIPT.format(boss=BOSS, members=members, pw=PASSWORD)
    twoway_cli("manage", "shell", "-c", script)
    return Bravo(main_number=found.group(1))


def log_in(page: Page, server: TwowayServer, email: str) -> None:
    pages.log_in(page, server, email, PASSWORD)


def new_page(browser: Browser) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    return context.new_page()


def from_options(page: Page, server: TwowayServer) -> list[str]:
    page.goto(f"{server.url}/inbox/new/")
    expect(page.get_by_role("heading", name="New conversation")).to_be_visible()
    return [text.strip() for text in page.get_by_label("From").locator("option").all_inner_texts()]


def test_admin_adds_a_number_and_restricts_it_to_one_agent(
    page: Page,
    browser: Browser,
    twoway_server: TwowayServer,
    bravo: Bravo,
    screenshots_dir: Path,
) -> None:
    server = twoway_server
    page.set_viewport_size({"width": 1280, "height": 1000})
    log_in(page, server, BOSS)

    # Settings, Numbers lists the organization's first number, open to everyone.
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Numbers", exact=True).click()
    expect(page.get_by_role("heading", name="Numbers")).to_be_visible()
    rows = page.locator("table.numbers-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(bravo.main_number)
    expect(rows.first.locator("td.access")).to_have_text("Everyone")

    # Add a number: search the simulator's inventory in area code 212 and take the first.
    page.get_by_role("link", name="Add a number").click()
    expect(page.get_by_label("Carrier")).to_have_value("simulator")
    page.get_by_label("Area code").fill("21")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("alert")).to_contain_text("three digits")
    page.get_by_label("Area code").fill("212")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="Available numbers")).to_be_visible()
    offers = page.get_by_role("radio")
    expect(offers.first).to_be_visible()
    first_offer = offers.first.get_attribute("value")
    assert first_offer is not None and first_offer.startswith("+1212555")
    shown = f"(212) 555-{first_offer[-4:]}"
    page.get_by_label(shown).check()
    page.get_by_label("Label").fill("Night line")
    page.get_by_role("button", name="Add this number").click()

    # Its inbox settings: only Sam may use it.
    expect(page).to_have_url(re.compile(r"/settings/numbers/\d+/$"))
    expect(page.get_by_role("status")).to_contain_text(f"{shown} is now one of your numbers")
    expect(page.get_by_label("Throughput (messages per second)")).to_have_value("1")
    expect(page.get_by_label("Everyone in the organization")).to_be_checked()
    page.get_by_label("Only the users and teams selected below").check()
    page.get_by_label(f"{SAM} (Standard)").check()
    expect(page.get_by_label(f"{LEE} (Limited)")).not_to_be_checked()
    expect(page.get_by_label("Agent-backed")).to_be_checked()
    page.screenshot(path=str(screenshots_dir / "number-settings.png"), full_page=True)
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page).to_have_url(re.compile(r"/settings/numbers/$"))
    expect(page.get_by_role("status")).to_contain_text(f"Saved the settings of {shown}")
    night = rows.filter(has_text=shown)
    expect(night).to_contain_text("Night line")
    expect(night).to_contain_text("Local long code")
    expect(night).to_contain_text("1 msg/s")
    expect(night.locator("td.access")).to_have_text(f"Administrators, {SAM}")

    # Sam's From picker has the number; Alex's does not.
    sam = new_page(browser)
    log_in(sam, server, SAM)
    # The first number is the two-way one `createadmin` got, pending the carriers' verification.
    main = f"{bravo.main_number} · Two-way · not verified: delivery not guaranteed"
    assert from_options(sam, server) == [main, f"{shown} · Night line"]
    alex = new_page(browser)
    log_in(alex, server, ALEX)
    assert from_options(alex, server) == [main]

    # Sam texts a client from it; the conversation is Sam's (and the admin's), not Alex's.
    sam.get_by_label("From").select_option(label=f"{shown} · Night line")
    sam.get_by_label("To (phone number)").fill(NEW_CLIENT_TYPED)
    sam.get_by_label("Message", exact=True).fill("Your evening appointment is confirmed.")
    sam.get_by_role("button", name="Send").click()
    expect(sam).to_have_url(re.compile(r"/inbox/c/\d+/"))
    expect(sam.locator(".thread-header")).to_contain_text(f"via {shown}")
    conversation_url = sam.url
    alex.goto(f"{server.url}/inbox/?folder=participating")
    expect(alex.get_by_text("No conversations here.")).to_be_visible()
    response = alex.goto(conversation_url)
    assert response is not None and response.status == 404
    page.goto(f"{server.url}/inbox/?folder=participating")
    expect(page.locator("li.conversation-item").filter(has_text="(202) 555-0185")).to_have_count(1)
    # Numbers with conversations cannot be released.
    page.goto(f"{server.url}/settings/numbers/")
    page.get_by_role("link", name=f"Inbox settings of {shown}").click()
    expect(page.locator("#release-blocked")).to_contain_text("cannot be released")
    expect(page.get_by_role("button", name="Release this number")).to_have_count(0)
    for other in (sam, alex):
        other.context.close()


def test_limited_user_answers_but_cannot_start_a_conversation(
    page: Page, browser: Browser, twoway_server: TwowayServer, bravo: Bravo
) -> None:
    server = twoway_server
    log_in(page, server, LEE)

    # No way to start one: no button, the page says why, and a forged post is refused.
    expect(page.get_by_role("link", name="New conversation")).to_have_count(0)
    page.goto(f"{server.url}/inbox/new/")
    expect(page.get_by_role("alert")).to_have_text(
        "Your role can answer existing conversations but not start new ones."
    )
    expect(page.get_by_label("From")).to_have_count(0)
    expect(page.get_by_role("button", name="Send")).to_have_count(0)
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    forged = page.request.post(
        f"{server.url}/inbox/new/",
        form={"from_id": "1", "to": NEW_CLIENT_TYPED, "body": "Hello"},
        headers={"X-CSRFToken": token},
        max_redirects=0,
    )
    assert forged.status == 403, forged.text()
    page.goto(f"{server.url}/inbox/?folder=participating")
    expect(page.get_by_text("No conversations here.")).to_be_visible()

    # A client texts the salon's main number from their phone...
    phone = page.context.new_page()
    phone.set_default_timeout(TIMEOUT)
    phone.goto(f"{server.url}/simulator/{CLIENT}/")
    expect(phone.get_by_label("To", exact=True)).to_have_value(re.compile(r"^\+1\d{10}$"))
    phone.get_by_label("Text message").fill("Can I move my haircut to Friday?")
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_label("Text message")).to_have_value("")

    # ...Lee finds it under Needs attention (once the worker has taken it in) and answers it.
    item = pages.inbox_item(page, server, "Can I move my haircut")
    item.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/inbox/c/\d+/"))
    expect(page.locator(".thread-header")).to_contain_text(f"via {bravo.main_number}")
    page.get_by_label("Message", exact=True).fill("Friday at 10 works, see you then!")
    page.get_by_role("button", name="Send").click()
    reply = page.locator("#thread li.message.outbound").filter(has_text="Friday at 10 works")
    expect(reply).to_have_count(1)
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(reply.locator(".status")).to_have_text("Delivered")
    expect(phone.locator("#screen .bubble").filter(has_text="Friday at 10 works")).to_have_count(1)

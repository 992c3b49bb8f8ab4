"""Filtering the inbox by a contact's group: only the group's conversations are listed, a new
text from someone outside the group does not show up in the filtered list, one from inside does.

In an organization of its own ("Sierra Dental"), created on the running server with the `twoway`
command, so the other browser tests' organizations are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from tests.browser import pages

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

TIMEOUT = 10_000  # ms
PASSWORD = "sierra-correct-horse-battery"
BOSS = "boss@sierra.test"
VIP_CLIENT, OTHER_CLIENT = "+12025550150", "+12025550151"

expect.set_options(timeout=TIMEOUT)

_GROUP_SCRIPT = """
from twoway.accounts.models import Membership
from twoway.contacts.models import ContactGroup, ContactPhone
org = Membership.objects.get(user__email={boss!r}).organization
vip = ContactGroup.objects.create(organization=org, name="VIP")
ContactPhone.objects.get(organization=org, number={vip_client!r}).contact.groups.add(vip)
"""


@pytest.fixture(scope="module")
def sierra(twoway_cli: Callable[..., str]) -> None:
    out = twoway_cli(
        "createadmin", "--email", BOSS, "--password", PASSWORD, "--organization", "Sierra Dental"
    )
    assert "Its texting number is" in out, out


def text_in(page: Page, server: TwowayServer, handset: str, body: str) -> None:
    phone = page.context.new_page()
    phone.set_default_timeout(TIMEOUT)
    phone.goto(f"{server.url}/simulator/{handset}/")
    phone.get_by_label("Text message").fill(body)
    phone.get_by_role("button", name="Send").click()
    expect(phone.get_by_label("Text message")).to_have_value("")
    phone.close()


def test_the_inbox_filtered_by_a_group_lists_only_its_conversations(
    page: Page, twoway_server: TwowayServer, sierra: None, twoway_cli: Callable[..., str]
) -> None:
    server = twoway_server
    pages.log_in(page, server, BOSS, PASSWORD)
    text_in(page, server, VIP_CLIENT, "Is my crown ready?")
    text_in(page, server, OTHER_CLIENT, "Do you take new patients?")
    page.goto(f"{server.url}/inbox/")
    expect(pages.inbox_item(page, server, "new patients")).to_be_visible()
    twoway_cli("manage", "shell", "-c", _GROUP_SCRIPT.format(boss=BOSS, vip_client=VIP_CLIENT))

    page.reload()
    page.get_by_label("Group").select_option(label="VIP")
    page.get_by_role("button", name="Show").click()
    listed = page.locator("#conversation-list li.conversation-item")
    expect(listed).to_have_count(1)
    expect(listed.first).to_contain_text("crown ready")
    expect(page.get_by_label("Group").locator("option:checked")).to_have_text("VIP")

    # Live: a text from outside the group stays out, one from inside moves its row up.
    text_in(page, server, OTHER_CLIENT, "Hello again")
    text_in(page, server, VIP_CLIENT, "Also, can I pay by card?")
    expect(listed.first).to_contain_text("pay by card")
    expect(listed).to_have_count(1)

    # The other tabs keep the filter.
    page.get_by_role("link", name="Archived").click()
    expect(page).to_have_url(re.compile(r"folder=archived&group=\d+"))
    expect(page.get_by_label("Group").locator("option:checked")).to_have_text("VIP")

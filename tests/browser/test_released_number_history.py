"""After two-way texting stayed off past the hold, the released number's conversation is still
there to read, without a composer, saying why."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from tests.browser import pages

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

PASSWORD = "mend-released-correct-horse"
EMAIL = "owner@mend-released.test"
expect.set_options(timeout=10_000)

# What the hourly release does once the hold ran out (numbers.activation.held_numbers_release).
_RELEASE = """
import datetime as dt
from django.utils import timezone
from twoway.accounts.models import Membership, OffReply
from twoway.numbers.activation import held_numbers_release, two_way_deactivate
admin = Membership.objects.get(user__email="{email}")
number = two_way_deactivate(actor=admin, off_reply=OffReply.NO_AUTO_REPLY)
number.refresh_from_db()
print(len(held_numbers_release(now=number.held_until + dt.timedelta(seconds=1))))
"""


def test_a_released_numbers_conversation_stays_readable(
    page: Page,
    twoway_server: TwowayServer,
    twoway_cli: Callable[..., str],
    screenshots_dir: Path,
) -> None:
    out = twoway_cli(
        "createadmin", "--email", EMAIL, "--password", PASSWORD, "--organization", "Mend Released"
    )
    number = re.search(r"Its texting number is (\(\d{3}\) \d{3}-\d{4})", out)
    assert number, out
    page.set_viewport_size({"width": 1280, "height": 800})
    pages.log_in(page, twoway_server, EMAIL, PASSWORD)
    page.goto(f"{twoway_server.url}/inbox/new/")
    page.get_by_label("To (phone number)").fill("202-555-0132")
    page.get_by_label("Message", exact=True).fill("Your glasses are ready for pick-up.")
    page.get_by_role("button", name="Send").click()
    expect(page).to_have_url(re.compile(r"/inbox/c/\d+/"))
    conversation_url = page.url

    released = twoway_cli("manage", "shell", "-c", _RELEASE.format(email=EMAIL))
    assert released.strip().splitlines()[-1] == "1", released

    page.goto(conversation_url)
    expect(page.locator("ol.messages")).to_contain_text("Your glasses are ready")
    expect(page.locator("[data-read-only]")).to_contain_text(f"{number.group(1)} was released on")
    expect(page.locator("[data-read-only]")).to_contain_text("cannot be answered")
    expect(page.get_by_role("button", name="Send")).to_have_count(0)
    page.screenshot(path=str(screenshots_dir / "released-number-history.png"))

    page.goto(f"{twoway_server.url}/search/?q=glasses")
    expect(
        page.locator(f'a[href^="{conversation_url.split(twoway_server.url)[1]}"]')
    ).not_to_have_count(0)

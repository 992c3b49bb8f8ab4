"""Export to CSV from the contacts table, with a filter on: the file is written in the
background, its page shows the progress and then the download, which holds what the table
showed.

In an organization of its own ("Quebec Dental"), created on the running server with the
`twoway` command, so the other browser tests' organizations are left alone.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from tests.browser import pages

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

PASSWORD = "quebec-correct-horse-battery"
BOSS = "boss@quebec.test"

_CONTACTS = """
from twoway.accounts.models import Membership
from twoway.contacts.models import Contact, ContactPhone
org = Membership.objects.get(user__email={boss!r}).organization
for n, kind in enumerate(["Patient", "Patient", "Supplier"]):
    c = Contact.objects.create(organization=org, name=f"Client {{n}}", client_type=kind)
    ContactPhone.objects.create(organization=org, contact=c, number=f"+120255501{{65 + n}}")
"""


@pytest.fixture(scope="module")
def quebec(twoway_cli: Callable[..., str]) -> None:
    out = twoway_cli(
        "createadmin", "--email", BOSS, "--password", PASSWORD, "--organization", "Quebec Dental"
    )
    assert "Its texting number is" in out, out
    twoway_cli("manage", "shell", "-c", _CONTACTS.format(boss=BOSS))


def test_export_the_filtered_table_and_download_it(
    page: Page, twoway_server: TwowayServer, quebec: None
) -> None:
    pages.log_in(page, twoway_server, BOSS, PASSWORD)
    page.goto(f"{twoway_server.url}/contacts/")
    page.get_by_label("Client type").select_option(label="Patient")
    expect(page.locator("#contact-rows tr[data-contact]")).to_have_count(2)
    page.get_by_role("button", name="Export to CSV").click()
    expect(page.get_by_role("heading", name="Contacts export")).to_be_visible()
    link = page.get_by_role("link", name="Download the CSV file")
    expect(link).to_be_visible(timeout=20_000)
    with page.expect_download() as download_info:
        link.click()
    path = download_info.value.path()
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    names = sorted(row[2] for row in rows[1:])
    assert names == ["Client 0", "Client 1"], rows

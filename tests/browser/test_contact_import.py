"""Importing contacts from a CSV file with bad rows in the browser: the columns matched over a
preview, the progress bar through a reload until it is full, the error report downloaded."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from tests.browser import pages
from tests.browser.test_two_way_loop import TIMEOUT

if TYPE_CHECKING:
    from conftest import TwowayServer  # tests/browser/conftest.py

pytestmark = pytest.mark.browser

expect.set_options(timeout=TIMEOUT)

EMAIL, PASSWORD = "owner@heron.test", "heron-correct-horse-battery"
ROWS = 3000


def clients_csv(path: Path) -> Path:
    lines = ["First Name;Last Name;Cell;E-mail;Unsubscribed"]
    lines.append("<b>Dana</b>;Whitfield;415-555-0101;dana@example.com;no")
    for n in range(2, ROWS):
        lines.append(f"Client;Number {n};(415) 6{n // 1000:02d}-{n % 1000:04d};;{n % 100 == 0}")
    lines.append("Lee;Park;call me maybe;lee@example.com;no")
    lines.append("Ann;Lee;415-555-0102;not-an-address;no")
    path.write_bytes(("\n".join(lines) + "\n").encode("cp1252"))
    return path


def test_import_a_csv_with_bad_rows_and_download_the_error_report(
    page: Page,
    twoway_server: TwowayServer,
    twoway_cli: Callable[..., str],
    screenshots_dir: Path,
    tmp_path: Path,
) -> None:
    twoway_cli("createadmin", "--email", EMAIL, "--password", PASSWORD, "--organization", "Heron")
    page.set_viewport_size({"width": 1280, "height": 900})
    pages.log_in(page, twoway_server, EMAIL, PASSWORD)

    page.goto(f"{twoway_server.url}/contacts/")
    page.get_by_role("link", name="Import from CSV").click()
    page.get_by_label("CSV file").set_input_files(str(clients_csv(tmp_path / "clients.csv")))
    page.get_by_role("button", name="Upload").click()

    expect(page).to_have_url(re.compile(r"/contacts/import/\d+/$"))
    preview = page.locator("table.import-preview")
    expect(preview).to_contain_text("<b>Dana</b>")  # shown as text
    expect(page.get_by_label("Field for column Cell")).to_have_value("phone:mobile")
    expect(page.get_by_label("Field for column Unsubscribed")).to_have_value("opted_out")
    page.get_by_label("Field for column E-mail").select_option("email")
    page.get_by_role("button", name="Import", exact=True).click()

    bar = page.locator("progress#import-bar")
    expect(bar).to_be_visible()
    # The import goes on in the background: a reload finds it where it is.
    page.reload()
    expect(bar).to_be_visible()
    expect(page.locator("#import-progress")).to_contain_text(f"Done: {ROWS + 1:,} rows read")
    expect(bar).to_have_attribute("value", "100")
    summary = page.locator(".import-summary")
    expect(summary).to_contain_text(f"{ROWS - 1:,} new contacts")
    expect(summary).to_contain_text("2 rows skipped")
    expect(summary).to_contain_text("29 contacts opted out")
    page.screenshot(path=str(screenshots_dir / "contacts-import.png"), full_page=True)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the error report").click()
    report = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(report)))
    assert rows[0] == ["row", "column", "reason"]
    assert [(r[0], r[1]) for r in rows[1:]] == [(str(ROWS + 1), "Cell"), (str(ROWS + 2), "E-mail")]
    assert "'call me maybe' is not a phone number" in rows[1][2]

    page.get_by_role("link", name="See the contacts").click()
    page.get_by_label("Search by name, e-mail or phone").fill("dana@example.com")
    expect(page.locator("#contact-rows")).to_contain_text("<b>Dana</b> Whitfield")

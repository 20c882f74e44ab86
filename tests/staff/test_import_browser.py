"""The CSV import pages in Chromium, phone-sized: a member of staff uploads a residents file
with a bad row, reads the check's report, imports the good rows; axe-core finds no
accessibility violation on any page on the way."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from staff.test_staff_browser import assert_accessible, browser, page, server, sign_in  # noqa: F401

pytestmark = pytest.mark.browser

FILE = (
    "reference,name,mobile,property\n"
    "WEB-1,Wyn Evans,07400 900301,PR-1001\n"
    "WEB-2,Bad Number,01632 960002,PR-1002\n"
)


def test_check_a_file_then_import_its_good_rows(page: Page) -> None:  # noqa: F811
    sign_in(page)
    page.get_by_role("link", name="Import").click()
    expect(page.get_by_role("heading", name="Import from CSV")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("What the file holds").select_option("residents")
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "residents.csv", "mimeType": "text/csv", "buffer": FILE.encode()}]
    )
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", name="Residents: check of residents.csv")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("1 bad row")
    problems = page.get_by_role("table", name="Problems found, by row and column")
    expect(problems.get_by_role("row")).to_have_count(2)
    expect(problems).to_contain_text("not a UK mobile number")
    expect(problems).not_to_contain_text("01632")
    assert_accessible(page)

    page.get_by_role("button", name="Import the good rows, skipping 1 bad row").click()
    expect(page.get_by_role("heading", name="Residents: imported residents.csv")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("1 created")
    expect(page.get_by_role("status")).to_contain_text("1 bad row skipped")
    assert_accessible(page)

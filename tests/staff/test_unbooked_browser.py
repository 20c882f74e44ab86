"""The unbooked list in a real browser (Chromium, phone-sized): reached from the navigation,
readable by a viewer, paged, and free of axe-core violations."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select
from staff.test_staff_browser import (
    START,
    assert_accessible,
    browser,
    page,
    serve_staff_app,
    sign_in,
)

from storage.db import Database
from storage.enums import JobPriority, JobStatus, StaffRole
from storage.models import RepairJob, Resident

pytestmark = pytest.mark.browser
__all__ = ["browser", "page"]  # the browser test's fixtures, used here by name

LISTED = 52  # one more page than the 50 a page shows, and an emergency among them


def _listed_jobs(db: Database) -> None:
    """The landlord's jobs as the planner leaves them on the list: invited, followed up."""
    invited = START - timedelta(days=5)
    with db.session() as session:
        resident = session.exec(select(Resident).order_by(Resident.id)).first()  # type: ignore[arg-type]
        assert resident is not None and resident.property_id is not None
        for n in range(1, LISTED + 1):
            session.add(
                RepairJob(
                    landlord_id=resident.landlord_id,
                    reference=f"HMS-{n:05d}",
                    property_id=resident.property_id,
                    resident_id=resident.id,
                    description="Bathroom extractor fan not working",
                    priority=JobPriority.EMERGENCY if n == 2 else JobPriority.ROUTINE,
                    status=JobStatus.OPEN,
                    source_hash="c" * 64,
                    invited_at=invited,
                    invite_followed_up_at=None if n == 2 else invited + timedelta(days=2),
                    unbooked_listed_at=invited if n == 2 else invited + timedelta(days=4),
                    created_at=invited,
                )
            )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve_staff_app(tmp_path_factory, "unbooked", _listed_jobs)


def test_a_viewer_pages_through_the_unbooked_list_and_it_passes_axe(page: Page) -> None:
    sign_in(page, StaffRole.VIEWER)
    page.get_by_role("navigation", name="Staff pages").get_by_role("link", name="Unbooked").click()
    expect(page.get_by_role("heading", name="Unbooked repairs")).to_be_visible()
    rows = page.locator("#unbooked-table tbody tr")
    expect(rows).to_have_count(50)
    expect(rows.nth(0)).to_contain_text("HMS-00001")
    expect(rows.nth(1)).to_contain_text("emergency")
    expect(rows.nth(0)).to_contain_text("Margaret Okafor")
    assert_accessible(page)
    page.get_by_role("link", name="Next page").click()
    expect(rows).to_have_count(LISTED - 50)
    expect(rows.nth(0)).to_contain_text("HMS-00051")
    expect(page.get_by_role("link", name="Next page")).to_have_count(0)
    assert_accessible(page)

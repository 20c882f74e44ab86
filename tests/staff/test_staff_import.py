"""The staff app's CSV import page (issue 14, item 5): upload, read the check's report, then
import; viewers may not; uploads are bounded; the report never shows a phone number or a
door password. Runs on SQLite and PostgreSQL (the `client` fixture's database)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlmodel import col, select
from staff.helpers import SignedIn

from bot.common.clock import FixedClock
from bot.web.staff.routes_import import MAX_UPLOAD
from storage.db import Database
from storage.enums import StaffRole
from storage.models import AuditEvent, Resident

ROOT = Path(__file__).resolve().parents[2]
HEADER = "reference,name,mobile,property,door_password\n"
GOOD = (
    HEADER
    + "CSV-1,Ann Able,07400 900101,PR-1001,bluebird\n"
    + "CSV-2,Bob Baker,07400 900102,PR-1002,\n"
)
#: Row 3's mobile is not a mobile; row 4 names a home the landlord does not have.
BAD = GOOD + "CSV-3,Cat Cole,01632 960001,PR-1001,\n" + "CSV-4,Dan Dale,07400 900104,NOPE-1,\n"
_UPLOAD = re.compile(r'name="upload" value="([^"]+)"')


def upload(
    who: SignedIn, text: str | bytes, kind: str = "residents", name: str = "residents.csv"
) -> httpx.Response:
    body = text.encode("utf-8") if isinstance(text, str) else text
    response: httpx.Response = who.client.post(
        "/staff/import/check",
        data={"csrf_token": who.csrf, "kind": kind},
        files={"file": (name, body, "text/csv")},
        follow_redirects=False,
    )
    return response


def upload_token(page: httpx.Response) -> str:
    found = _UPLOAD.search(page.text)
    assert found, "the report offers no import"
    return found.group(1)


def imported(db: Database) -> dict[str, str | None]:
    with db.session() as session:
        rows = session.exec(select(Resident).where(col(Resident.reference).like("CSV-%"))).all()
        return {r.reference or "": r.mobile for r in rows}


def problems(page: httpx.Response) -> list[tuple[str, str, str]]:
    table = page.text.split('id="import-problems"')[1].split("</table>")[0]
    cells = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", table)
    return [(a, b, c) for a, b, c in cells]


def test_viewers_may_not_import_and_see_no_link(
    client: TestClient, staff_users: Database, signed_in: Callable[[StaffRole], SignedIn]
) -> None:
    viewer = signed_in(StaffRole.VIEWER)
    assert 'href="/staff/import"' not in client.get("/staff").text
    assert client.get("/staff/import").status_code == 403
    refused = upload(viewer, GOOD)
    assert refused.status_code == 403
    assert "view pages but not change" in refused.text
    assert imported(staff_users) == {}


def test_the_page_documents_every_column_and_offers_the_templates(
    client: TestClient, staff_users: Database, signed_in: Callable[[StaffRole], SignedIn]
) -> None:
    signed_in(StaffRole.STAFF)
    assert 'href="/staff/import"' in client.get("/staff").text
    page = client.get("/staff/import")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text
    for column in (
        "contact_hours_weekday",
        "nominee_phone",
        "badge_number",
        "sor_code",
        "capacity",
    ):
        assert f"<code>{column}</code>" in page.text
    for kind in ("residents", "properties", "operatives", "jobs", "windows"):
        template = client.get(f"/staff/import/templates/{kind}.csv")
        assert template.status_code == 200
        assert template.headers["content-type"].startswith("text/csv")
        assert template.text == (ROOT / "docs" / "import" / f"{kind}.csv").read_text()
    assert client.get("/staff/import/templates/secrets.csv").status_code == 404


def test_check_then_import_then_the_same_file_again_changes_nothing(
    client: TestClient, staff_users: Database, signed_in: Callable[[StaffRole], SignedIn]
) -> None:
    staff = signed_in(StaffRole.STAFF)
    check = upload(staff, GOOD)
    assert check.status_code == 200
    assert "2 would be created" in check.text
    assert "Dry run: nothing was written." in check.text
    assert imported(staff_users) == {}, "the check wrote nothing"
    assert "Import 2 records" in check.text

    done = staff.post("/staff/import/run", {"upload": upload_token(check)})
    assert done.status_code == 200
    assert "2 created" in done.text
    assert imported(staff_users) == {"CSV-1": "+447400900101", "CSV-2": "+447400900102"}
    with staff_users.session() as session:
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "staff.import.csv")
        ).one()
    assert event.actor == staff.email
    assert event.detail["created"] == 2 and event.detail["kind"] == "residents"
    # The stored upload was used up: pressing Import again does nothing more.
    again = staff.post("/staff/import/run", {"upload": upload_token(check)})
    assert again.status_code == 404

    second = upload(staff, GOOD)
    assert "0 would be created, 0 would be updated, 2 unchanged" in second.text
    assert 'name="upload"' not in second.text, "nothing to import, so no Import button"
    assert "Nothing to import: every record is already as this file has it." in second.text


def test_bad_rows_are_listed_and_only_skipping_them_imports_the_rest(
    client: TestClient, staff_users: Database, signed_in: Callable[[StaffRole], SignedIn]
) -> None:
    staff = signed_in(StaffRole.STAFF)
    check = upload(staff, BAD)
    assert check.status_code == 200
    found = problems(check)
    assert [(row, column) for row, column, _ in found] == [("4", "mobile"), ("5", "property")]
    assert "mobile" in found[0][2]
    for secret in ("01632", "960001", "bluebird", "07400"):
        assert secret not in check.text
    assert "Import the good rows, skipping 2 bad rows" in check.text
    assert imported(staff_users) == {}

    # Without asking to skip, nothing is written.
    refused = staff.post("/staff/import/run", {"upload": upload_token(check)})
    assert "Nothing was written" in refused.text
    assert imported(staff_users) == {}

    done = staff.post("/staff/import/run", {"upload": upload_token(check), "skip_bad_rows": "yes"})
    assert done.status_code == 200
    assert "2 bad rows skipped" in done.text
    assert set(imported(staff_users)) == {"CSV-1", "CSV-2"}


def test_a_broken_header_is_reported_before_any_row_and_offers_no_import(
    client: TestClient, staff_users: Database, signed_in: Callable[[StaffRole], SignedIn]
) -> None:
    staff = signed_in(StaffRole.ADMIN)
    check = upload(staff, "reference,nmae,mobile\nCSV-1,Ann,07400900101\n")
    assert check.status_code == 200
    found = problems(check)
    assert [(row, column) for row, column, _ in found] == [
        ("1", "nmae"),
        ("1", "name"),
        ("1", "property"),
    ]
    assert found[0][2].startswith("unknown column; residents has: reference, name, mobile")
    assert found[1][2] == "required column missing"
    assert 'name="upload"' not in check.text
    not_utf8 = upload(
        staff, b"reference,name,mobile,property\nCSV-1,Ren\xe9e,07400900101,PR-1001\n"
    )
    assert "not UTF-8" in not_utf8.text


def test_uploads_over_the_limit_are_refused_politely_unread(
    client: TestClient, staff_users: Database, signed_in: Callable[[StaffRole], SignedIn]
) -> None:
    staff = signed_in(StaffRole.STAFF)
    declared = client.post(
        "/staff/import/check",
        content=b"x",
        headers={"content-length": str(MAX_UPLOAD + 1), "content-type": "multipart/form-data"},
    )
    assert declared.status_code == 413
    assert "larger than 20 MB" in declared.text

    def streamed() -> Iterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
        chunk = b"x" * (1024 * 1024)
        for _ in range(MAX_UPLOAD // len(chunk) + 1):
            yield chunk

    chunked = client.post(
        "/staff/import/check",
        content=streamed(),
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert chunked.status_code == 413
    assert "larger than 20 MB" in chunked.text
    assert staff.client.get("/staff").status_code == 200


def test_another_persons_upload_cannot_be_imported(
    client: TestClient, staff_users: Database, signed_in: Callable[[StaffRole], SignedIn]
) -> None:
    staff = signed_in(StaffRole.STAFF)
    token = upload_token(upload(staff, GOOD))
    admin = signed_in(StaffRole.ADMIN)
    taken = admin.post("/staff/import/run", {"upload": token})
    assert taken.status_code == 404
    assert admin.post("/staff/import/run", {"upload": "../../etc/passwd"}).status_code == 404
    assert imported(staff_users) == {}


def test_a_checked_upload_waits_an_hour_at_most(
    client: TestClient,
    staff_users: Database,
    signed_in: Callable[[StaffRole], SignedIn],
    clock: FixedClock,
) -> None:
    staff = signed_in(StaffRole.STAFF)
    token = upload_token(upload(staff, GOOD))
    clock.advance(timedelta(hours=1, minutes=1))
    late = staff.post("/staff/import/run", {"upload": token})
    assert late.status_code == 404
    assert "expired" in late.text
    assert imported(staff_users) == {}

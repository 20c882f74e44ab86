"""Bulk import from CSV (issue 14, item 5): reading the file (encodings, header, row numbers
as a spreadsheet shows them, duplicates), the documented templates, and `doorstep import`
against both databases: nothing written when a row is bad unless bad rows are skipped, a dry
run writes nothing, a second import of the same file changes nothing, and the report never
shows a phone number or a door password."""

from __future__ import annotations

import codecs
import io
from datetime import datetime
from pathlib import Path

import pytest
from api.world import landlord_id
from click.testing import Result
from sqlmodel import col, select
from typer.testing import CliRunner

from bot.cli.main import app as cli_app
from bot.common.clock import FixedClock
from bot.integration.csv_import import (
    KINDS,
    REFUSED,
    SPECS,
    FileRefused,
    Row,
    duplicates,
    read_rows,
    run_import,
    scrub,
    template_csv,
)
from storage.db import Database
from storage.models import AuditEvent, Availability, Operative, Property, RepairJob, Resident

ROOT = Path(__file__).resolve().parents[2]
RESIDENTS_HEADER = "reference,name,mobile,property"


def rows_of(kind: str, text: str | bytes) -> list[Row]:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return list(read_rows(SPECS[kind], io.BytesIO(data)))


def refusal(kind: str, data: str | bytes) -> FileRefused:
    with pytest.raises(FileRefused) as caught:
        rows_of(kind, data)
    return caught.value


# ---------------------------------------------------------------------------- reading


def test_rows_are_numbered_as_a_spreadsheet_shows_them() -> None:
    text = (
        f"{RESIDENTS_HEADER}\n"
        "R1,Ann,07700900001,P1\n"
        "\n"  # a blank row is row 3 in the spreadsheet, and is skipped
        'R2,"Bob\nSmith",07700900002,P1\n'  # one row, two lines
        "R3,Cat,07700900003,P1\n"
    )
    rows = rows_of("residents", text)
    assert [r.number for r in rows] == [2, 4, 5]
    assert rows[1].record == {
        "reference": "R2",
        "name": "Bob\nSmith",
        "mobile": "07700900002",
        "property": "P1",
    }


def test_a_byte_order_mark_and_windows_line_ends_are_fine() -> None:
    data = codecs.BOM_UTF8 + b"reference,name,mobile,property\r\nR1,Si\xc3\xa2n,07700900001,P1\r\n"
    [row] = rows_of("residents", data)
    assert row.record == {
        "reference": "R1",
        "name": "Siân",
        "mobile": "07700900001",
        "property": "P1",
    }


def test_empty_cells_mean_not_given_and_nested_columns_are_gathered() -> None:
    text = (
        "reference,name,mobile,property,language,contact_hours_weekday,contact_hours_sunday,"
        "nominee_name,nominee_phone,nominee_relationship,door_password\n"
        "R1, Ann ,07700900001,P1,,09:00 - 18:00,never,Sian,07700900456,daughter,bluebird\n"
    )
    [row] = rows_of("residents", text)
    assert row.record == {
        "reference": "R1",
        "name": "Ann",
        "mobile": "07700900001",
        "property": "P1",
        "contact_hours": {"weekday": ["09:00", "18:00"], "sunday": None},
        "nominee": {"name": "Sian", "phone": "07700900456", "relationship": "daughter"},
        "door_password": "bluebird",
    }
    assert set(row.secrets) == {"07700900001", "07700900456", "bluebird"}


def test_lists_booleans_and_numbers_become_what_the_api_takes() -> None:
    [operative] = rows_of(
        "operatives",
        "reference,name,employer,badge_number,trades,active\nO1,Dev,RR Ltd,B1,plumbing; gas;,No\n",
    )
    assert operative.record is not None
    assert operative.record["trades"] == ["plumbing", "gas"]
    assert operative.record["active"] is False
    [window] = rows_of("windows", "operative,date,window,capacity\nO1,2026-12-01,morning,3\n")
    assert window.record == {
        "operative": "O1",
        "date": "2026-12-01",
        "window": "morning",
        "capacity": 3,
    }


def test_a_row_missing_a_required_cell_or_with_a_stray_cell_is_refused() -> None:
    rows = rows_of("residents", f"{RESIDENTS_HEADER}\nR1,,07700900001,P1\nR2,Bo,07700900002,P1,x\n")
    assert [(r.number, r.record, [(p.column, p.reason) for p in r.problems]) for r in rows] == [
        (2, None, [("name", "required, but empty")]),
        (3, None, [("column 5", "a value in a column with no heading")]),
    ]


def test_the_header_is_checked_before_any_row() -> None:
    refused = refusal("residents", "reference,nmae,Mobile,mobile,colour\nR1,Ann,1,2,3\n")
    assert [(p.row, p.column, p.reason.split(";")[0]) for p in refused.problems] == [
        (1, "nmae", "unknown column"),
        (1, "mobile", "this column appears twice"),
        (1, "colour", "unknown column"),
        (1, "name", "required column missing"),
        (1, "property", "required column missing"),
    ]
    assert "row 1" in refused.reason


def test_columns_may_come_in_any_order_and_trailing_empty_columns_are_ignored() -> None:
    [row] = rows_of("windows", "capacity,window,date,operative,,\n2,afternoon,2026-12-02,O1,,\n")
    assert row.record == {
        "operative": "O1",
        "date": "2026-12-02",
        "window": "afternoon",
        "capacity": 2,
    }


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "the file is empty"),
        ("reference,name\n".encode("utf-16"), "UTF-16"),
        (b"reference,name,mobile,property\nR1,Ren\xe9e,07700900001,P1\n", "not UTF-8"),
        (b"reference;name;mobile;property\nR1;Ann;07700900001;P1\n", "separated by commas"),
        (b'reference,name,mobile,property\nR1,"Ann,07700900001,P1\n', "not valid CSV"),
    ],
)
def test_files_that_cannot_be_read_are_refused_clearly(data: bytes, says: str) -> None:
    assert says in refusal("residents", data).reason


def test_a_later_row_with_a_reference_already_used_names_the_first_row() -> None:
    check = duplicates(SPECS["residents"])
    rows = rows_of(
        "residents",
        f"{RESIDENTS_HEADER}\nR1,Ann,07700900001,P1\nR2,Bob,07700900002,P1\nR1,Ann,07700900001,P1\n",
    )
    found = [check(row) for row in rows]
    assert found[:2] == [None, None]
    assert found[2] is not None
    assert (found[2].row, found[2].column, found[2].reason) == (
        4,
        "reference",
        "the same reference as row 2",
    )
    windows = duplicates(SPECS["windows"])
    rows = rows_of(
        "windows", "operative,date,window,capacity\nO1,2026-12-01,am,1\nO1,2026-12-01,am,2\n"
    )
    second = [windows(row) for row in rows][1]
    assert second is not None
    assert second.reason == "the same operative, date and window as row 2"


def test_reasons_never_quote_a_phone_number_or_password() -> None:
    assert scrub("'bluebird' is too common", ["bluebird"]) == "'[withheld]' is too common"
    assert scrub("+447700900123 is taken", []) == "[withheld] is taken"
    assert scrub("at most 100 characters", []) == "at most 100 characters"


# ---------------------------------------------------------------------------- templates


@pytest.mark.parametrize("kind", KINDS)
def test_each_documented_template_is_the_header_and_an_example_row(kind: str) -> None:
    on_disk = (ROOT / "docs" / "import" / f"{kind}.csv").read_text(encoding="utf-8")
    assert on_disk == template_csv(kind)
    rows = rows_of(kind, on_disk)
    assert len(rows) == 1
    assert rows[0].problems == ()


def test_the_guide_names_every_column_of_every_kind() -> None:
    guide = (ROOT / "docs" / "import.md").read_text(encoding="utf-8")
    for spec in SPECS.values():
        for column in spec.columns:
            assert f"`{column.name}`" in guide, (spec.kind, column.name)


# ---------------------------------------------------------------------------- doorstep import

runner = CliRunner()
RESIDENTS = (
    "reference,name,mobile,property,door_password,nominee_name,nominee_phone,nominee_relationship\n"
    "CSV-1,Ann Able,07400 900101,PR-1001,bluebird,Sian Able,07400 900201,daughter\n"
    "CSV-2,Bob Baker,07400 900102,PR-1002,,,,\n"
)
#: Row 4: not a mobile; row 5: no such home; row 6: a nominee without a phone; row 7: CSV-1
#: again.
BAD_RESIDENTS = RESIDENTS + (
    "CSV-3,Cat Cole,01632 960001,PR-1001,,,,\n"
    "CSV-4,Dan Dale,07400 900104,NOPE-1,,,,\n"
    "CSV-5,Eve East,07400 900105,PR-1001,,Sam East,,son\n"
    "CSV-1,Ann Able,07400 900106,PR-1001,,,,\n"
)


@pytest.fixture
def cli_db(demo_db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    """`doorstep` run against the demo database (either engine)."""
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", demo_db.url)
    monkeypatch.setenv("DOORSTEP_NLU", "keyword")
    return demo_db


def doorstep_import(tmp_path: Path, kind: str, text: str, *flags: str) -> Result:
    path = tmp_path / f"{kind}.csv"
    path.write_text(text, encoding="utf-8")
    return runner.invoke(cli_app, ["import", kind, str(path), "--landlord", "demo", *flags])


def residents(db: Database) -> dict[str, tuple[str | None, datetime | None]]:
    with db.session() as session:
        rows = session.exec(select(Resident).where(col(Resident.reference).like("CSV-%"))).all()
        return {r.reference or "": (r.mobile, r.updated_at) for r in rows}


def test_a_dry_run_checks_everything_and_writes_nothing(cli_db: Database, tmp_path: Path) -> None:
    result = doorstep_import(tmp_path, "residents", RESIDENTS, "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "residents: 2 rows: 2 would be created, 0 would be updated, 0 unchanged. "
        "Dry run: nothing was written."
    ]
    assert residents(cli_db) == {}


def test_one_bad_row_means_nothing_is_written_and_every_bad_row_is_listed(
    cli_db: Database, tmp_path: Path
) -> None:
    result = doorstep_import(tmp_path, "residents", BAD_RESIDENTS)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("residents: 6 rows: 2 would be created")
    assert "4 bad rows. Nothing was written" in lines[0]
    assert lines[1:] == [
        "  row 4, mobile: not a UK mobile number",
        "  row 5, property: no property has this reference",
        "  row 6, nominee_phone: required",
        "  row 7, reference: the same reference as row 2",
    ]
    for secret in ("01632", "960001", "07400", "+4474", "bluebird"):
        assert secret not in result.output
    assert residents(cli_db) == {}


def test_skipping_bad_rows_writes_the_good_ones_and_says_how_many_were_skipped(
    cli_db: Database, tmp_path: Path
) -> None:
    result = doorstep_import(tmp_path, "residents", BAD_RESIDENTS, "--skip-bad-rows")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        "residents: 6 rows: 2 created, 0 updated, 0 unchanged; 4 bad rows skipped."
    )
    assert {ref: mobile for ref, (mobile, _) in residents(cli_db).items()} == {
        "CSV-1": "+447400900101",
        "CSV-2": "+447400900102",
    }
    with cli_db.session() as session:
        ann = session.exec(select(Resident).where(Resident.reference == "CSV-1")).one()
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "import.csv")).one()
    assert ann.nominee_phone == "+447400900201"
    assert ann.door_password_hash and "bluebird" not in ann.door_password_hash
    assert audit.actor == "cli"
    assert audit.detail["created"] == 2 and audit.detail["skipped"] == 4


def test_importing_the_same_file_again_changes_nothing(cli_db: Database, tmp_path: Path) -> None:
    assert doorstep_import(tmp_path, "residents", RESIDENTS).exit_code == 0
    first = residents(cli_db)
    again = doorstep_import(tmp_path, "residents", RESIDENTS)
    assert again.exit_code == 0
    assert again.stdout.splitlines() == ["residents: 2 rows: 0 created, 0 updated, 2 unchanged."]
    assert residents(cli_db) == first
    changed = doorstep_import(tmp_path, "residents", RESIDENTS.replace("Bob Baker", "Robert Baker"))
    assert "1 updated, 1 unchanged" in changed.stdout


def test_every_kind_imports_from_its_template_in_order(cli_db: Database, tmp_path: Path) -> None:
    for kind in ("properties", "residents", "operatives", "windows", "jobs"):
        template = (ROOT / "docs" / "import" / f"{kind}.csv").read_text(encoding="utf-8")
        result = doorstep_import(tmp_path, kind, template)
        assert result.exit_code == 0, (kind, result.output)
        assert "1 created" in result.stdout, (kind, result.output)
        again = doorstep_import(tmp_path, kind, template)
        assert "1 unchanged" in again.stdout, (kind, again.output)
    with cli_db.session() as session:
        job = session.exec(select(RepairJob).where(RepairJob.reference == "JOB-50001")).one()
        operative = session.exec(select(Operative).where(Operative.reference == "OP-301")).one()
        slot = session.exec(
            select(Availability).where(Availability.operative_id == operative.id)
        ).one()
    assert job.sor_code == "PL0101" and job.hazard_category == "leak"
    assert sorted(operative.trades) == ["gas", "plumbing"]
    assert (slot.day.isoformat(), slot.window, slot.capacity) == ("2026-12-01", "morning", 3)


def test_large_files_go_in_chunks_and_a_bad_row_in_the_last_chunk_stops_them_all(
    cli_db: Database, tmp_path: Path
) -> None:
    header = "reference,address_line_1,town_or_city,postcode\n"
    rows = [f"BULK-{n},{n} Long Road,Leeds,LS1 4AB\n" for n in range(2500)]
    broken = header + "".join(rows) + "BULK-X,1 Short Road,Leeds,NOT A POSTCODE\n"
    refused = doorstep_import(tmp_path, "properties", broken)
    assert refused.exit_code == 1
    assert refused.stdout.splitlines()[1:] == ["  row 2502, postcode: not a UK postcode"]
    with cli_db.session() as session:
        assert session.exec(select(Property).where(Property.reference == "BULK-0")).first() is None
    done = doorstep_import(tmp_path, "properties", header + "".join(rows))
    assert done.exit_code == 0
    assert done.stdout.startswith("properties: 2500 rows: 2500 created")


def test_a_wrong_landlord_file_or_header_is_a_clear_refusal(
    cli_db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "x.csv"
    path.write_text(RESIDENTS)
    nobody = runner.invoke(cli_app, ["import", "residents", str(path), "--landlord", "nobody"])
    assert nobody.exit_code == 2
    assert "no landlord 'nobody'" in nobody.output
    missing = runner.invoke(cli_app, ["import", "residents", "nope.csv", "--landlord", "demo"])
    assert missing.exit_code == 2
    header = doorstep_import(tmp_path, "jobs", RESIDENTS)
    assert header.exit_code == 1
    assert header.stdout.splitlines()[0] == (
        "jobs: nothing imported: the header row has problems (row 1)"
    )
    assert "  row 1, description: required column missing" in header.stdout.splitlines()


def test_the_progress_bar_follows_the_bytes_read(demo_db: Database, clock: FixedClock) -> None:
    header = "reference,address_line_1,town_or_city,postcode\n"
    data = (header + "".join(f"PB-{n},{n} Bar Lane,Leeds,LS1 4AB\n" for n in range(2500))).encode()
    seen: list[int] = []
    report = run_import(
        demo_db,
        landlord_id=landlord_id(demo_db, "demo"),
        kind="properties",
        source=io.BytesIO(data),
        now=clock.now(),
        progress=seen.append,
    )
    assert report.created == 2500
    assert len(seen) >= 3, "once per chunk of 1,000 rows and once at the end"
    assert seen == sorted(seen)
    assert seen[-1] == len(data)


def test_a_refusal_by_the_database_writes_nothing_and_says_so(
    demo_db: Database, clock: FixedClock
) -> None:
    """A landlord removed mid-import (here: one that never existed) makes the database
    refuse the rows; the import is rolled back and reported, not a traceback."""
    template = (ROOT / "docs" / "import" / "properties.csv").read_bytes()
    report = run_import(
        demo_db,
        landlord_id=999_999,
        kind="properties",
        source=io.BytesIO(template),
        now=clock.now(),
    )
    assert report.file_error == REFUSED
    assert not report.written and report.exit_code == 1
    assert "nothing was written" in report.summary()
    with demo_db.session() as session:
        assert (
            session.exec(select(Property).where(Property.reference == "PROP-1001")).first() is None
        )


def test_a_character_no_database_can_store_is_a_bad_row_not_a_failed_import(
    demo_db: Database, clock: FixedClock
) -> None:
    data = (RESIDENTS + "CSV-9,Nul\x00Name,07400 900109,PR-1001,,,,\n").encode()
    report = run_import(
        demo_db,
        landlord_id=landlord_id(demo_db, "demo"),
        kind="residents",
        source=io.BytesIO(data),
        now=clock.now(),
        skip_bad_rows=True,
    )
    assert report.file_error is None
    assert (report.created, report.bad_rows) == (2, 1)
    assert [(p.row, p.column) for p in report.problems] == [(4, "name")]

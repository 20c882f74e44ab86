"""Bulk import from CSV (issue 14, item 5): reading the file (encodings, header, row numbers
as a spreadsheet shows them, duplicates), the documented templates, and `doorstep import`
against both databases: nothing written when a row is bad unless bad rows are skipped, a dry
run writes nothing, a second import of the same file changes nothing, and the report never
shows a phone number or a door password."""

from __future__ import annotations

import codecs
import io
from pathlib import Path

import pytest

from bot.integration.csv_import import (
    KINDS,
    SPECS,
    FileRefused,
    Row,
    duplicates,
    read_rows,
    scrub,
    template_csv,
)

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

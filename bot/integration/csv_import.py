"""Bulk import from CSV for landlords without an API (issue 14, item 5).

A CSV file of one kind of record (properties, residents, operatives, jobs or visit windows)
is read as a stream, each row mapped to the same record the API takes (the columns are the
API's field names, nested ones flattened: `nominee_phone` for `nominee.phone`), and the
records handed to the sync (`bot.integration.sync.upsert_batch`) a chunk at a time, so a file
of any length is imported in flat memory. The whole import is one transaction: without
`skip_bad_rows` a single bad row means nothing is written; a dry run always rolls back.

Row numbers are the ones a spreadsheet shows (the header is row 1). The report names the row,
the column and what is wrong, and never the value: phone numbers and door passwords are
withheld even when the sync's reason would have quoted them.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from storage.db import Database

log = logging.getLogger(__name__)

KINDS = ("properties", "residents", "operatives", "jobs", "windows")

#: Rows handed to the sync at once (its MAX_BATCH, checked in run_import).
CHUNK = 1000

WITHHELD = "[withheld]"
REFUSED = (
    "the database refused the import (another change to the same records at the same "
    "time?); nothing was written. Try again"
)


@dataclass(frozen=True, slots=True)
class Column:
    """One column of an import file: its name (the API field, flattened), whether every row
    must have it, what it holds, and the example in the template."""

    name: str
    required: bool
    means: str
    example: str = ""
    #: Never quoted back in a report (phone numbers, door passwords).
    sensitive: bool = False


@dataclass(frozen=True, slots=True)
class KindSpec:
    kind: str
    columns: tuple[Column, ...]
    #: The columns that identify a record: two rows with the same values are one record twice.
    key: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def sensitive(self) -> frozenset[str]:
        return frozenset(c.name for c in self.columns if c.sensitive)


def _c(name: str, required: bool, means: str, example: str = "", sensitive: bool = False) -> Column:
    return Column(name, required, means, example, sensitive)


SPECS: dict[str, KindSpec] = {
    "properties": KindSpec(
        "properties",
        (
            _c("reference", True, "Your reference for the home (unique)", "PROP-1001"),
            _c("uprn", False, "Unique Property Reference Number, up to 12 digits", "100023336956"),
            _c("address_line_1", True, "First line of the address", "Flat 3, 12 Mill Lane"),
            _c("address_line_2", False, "Second line of the address", ""),
            _c("town_or_city", True, "Town or city", "Leeds"),
            _c("postcode", True, "UK postcode", "LS1 4AB"),
            _c("nation", False, "england, wales, scotland or northern_ireland", "england"),
        ),
        ("reference",),
    ),
    "residents": KindSpec(
        "residents",
        (
            _c("reference", True, "Your reference for the resident (unique)", "RES-2001"),
            _c("name", True, "Name the resident is called by", "Margaret Okafor"),
            _c("mobile", True, "UK mobile number", "07400 900123", sensitive=True),
            _c("property", True, "Reference of the home they live in", "PROP-1001"),
            _c("preferred_channel", False, "sms or telegram", "sms"),
            _c("language", False, "Language code, e.g. en or cy", "en"),
            _c(
                "contact_hours_weekday",
                False,
                "Hours on Monday to Saturday, HH:MM-HH:MM, or never",
                "09:00-18:00",
            ),
            _c("contact_hours_sunday", False, "Hours on Sundays, HH:MM-HH:MM, or never", "never"),
            _c("nominee_name", False, "Someone to involve (advocate, carer)", "Sian Hughes"),
            _c("nominee_phone", False, "The nominee's UK phone", "07400 900456", sensitive=True),
            _c("nominee_relationship", False, "Who the nominee is to them", "daughter"),
            _c("door_password", False, "Password operatives say at the door", "", sensitive=True),
            _c("tenancy_end", False, "The day the tenancy ended, YYYY-MM-DD, once it has", ""),
        ),
        ("reference",),
    ),
    "operatives": KindSpec(
        "operatives",
        (
            _c("reference", True, "Your reference for the operative (unique)", "OP-301"),
            _c("name", True, "Name residents see", "Dev Patel"),
            _c("employer", True, "Employer or contractor", "Riverside Repairs Ltd"),
            _c("badge_number", True, "Number on their ID badge (unique)", "RR-4471"),
            _c(
                "trades",
                True,
                "Trades separated by ; (plumbing, electrical, carpentry, gas, general, "
                "roofing, plastering)",
                "plumbing;gas",
            ),
            _c("active", False, "yes or no (default yes)", "yes"),
        ),
        ("reference",),
    ),
    "jobs": KindSpec(
        "jobs",
        (
            _c("reference", True, "Your reference for the repair job (unique)", "JOB-50001"),
            _c("property", True, "Reference of the home", "PROP-1001"),
            _c("resident", False, "Reference of the resident who reported it", "RES-2001"),
            _c("trade", False, "Trade needed (give a trade, a sor_code or both)", "plumbing"),
            _c("sor_code", False, "Schedule of rates code", "PL0101"),
            _c(
                "description",
                True,
                "What is wrong, as the resident will read it",
                "Leak under the kitchen sink",
            ),
            _c("priority", False, "emergency, urgent or routine", "routine"),
            _c(
                "hazard_category",
                False,
                "damp_mould, leak, structural, fire, electrical, gas, excess_cold, pests, "
                "security or other",
                "leak",
            ),
            _c("raised_at", False, "When reported, with a UTC offset", "2026-11-30T09:12:00+00:00"),
            _c("target_date", False, "Target date, YYYY-MM-DD", "2026-12-21"),
        ),
        ("reference",),
    ),
    "windows": KindSpec(
        "windows",
        (
            _c("operative", True, "Reference of the operative", "OP-301"),
            _c("date", True, "Day, YYYY-MM-DD", "2026-12-01"),
            _c(
                "window",
                True,
                "A visit window of the landlord: morning or afternoon by default",
                "morning",
            ),
            _c("capacity", True, "How many visits fit in the window (0 closes it)", "3"),
        ),
        ("operative", "date", "window"),
    ),
}

#: Columns whose cells are lists (separated by ;) in the file.
_LIST_COLUMNS = frozenset({"trades"})
#: Flattened columns: prefix_part -> record[prefix][part].
_NESTED = {
    "contact_hours_weekday": ("contact_hours", "weekday"),
    "contact_hours_sunday": ("contact_hours", "sunday"),
    "nominee_name": ("nominee", "name"),
    "nominee_phone": ("nominee", "phone"),
    "nominee_relationship": ("nominee", "relationship"),
}
_HOURS = re.compile(r"^\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$")
_NEVER = frozenset({"never", "none"})
_TRUE = frozenset({"yes", "y", "true", "1"})
_FALSE = frozenset({"no", "n", "false", "0"})


def template_csv(kind: str) -> str:
    """The documented template of a kind: the header row and one example row."""
    spec = SPECS[kind]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(spec.names)
    writer.writerow(c.example for c in spec.columns)
    return out.getvalue()


# ---------------------------------------------------------------------------- the report


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong with one cell (or a whole row, or the file: row 0)."""

    row: int
    column: str
    reason: str


@dataclass(slots=True)
class ImportReport:
    kind: str
    dry_run: bool
    skip_bad_rows: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    bad_rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    #: Set when the file itself could not be read (encoding, header, broken CSV).
    file_error: str | None = None
    #: Whether anything was committed.
    written: bool = False

    @property
    def ok(self) -> bool:
        """True when nothing stands in the way: no file error and no bad row (or skipping)."""
        if self.file_error is not None:
            return False
        return self.bad_rows == 0 or self.skip_bad_rows

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def summary(self) -> str:
        """One line a person reads first."""
        if self.file_error is not None:
            return f"{self.kind}: nothing imported: {self.file_error}"
        would = self.dry_run or not self.ok
        verb = "would be " if would else ""
        counts = (
            f"{self.created} {verb}created, {self.updated} {verb}updated, "
            f"{self.unchanged} unchanged"
        )
        bad = ""
        if self.bad_rows:
            if self.skip_bad_rows:
                bad = f"; {self.bad_rows} bad {_rows(self.bad_rows)} {verb or ''}skipped"
            else:
                bad = f"; {self.bad_rows} bad {_rows(self.bad_rows)}"
        head = f"{self.kind}: {self.rows} {_rows(self.rows)}: {counts}{bad}."
        if self.dry_run:
            return f"{head} Dry run: nothing was written."
        if not self.ok:
            return f"{head} Nothing was written: fix the rows below or skip bad rows."
        return head


def _rows(n: int) -> str:
    return "row" if n == 1 else "rows"


class FileRefused(Exception):
    """The file cannot be read as an import of this kind (nothing is imported)."""

    def __init__(self, reason: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.problems = tuple(problems)


# ---------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class Row:
    """One data row, mapped: its spreadsheet row number and the record (None when the row
    itself is unusable, with the problems saying why)."""

    number: int
    record: dict[str, Any] | None
    problems: tuple[Problem, ...] = ()
    #: The row's phone numbers and passwords, to scrub from reasons (never reported).
    secrets: tuple[str, ...] = ()


def _check_encoding(source: IO[bytes]) -> None:
    head = source.read(4)
    source.seek(0)
    if not head:
        raise FileRefused("the file is empty: its first row must name the columns")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileRefused(
            "the file is UTF-16 text; save it as 'CSV UTF-8 (comma delimited)' and try again"
        )


def _header(spec: KindSpec, cells: list[str]) -> list[str | None]:
    """The column of each position (None for an unnamed column), or FileRefused naming every
    unknown, repeated and missing column before any row is read."""
    names = [c.strip().lower() for c in cells]
    if len(names) == 1 and any(sep in cells[0] for sep in (";", "\t")):
        raise FileRefused(
            "the columns must be separated by commas (this file uses ';' or tabs)",
            [Problem(1, "", "the columns must be separated by commas")],
        )
    problems: list[Problem] = []
    known = set(spec.names)
    seen: set[str] = set()
    for name in names:
        if not name:
            continue
        if name not in known:
            problems.append(
                Problem(1, name, f"unknown column; {spec.kind} has: {', '.join(spec.names)}")
            )
        elif name in seen:
            problems.append(Problem(1, name, "this column appears twice"))
        seen.add(name)
    for name in spec.required:
        if name not in seen:
            problems.append(Problem(1, name, "required column missing"))
    if problems:
        raise FileRefused("the header row has problems (row 1)", problems)
    return [name or None for name in names]


def _cell_value(column: str, value: str) -> Any:
    if column in _LIST_COLUMNS:
        return [part.strip() for part in value.split(";") if part.strip()]
    if column == "active":
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        return value
    if column == "capacity" and value.isascii() and value.lstrip("-").isdigit():
        return int(value)
    if column.startswith("contact_hours_"):
        if value.lower() in _NEVER:
            return None
        found = _HOURS.match(value)
        if found:
            return [found.group(1).zfill(5), found.group(2).zfill(5)]
    return value


def map_row(spec: KindSpec, header: Sequence[str | None], number: int, cells: list[str]) -> Row:
    """One row's cells to the record the API takes; empty cells are left out."""
    problems: list[Problem] = []
    record: dict[str, Any] = {}
    secrets: list[str] = []
    for position, raw in enumerate(cells):
        value = raw.strip()
        column = header[position] if position < len(header) else None
        if column is None:
            if value:
                where = f"column {position + 1}"
                problems.append(Problem(number, where, "a value in a column with no heading"))
            continue
        if not value:
            continue
        if column in _SENSITIVE:
            secrets.append(value)
        converted = _cell_value(column, value)
        if column in _NESTED:
            outer, inner = _NESTED[column]
            record.setdefault(outer, {})[inner] = converted
        else:
            record[column] = converted
    for name in spec.required:
        if name not in record:
            problems.append(Problem(number, name, "required, but empty"))
    if problems:
        return Row(number, None, tuple(problems), tuple(secrets))
    return Row(number, record, (), tuple(secrets))


_SENSITIVE = frozenset(name for s in SPECS.values() for name in s.sensitive)


def read_rows(spec: KindSpec, source: IO[bytes]) -> Iterator[Row]:
    """Every data row of the file, mapped, in order; FileRefused when the file cannot be read
    (not UTF-8, a broken header, broken CSV quoting)."""
    _check_encoding(source)
    text = io.TextIOWrapper(source, encoding="utf-8-sig", errors="strict", newline="")
    number = 1
    try:
        reader = csv.reader(text, strict=True)
        try:
            first = next(reader)
        except StopIteration:
            raise FileRefused("the file is empty: its first row must name the columns") from None
        header = _header(spec, first)
        for cells in reader:
            number += 1
            if not any(cell.strip() for cell in cells):
                continue
            yield map_row(spec, header, number, cells)
    except UnicodeDecodeError:
        raise FileRefused(
            f"the file is not UTF-8 text (at row {number + 1} or near it); "
            "save it as 'CSV UTF-8 (comma delimited)' and try again"
        ) from None
    except csv.Error as exc:
        raise FileRefused(f"row {number + 1} is not valid CSV: {exc}") from None
    finally:
        text.detach()


def duplicates(spec: KindSpec) -> Callable[[Row], Problem | None]:
    """A checker remembering each record's key: a later row with the same key is refused,
    naming the first row. (Keys only: a set of strings, not the rows.)"""
    first_row: dict[tuple[str, ...], int] = {}

    def check(row: Row) -> Problem | None:
        if row.record is None:
            return None
        key = tuple(str(row.record.get(name, "")) for name in spec.key)
        earlier = first_row.setdefault(key, row.number)
        if earlier == row.number:
            return None
        if spec.key == ("reference",):
            return Problem(row.number, "reference", f"the same reference as row {earlier}")
        what = ", ".join(spec.key[:-1]) + f" and {spec.key[-1]}"
        return Problem(row.number, spec.key[-1], f"the same {what} as row {earlier}")

    return check


_PHONE_LIKE = re.compile(r"\+?\d[\d ()-]{8,}\d")


def scrub(reason: str, secrets: Sequence[str]) -> str:
    """A reason safe to show: none of the row's phone numbers or passwords, no phone-like
    digits at all."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            reason = reason.replace(secret, WITHHELD)
    return _PHONE_LIKE.sub(WITHHELD, reason)


# ---------------------------------------------------------------------------- importing


def column_of(spec: KindSpec, field_path: str) -> str:
    """The CSV column a sync error's field names ('nominee.phone' -> 'nominee_phone',
    'trades.1' -> 'trades'); the field itself when no column matches (a whole-record
    reason such as 'give a trade or a sor_code')."""
    parts = [p for p in field_path.split(".") if p]
    names = set(spec.names)
    while parts:
        joined = "_".join(parts)
        if joined in names:
            return joined
        parts.pop()
    return field_path or "-"


#: Called with the bytes read so far (for a progress bar).
Progress = Callable[[int], None]


def run_import(
    db: Database,
    *,
    landlord_id: int,
    kind: str,
    source: IO[bytes],
    now: datetime,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    progress: Progress | None = None,
    audit: Callable[[Session, ImportReport], None] | None = None,
) -> ImportReport:
    """Import one CSV file of `kind` for the landlord, in one transaction.

    Committed only when it is not a dry run, the file could be read, and every row is good
    (or `skip_bad_rows`); otherwise rolled back, so nothing is half-written. `audit` is
    called inside the transaction just before a commit, to record who imported what.
    """
    # The sync (pydantic models, phone numbers) is imported when an import runs, so the
    # staff app and the CLI start without it.
    from bot.integration.sync import (
        CONFLICT,
        CREATED,
        MAX_BATCH,
        UNCHANGED,
        UPDATED,
        RecordKind,
        upsert_batch,
    )

    assert CHUNK <= MAX_BATCH
    spec = SPECS[kind]
    record_kind = RecordKind(kind)
    report = ImportReport(kind=kind, dry_run=dry_run, skip_bad_rows=skip_bad_rows)
    seen = duplicates(spec)

    def flush(session: Session, batch: list[Row]) -> None:
        if not batch:
            return
        outcomes = upsert_batch(
            session,
            landlord_id=landlord_id,
            kind=record_kind,
            records=[row.record or {} for row in batch],
            now=now,
        )
        for outcome in outcomes:
            row = batch[outcome.index]
            if outcome.status == CREATED:
                report.created += 1
                continue
            if outcome.status == UPDATED:
                report.updated += 1
                continue
            if outcome.status == UNCHANGED:
                report.unchanged += 1
                continue
            report.bad_rows += 1
            errors = outcome.errors or ()
            if not errors:
                column = spec.key[0]
                reason = (
                    "conflicts with a stored record" if outcome.status == CONFLICT else "invalid"
                )
                report.problems.append(Problem(row.number, column, reason))
            for error in errors:
                report.problems.append(
                    Problem(
                        row.number, column_of(spec, error.field), scrub(error.reason, row.secrets)
                    )
                )
        session.flush()
        # Rows already written are in the transaction; the identity map need not hold them.
        session.expunge_all()
        batch.clear()

    try:
        with db.session() as session:
            try:
                batch: list[Row] = []
                for row in read_rows(spec, source):
                    report.rows += 1
                    problem = seen(row)
                    if row.record is None or problem is not None:
                        report.bad_rows += 1
                        found = row.problems if problem is None else (problem,)
                        report.problems.extend(
                            Problem(p.row, p.column, scrub(p.reason, row.secrets)) for p in found
                        )
                        continue
                    batch.append(row)
                    if len(batch) >= CHUNK:
                        flush(session, batch)
                        if progress is not None:
                            progress(source.tell())
                flush(session, batch)
            except FileRefused as refused:
                report.file_error = refused.reason
                report.problems[:0] = refused.problems
            if progress is not None:
                progress(source.tell())
            report.problems.sort(key=lambda p: p.row)  # stable: a row's problems keep their order
            if dry_run or not report.ok:
                session.rollback()
                return report
            if audit is not None:
                audit(session, report)
            report.written = True
    except DBAPIError as exc:
        # Another writer got there first (a mobile or badge taken meanwhile), or the
        # database is gone. Rolled back; the log names the error's kind, never its values.
        log.warning("CSV import of %s refused by the database: %s", kind, type(exc).__name__)
        report.written = False
        report.file_error = REFUSED
    return report

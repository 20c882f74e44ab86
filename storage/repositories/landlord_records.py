"""The landlord's own records by their own references (issue 14): the SQL behind batch
upserts from the integration API and CSV imports, and the API's reads.

Set-based: one SELECT per batch for the rows a batch names (a batch is at most 1,000
records, so every list of values here is bounded by the caller; see `_among`), bulk
INSERTs and executemany UPDATEs by primary key. Owns writes to
properties, residents, operatives, contractors, repair jobs and availability made on a
landlord's behalf by reference.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from psycopg.types.json import Json
from sqlalchemy import bindparam, func, insert, literal, update
from sqlalchemy import select as columns
from sqlalchemy import types as sa_types
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, SQLModel, col, select

from storage.models import (
    Availability,
    Contractor,
    Landlord,
    Operative,
    Property,
    RepairJob,
    Resident,
)

#: The tables keyed by (landlord_id, reference).
Referenced = Property | Resident | Operative | RepairJob
R = TypeVar("R", Property, Resident, Operative, RepairJob)
#: Tables this module may write in bulk.
_WRITABLE = frozenset({"properties", "residents", "operatives", "repair_jobs", "availability"})


@dataclass(frozen=True, slots=True)
class Existing:
    """A stored row's id and the hash of the record last synced into it."""

    id: int
    source_hash: str | None


@dataclass(frozen=True, slots=True)
class Owner:
    """Who holds a globally unique value (a mobile, a badge number)."""

    id: int
    landlord_id: int
    reference: str | None


@dataclass(frozen=True, slots=True)
class ResidentRef:
    id: int
    property_id: int | None


@dataclass(frozen=True, slots=True)
class Slot:
    id: int
    operative_id: int
    day: date
    window: str
    capacity: int
    booked: int


def _among(session: Session, statement: Any, column: Any, values: Collection[Any]) -> Any:
    """The statement narrowed to rows whose `column` is one of `values`.

    On PostgreSQL a join to `unnest(:array)`: one parameter, where an IN list has up to a
    thousand that SQLAlchemy and psycopg each handle in Python (~10 ms a batch), and a plan
    that stays an index lookup per value when psycopg prepares the statement (a generic
    plan for `= ANY(:array)` scanned the whole table: 600 ms a batch at 10,000 rows)."""
    wanted = list(set(values))
    if session.get_bind().dialect.name != "postgresql":
        return statement.where(column.in_(wanted))
    given = func.unnest(literal(wanted, ARRAY(column.type))).table_valued("value").render_derived()
    return statement.join(given, column == given.c.value)


def existing(
    session: Session, *, model: type[R], landlord_id: int, references: Collection[str]
) -> dict[str, Existing]:
    """The landlord's rows with these references: {reference: (id, source_hash)}."""
    if not references:
        return {}
    statement = select(col(model.reference), col(model.id), col(model.source_hash)).where(
        col(model.landlord_id) == landlord_id
    )
    rows = session.execute(_among(session, statement, col(model.reference), references)).all()
    return {str(ref): Existing(int(id_), source) for ref, id_, source in rows}


def ids(
    session: Session, *, model: type[R], landlord_id: int, references: Collection[str]
) -> dict[str, int]:
    """The landlord's row ids for these references; another landlord's never appear."""
    return {
        ref: row.id
        for ref, row in existing(
            session, model=model, landlord_id=landlord_id, references=references
        ).items()
    }


def residents(
    session: Session, *, landlord_id: int, references: Collection[str]
) -> dict[str, ResidentRef]:
    if not references:
        return {}
    statement = select(col(Resident.reference), col(Resident.id), col(Resident.property_id)).where(
        col(Resident.landlord_id) == landlord_id
    )
    rows = session.execute(_among(session, statement, col(Resident.reference), references)).all()
    return {str(ref): ResidentRef(int(id_), prop) for ref, id_, prop in rows}


def mobile_owners(session: Session, *, mobiles: Collection[str]) -> dict[str, Owner]:
    """Who holds each of these mobiles, on any landlord."""
    if not mobiles:
        return {}
    statement = select(
        col(Resident.mobile), col(Resident.id), col(Resident.landlord_id), col(Resident.reference)
    )
    rows = session.execute(_among(session, statement, col(Resident.mobile), mobiles)).all()
    return {str(m): Owner(int(i), int(lid), ref) for m, i, lid, ref in rows}


def door_password_hashes(session: Session, *, ids: Collection[int]) -> dict[int, str | None]:
    """The stored door password hashes of these residents (to compare a re-sent one)."""
    if not ids:
        return {}
    rows = session.execute(
        select(col(Resident.id), col(Resident.door_password_hash)).where(
            col(Resident.id).in_(set(ids))
        )
    ).all()
    return {int(i): h for i, h in rows}


def badge_owners(session: Session, *, badges: Collection[str]) -> dict[str, Owner]:
    """Who holds each of these badge numbers, on any landlord."""
    if not badges:
        return {}
    statement = select(
        col(Operative.badge_number),
        col(Operative.id),
        col(Operative.landlord_id),
        col(Operative.reference),
    )
    rows = session.execute(_among(session, statement, col(Operative.badge_number), badges)).all()
    return {str(b): Owner(int(i), int(lid), ref) for b, i, lid, ref in rows}


def contractors(
    session: Session, *, landlord_id: int, names: Collection[str], create: bool = True
) -> dict[str, int]:
    """The landlord's contractors by name, the missing ones created first when `create`."""
    if not names:
        return {}
    wanted = set(names)

    def load() -> dict[str, int]:
        rows = session.execute(
            select(col(Contractor.name), col(Contractor.id))
            .where(col(Contractor.landlord_id) == landlord_id, col(Contractor.name).in_(wanted))
            .order_by(col(Contractor.id))
        ).all()
        found: dict[str, int] = {}
        for name, id_ in rows:
            found.setdefault(str(name), int(id_))
        return found

    found = load()
    missing = sorted(wanted - set(found))
    if missing and create:
        table: Any = Contractor.__table__  # type: ignore[attr-defined]
        session.execute(
            insert(table),
            [{"landlord_id": landlord_id, "name": name, "phone": ""} for name in missing],
        )
        found = load()
    return found


def contractor_names(session: Session, *, ids: Collection[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(col(Contractor.id), col(Contractor.name)).where(col(Contractor.id).in_(set(ids)))
    ).all()
    return {int(i): str(n) for i, n in rows}


def visit_windows(session: Session, *, landlord_id: int) -> dict[str, Any]:
    """The landlord's configured visit windows (empty = the defaults)."""
    row = session.execute(
        select(col(Landlord.visit_windows)).where(col(Landlord.id) == landlord_id)
    ).first()
    return dict(row[0] or {}) if row else {}


def slots(
    session: Session, *, operative_ids: Collection[int], days: Collection[date]
) -> list[Slot]:
    """Availability rows of these operatives on these days, locked for this transaction
    (PostgreSQL) so `booked` cannot rise past a capacity being lowered."""
    if not operative_ids or not days:
        return []
    rows = session.execute(
        columns(
            col(Availability.id),
            col(Availability.operative_id),
            col(Availability.day),
            col(Availability.window),
            col(Availability.capacity),
            col(Availability.booked),
        )
        .where(
            col(Availability.operative_id).in_(set(operative_ids)),
            col(Availability.day).in_(set(days)),
        )
        .order_by(col(Availability.id))
        .with_for_update()
    ).all()
    return [Slot(int(a), int(b), c, str(d), int(e), int(f)) for a, b, c, d, e, f in rows]


def insert_rows(session: Session, *, model: type[SQLModel], rows: Sequence[dict[str, Any]]) -> None:
    """One bulk INSERT (executemany, pipelined on PostgreSQL), in the order of the rows'
    unique keys: two batches sharing new references wait for each other, never deadlock."""
    table: Any = model.__table__  # type: ignore[attr-defined]
    if table.name not in _WRITABLE:
        raise ValueError(f"not a landlord record table: {table.name}")
    if not rows:
        return
    ordered = sorted(rows, key=_unique_key)
    if session.get_bind().dialect.name == "postgresql":
        _copy_rows(session, table, ordered)
    else:
        session.execute(insert(table), ordered)


def _copy_rows(session: Session, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    """PostgreSQL's COPY, in the session's own transaction: a batch of new records in one
    stream, with none of the per-row parameter building of an executemany (the larger part
    of a first import's time). Every row carries the same columns."""
    columns = list(rows[0])
    kinds = {column.name: column.type for column in table.columns}
    json_columns = {name for name in columns if isinstance(kinds[name], sa_types.JSON)}
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    dbapi = session.connection().connection.driver_connection
    assert dbapi is not None
    try:
        with dbapi.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([_copy_value(row[name], name in json_columns) for name in columns])
    except psycopg.errors.IntegrityError as exc:
        # Raised as SQLAlchemy raises it for any other statement, so callers see one kind.
        raise IntegrityError(f"COPY {table.name}", None, exc) from exc
    except psycopg.Error as exc:
        raise DBAPIError(f"COPY {table.name}", None, exc) from exc


def _copy_value(value: Any, is_json: bool) -> Any:
    if value is None:
        return None
    if is_json:
        return Json(value)
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
    return value


def _unique_key(row: Mapping[str, Any]) -> tuple[str, ...]:
    if "reference" in row:
        return (str(row["reference"]),)
    return (str(row.get("operative_id")), str(row.get("day")), str(row.get("window")))


def update_rows(session: Session, *, model: type[SQLModel], rows: Sequence[dict[str, Any]]) -> None:
    """UPDATE by id, one executemany: every row carries `row_id` and the same columns."""
    table: Any = model.__table__  # type: ignore[attr-defined]
    if table.name not in _WRITABLE:
        raise ValueError(f"not a landlord record table: {table.name}")
    if not rows:
        return
    columns = [name for name in rows[0] if name != "row_id"]
    statement = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values({name: bindparam("v_" + name) for name in columns})
    )
    ordered = sorted(rows, key=lambda row: int(row["row_id"]))  # one lock order: no deadlock
    session.execute(
        statement,
        [{"row_id": row["row_id"], **{"v_" + n: row[n] for n in columns}} for row in ordered],
    )


def update_capacities(session: Session, *, capacities: Sequence[tuple[int, int]]) -> None:
    """Set (availability id, capacity) pairs; never below what is booked (the rows were
    locked and checked by the caller, and the table's check constraint stands behind it)."""
    if not capacities:
        return
    table: Any = Availability.__table__  # type: ignore[attr-defined]
    statement = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(capacity=bindparam("v_capacity"))
    )
    session.execute(statement, [{"row_id": i, "v_capacity": c} for i, c in sorted(capacities)])


# --- reads for the API ------------------------------------------------------------------


def one(session: Session, *, model: type[R], landlord_id: int, reference: str) -> R | None:
    """The landlord's record with this reference; another landlord's is never found."""
    return session.exec(
        select(model).where(
            col(model.landlord_id) == landlord_id, col(model.reference) == reference
        )
    ).first()


def page(
    session: Session, *, model: type[R], landlord_id: int, after_id: int = 0, limit: int = 100
) -> Sequence[R]:
    """The landlord's records with a reference, in id order, a page at a time."""
    return session.exec(
        select(model)
        .where(
            col(model.landlord_id) == landlord_id,
            col(model.id) > after_id,
            col(model.reference).is_not(None),
        )
        .order_by(col(model.id))
        .limit(limit)
    ).all()


def references_of(
    session: Session, *, model: type[R], ids: Collection[int | None]
) -> dict[int, str | None]:
    """The landlord's references of these rows (to show `property` on a resident, ...)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(
        select(col(model.id), col(model.reference)).where(col(model.id).in_(wanted))
    ).all()
    return {int(i): ref for i, ref in rows}


def operative_slots(session: Session, *, operative_id: int, day: date) -> Sequence[Availability]:
    return session.exec(
        select(Availability)
        .where(col(Availability.operative_id) == operative_id, col(Availability.day) == day)
        .order_by(col(Availability.window))
    ).all()

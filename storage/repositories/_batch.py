"""Batch loading by primary key: the related rows of a page or a batch in one query each.

`id_in` is the test "column is one of these ids" as one parameter: an array with `= ANY`
on PostgreSQL, where an IN list of 500 parameters is a new statement for every chunk
(compiled, converted and planned again each time: most of a planning pass's reads);
a plain IN on SQLite. `with_ids` is `by_id` through it; `columns_with_ids` reads just the
named columns as plain rows (no ORM objects, no JSON or dates decoded that nobody reads).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Integer, Row, any_, literal
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session, SQLModel, col, select

T = TypeVar("T", bound=SQLModel)


def by_id(session: Session, model: type[T], ids: Iterable[int | None]) -> dict[int, T]:
    """The rows of `model` with these ids (None ignored), keyed by id, in one query."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.exec(select(model).where(col(model.id).in_(wanted))).all()  # type: ignore[attr-defined]
    return {row.id: row for row in rows}  # type: ignore[attr-defined]


def id_in(session: Session, column: Any, ids: Collection[int]) -> ColumnElement[bool]:
    """`column IN ids` as one array parameter on PostgreSQL (`= ANY`), an IN on SQLite."""
    wanted = sorted(ids)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(wanted, ARRAY(Integer)))  # type: ignore[no-any-return]
    return column.in_(wanted)  # type: ignore[no-any-return]


def with_ids(session: Session, model: type[T], ids: Iterable[int | None]) -> dict[int, T]:
    """`by_id` with the ids as one parameter (`id_in`): for batches read over and over."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.exec(select(model).where(id_in(session, col(model.id), wanted))).all()  # type: ignore[attr-defined]
    return {row.id: row for row in rows}  # type: ignore[attr-defined]


def columns_with_ids(
    session: Session, model: type[SQLModel], ids: Iterable[int | None], *columns: str
) -> dict[int, Row[Any]]:
    """The `id` and these columns of the rows of `model` with these ids, as plain rows
    keyed by id (`id_in`)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    table = model.__table__  # type: ignore[attr-defined]
    query = select(table.c.id, *(table.c[name] for name in columns)).where(
        id_in(session, table.c.id, wanted)
    )
    return {row.id: row for row in session.execute(query).all()}

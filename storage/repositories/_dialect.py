"""What SQLite and PostgreSQL spell differently: INSERT unless a unique constraint says the
row is already there, and the Monday that starts a date's week (for GROUP BY week)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Date, Table, TextClause, bindparam, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session


def insert_ignore(session: Session | Connection, table: Any, values: dict[str, Any]) -> int | None:
    """Insert a row unless it clashes with a unique constraint; return its id or None.

    `INSERT ... ON CONFLICT DO NOTHING RETURNING id`, which SQLite (3.35+) and PostgreSQL
    both speak, written once per table and column set as a typed text statement: the
    dialects' own `on_conflict_do_nothing()` cannot be cached by SQLAlchemy, and the
    savepoint-around-a-plain-INSERT alternative costs two more round trips. Every
    inbound message and every reply passes through here.
    """
    if isinstance(session, Session):
        session.flush()  # what the ORM holds must be in the database before rows refer to it
        connection = session.connection()
    else:
        connection = session  # an autocommit connection: the row is stored on return
    row = connection.execute(_statement(table, tuple(values)), values).first()
    return None if row is None else int(row[0])


@lru_cache(maxsize=64)
def _statement(table: Table, columns: tuple[str, ...]) -> TextClause:
    names = ", ".join(f'"{name}"' for name in columns)
    params = ", ".join(f":{name}" for name in columns)
    sql = (
        f'INSERT INTO "{table.name}" ({names}) VALUES ({params}) '
        f'ON CONFLICT DO NOTHING RETURNING "{table.c.id.name}"'
    )
    # Typed parameters, so JSON, enums and zone-aware times are stored as the ORM would.
    return text(sql).bindparams(*(bindparam(name, type_=table.c[name].type) for name in columns))


class week_start(FunctionElement[Any]):
    """The Monday starting the week of a date column, as a date, on either database:
    `week_start(col(Appointment.day))` groups rows by week."""

    type = Date()
    inherit_cache = True
    name = "week_start"


@compiles(week_start, "postgresql")
def _week_start_postgresql(element: week_start, compiler: SQLCompiler, **kw: Any) -> str:
    day = compiler.process(element.clauses.clauses[0], **kw)
    return f"CAST(date_trunc('week', {day}) AS DATE)"


@compiles(week_start, "sqlite")
def _week_start_sqlite(element: week_start, compiler: SQLCompiler, **kw: Any) -> str:
    # strftime('%w') counts from Sunday = 0; Monday is (w + 6) % 7 days back.
    day = compiler.process(element.clauses.clauses[0], **kw)
    return f"date({day}, '-' || ((CAST(strftime('%w', {day}) AS INTEGER) + 6) % 7) || ' days')"

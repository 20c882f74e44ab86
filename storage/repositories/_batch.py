"""Batch loading by primary key: the related rows of a page or a batch in one query each."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from sqlmodel import Session, SQLModel, col, select

T = TypeVar("T", bound=SQLModel)


def by_id(session: Session, model: type[T], ids: Iterable[int | None]) -> dict[int, T]:
    """The rows of `model` with these ids (None ignored), keyed by id, in one query."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.exec(select(model).where(col(model.id).in_(wanted))).all()  # type: ignore[attr-defined]
    return {row.id: row for row in rows}  # type: ignore[attr-defined]

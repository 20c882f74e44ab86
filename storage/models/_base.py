"""Column helpers shared by every table family."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import JSON, BigInteger
from sqlmodel import Field

from storage.types import UTCDateTime


def utc_field(*, nullable: bool = False, index: bool = False, default: Any = ...) -> Any:
    if nullable and default is ...:
        default = None
    return Field(default=default, sa_type=UTCDateTime, nullable=nullable, index=index)


def json_field(*, factory: type = dict) -> Any:
    return Field(default_factory=factory, sa_type=JSON, nullable=False)


def bigint_field(*, nullable: bool = True, unique: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_type=BigInteger, nullable=nullable, unique=unique, index=index)


def enum_field(enum_cls: type[StrEnum], *, default: Any = ..., index: bool = False) -> Any:
    """Store the enum's readable value in a plain VARCHAR (no native PG enum to migrate)."""
    nullable = default is None
    return Field(
        default=default,
        sa_type=sa.Enum(
            enum_cls,
            native_enum=False,
            create_constraint=False,
            length=32,
            values_callable=lambda members: [m.value for m in members],
            validate_strings=True,
        ),
        nullable=nullable,
        index=index,
    )

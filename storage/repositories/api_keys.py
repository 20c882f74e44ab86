"""Landlords' API keys (issue 14). Owns writes to `api_keys`.

A key is `dsk_<prefix>_<secret>`: the prefix finds the row, and only the SHA-256 of the
whole key is stored, so the key itself is shown once, when it is made, and never again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.models import ApiKey

SCOPES = ("read", "write")
_PREFIX_BYTES = 6  # 8 url-safe characters
_SECRET_BYTES = 24  # 32 url-safe characters, 192 bits
#: last_used_at is written at most this often per key: a sync making thousands of calls a
#: minute does not write the key's row on each one.
LAST_USED_GRANULARITY = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class NewKey:
    row: ApiKey
    #: The whole key: show it once, store it nowhere.
    key: str


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _prefix() -> str:
    # No "_" inside the prefix, so the key splits on it unambiguously.
    return secrets.token_urlsafe(_PREFIX_BYTES).replace("_", "x")


def create(session: Session, *, landlord_id: int, name: str, scope: str, now: datetime) -> NewKey:
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
    prefix = _prefix()
    while session.exec(select(ApiKey.id).where(col(ApiKey.prefix) == prefix)).first():
        prefix = _prefix()
    key = f"dsk_{prefix}_{secrets.token_urlsafe(_SECRET_BYTES)}"
    row = ApiKey(
        landlord_id=landlord_id,
        name=name,
        prefix=prefix,
        key_hash=_hash(key),
        scope=scope,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return NewKey(row=row, key=key)


def authenticate(session: Session, *, key: str, now: datetime) -> ApiKey | None:
    """The live key row for this key, its last use recorded; None for anything else."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "dsk" or not parts[1] or not parts[2]:
        return None
    row = session.exec(select(ApiKey).where(col(ApiKey.prefix) == parts[1])).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.key_hash, _hash(key)):
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_GRANULARITY:
        session.execute(update(ApiKey).where(col(ApiKey.id) == row.id).values(last_used_at=now))
        row.last_used_at = now
    return row


def of_landlord(
    session: Session, *, landlord_id: int, after_id: int = 0, limit: int = 100
) -> Sequence[ApiKey]:
    """The landlord's keys, revoked ones too, in id order, a page at a time."""
    return session.exec(
        select(ApiKey)
        .where(col(ApiKey.landlord_id) == landlord_id, col(ApiKey.id) > after_id)
        .order_by(col(ApiKey.id))
        .limit(limit)
    ).all()


def revoke(session: Session, *, key_id: int, landlord_id: int | None, now: datetime) -> bool:
    """Revoke a key (of this landlord, when given); False when there is no such live key."""
    query = update(ApiKey).where(col(ApiKey.id) == key_id, col(ApiKey.revoked_at).is_(None))
    if landlord_id is not None:
        query = query.where(col(ApiKey.landlord_id) == landlord_id)
    result = session.execute(query.values(revoked_at=now))
    return bool(result.rowcount)  # type: ignore[attr-defined]

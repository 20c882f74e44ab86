"""Opt-outs kept after their resident's record is anonymised (issue 16, docs/retention.md).

An address is never stored here, only `address_hash` of it: retention writes a row when it
blanks an opted-out resident's number, a resident record that arrives later with the same
number starts opted out (`suppressed`), and opting back in from that number lifts it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, col, select

from storage.enums import Channel
from storage.models import ContactSuppression
from storage.repositories._dialect import insert_ignore


def address_hash(channel: Channel, address: str) -> str:
    """SHA-256, hex, of "<channel>:<address>" (an E.164 mobile, a Telegram id)."""
    return hashlib.sha256(f"{channel.value}:{address}".encode()).hexdigest()


def suppress(
    session: Session, *, channel: Channel, address: str, opted_out_at: datetime, now: datetime
) -> None:
    """Remember that `address` opted out of `channel` (once: a repeat changes nothing)."""
    insert_ignore(
        session,
        ContactSuppression.__table__,  # type: ignore[attr-defined]
        {
            "channel": channel,
            "address_hash": address_hash(channel, address),
            "opted_out_at": opted_out_at,
            "created_at": now,
        },
    )


def suppressed(
    session: Session, *, channel: Channel, addresses: Collection[str]
) -> dict[str, datetime]:
    """Which of these addresses (one batch of them) opted out of `channel` before their
    record was anonymised, and since when."""
    if not addresses:
        return {}
    by_hash = {address_hash(channel, a): a for a in addresses}
    rows = session.exec(
        select(ContactSuppression.address_hash, ContactSuppression.opted_out_at).where(
            col(ContactSuppression.channel) == channel,
            col(ContactSuppression.address_hash).in_(list(by_hash)),
        )
    ).all()
    return {by_hash[h]: at for h, at in rows}


def lift(session: Session, *, channel: Channel, address: str) -> None:
    """The address opted back in: forget its old opt-out."""
    session.execute(
        delete(ContactSuppression).where(
            col(ContactSuppression.channel) == channel,
            col(ContactSuppression.address_hash) == address_hash(channel, address),
        )
    )

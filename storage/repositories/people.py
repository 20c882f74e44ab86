"""Residents, landlords and the addresses they write from."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from storage.enums import Channel, JobStatus
from storage.models import Landlord, RepairJob, Resident
from storage.phones import PhoneNumberError, normalise_uk_mobile


def primary_landlord(session: Session) -> Landlord | None:
    """The landlord this deployment serves (one landlord per deployment for now)."""
    return session.exec(select(Landlord).order_by(col(Landlord.id)).limit(1)).first()


def resident_by_address(session: Session, *, channel: Channel, address: str) -> Resident | None:
    """Who is writing. SMS and the simulator are keyed by E.164 mobile, Telegram by user id."""
    if channel == Channel.TELEGRAM:
        try:
            telegram_id = int(address)
        except ValueError:
            return None
        return session.exec(select(Resident).where(Resident.telegram_id == telegram_id)).first()
    return session.exec(select(Resident).where(Resident.mobile == address)).first()


def writer_and_landlord(
    session: Session, *, channel: Channel, address: str
) -> tuple[Resident | None, Landlord | None]:
    """Who is writing and whose tenant they are, in one query (every inbound message
    needs both); someone we do not know gets the deployment's landlord."""
    return writers_and_landlords(session, channel=channel, addresses=[address])[address]


def writers_and_landlords(
    session: Session, *, channel: Channel, addresses: Sequence[str]
) -> dict[str, tuple[Resident | None, Landlord | None]]:
    """`writer_and_landlord` for several addresses on one channel, in one query."""
    keys: dict[str, int | str]
    if channel == Channel.TELEGRAM:
        keys = {a: int(a) for a in addresses if a.isdigit()}
        match = col(Resident.telegram_id).in_({int(k) for k in keys.values()})
    else:
        keys = {a: a for a in addresses}
        match = col(Resident.mobile).in_(set(keys))
    found: dict[int | str | None, tuple[Resident, Landlord]] = {}
    if keys:
        for resident, landlord in session.exec(
            select(Resident, Landlord)
            .join(Landlord, col(Landlord.id) == col(Resident.landlord_id))
            .where(match)
            .order_by(col(Resident.id))
        ).all():
            key = resident.telegram_id if channel == Channel.TELEGRAM else resident.mobile
            found.setdefault(key, (resident, landlord))
    result: dict[str, tuple[Resident | None, Landlord | None]] = {}
    fallback: list[Landlord | None] = []
    for address in addresses:
        known = found.get(keys[address]) if address in keys else None
        if known is not None:
            result[address] = known
            continue
        if not fallback:  # someone we do not know: the deployment's landlord
            fallback.append(primary_landlord(session))
        result[address] = (None, fallback[0])
    return result


def nominators(
    session: Session, *, addresses: Sequence[str]
) -> dict[str, tuple[Resident, Landlord]]:
    """Whose nominee writes from each of these numbers (E.164), with the resident's landlord.

    Only a number that is the nominee of exactly one resident is recognised: with two, we
    could not tell whose visits they mean, and must not guess with someone's details.
    """
    if not addresses:
        return {}
    found: dict[str, list[tuple[Resident, Landlord]]] = {}
    for resident, landlord in session.exec(
        select(Resident, Landlord)
        .join(Landlord, col(Landlord.id) == col(Resident.landlord_id))
        .where(col(Resident.nominee_phone).in_(set(addresses)))
        .order_by(col(Resident.id))
    ).all():
        assert resident.nominee_phone is not None
        found.setdefault(resident.nominee_phone, []).append((resident, landlord))
    return {address: pairs[0] for address, pairs in found.items() if len(pairs) == 1}


def open_jobs(session: Session, *, resident_id: int) -> list[RepairJob]:
    """Repairs still waiting for a visit to be agreed."""
    return list(
        session.exec(
            select(RepairJob)
            .where(RepairJob.resident_id == resident_id, RepairJob.status == JobStatus.OPEN)
            .order_by(col(RepairJob.id))
        )
    )


def list_residents(session: Session, *, landlord_id: int | None = None) -> list[Resident]:
    query = select(Resident).order_by(col(Resident.id))
    if landlord_id is not None:
        query = query.where(Resident.landlord_id == landlord_id)
    return list(session.exec(query))


#: A name search needs at least this many letters (one letter matches a twentieth of a city).
MIN_NAME_PREFIX = 2


def search_residents(session: Session, *, text: str, limit: int) -> list[Resident]:
    """At most `limit` residents staff may mean by `text`: whoever has that mobile (or
    nominee) number, written in any common form (storage.phones), then whoever has that
    reference, then names starting with it in any case, by name. Each is an index lookup
    (ix_residents_mobile, ix_residents_nominee_phone, ix_residents_reference,
    ix_residents_name_lower); nothing reads every resident."""
    wanted = " ".join(text.split())[:100]
    if not wanted or limit < 1:
        return []
    found: dict[int | None, Resident] = {}

    def add(query: SelectOfScalar[Resident]) -> None:
        for resident in session.exec(query.limit(limit)).all():
            if len(found) < limit:
                found.setdefault(resident.id, resident)

    try:
        number = normalise_uk_mobile(wanted)
    except PhoneNumberError:
        number = None
    if number is not None:
        add(
            select(Resident)
            .where(or_(col(Resident.mobile) == number, col(Resident.nominee_phone) == number))
            .order_by(col(Resident.id))
        )
    add(select(Resident).where(col(Resident.reference) == wanted).order_by(col(Resident.id)))
    if len(wanted) >= MIN_NAME_PREFIX and len(found) < limit:
        name = func.lower(col(Resident.name))
        add(
            select(Resident)
            .where(name.like(_like_prefix(wanted.lower()), escape="\\"))
            .order_by(name, col(Resident.id))
        )
    return list(found.values())


def _like_prefix(prefix: str) -> str:
    """A LIKE pattern matching strings that start with `prefix` (its %, _ and \\ escaped)."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"

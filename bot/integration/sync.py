"""Upserts of a landlord's records by the landlord's own references (issue 14): the one
core behind the integration API's PUTs and the CSV import.

`validate` checks one record without the database. `upsert_batch` takes up to
`MAX_BATCH` records of one kind and answers one `RecordOutcome` per record: created,
updated, unchanged, invalid or conflict. One bad record never fails the others: nothing is
written for an invalid or conflicting record, everything for the good ones, all in the
caller's transaction. It is set-based: every record is validated in Python first, then one
SELECT per batch finds the stored rows by reference, one per referenced kind resolves
references, conflicts are checked in bulk, and the writes are one bulk INSERT and one
executemany UPDATE. A record whose canonical form hashes the same as the last one synced
(`source_hash`) is "unchanged" and costs no write.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlmodel import Session

from bot.integration import photos
from bot.integration.records import (
    REFERENCE_PATTERN,
    JobRecord,
    OperativeRecord,
    PropertyRecord,
    ResidentRecord,
    WindowRecord,
    window_reference,
)
from flows.windows import DEFAULT_WINDOWS, windows_from_config
from storage.enums import Channel, JobStatus, Trade
from storage.models import Availability, Operative, Property, RepairJob, Resident
from storage.repositories import landlord_records as repo
from storage.repositories import suppressions

log = logging.getLogger(__name__)

#: The most records one batch may carry (the API refuses more; so does this module).
MAX_BATCH = 1000

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"
INVALID = "invalid"
CONFLICT = "conflict"
STATUSES = (CREATED, UPDATED, UNCHANGED, INVALID, CONFLICT)


class RecordKind(StrEnum):
    PROPERTIES = "properties"
    RESIDENTS = "residents"
    OPERATIVES = "operatives"
    JOBS = "jobs"
    WINDOWS = "windows"


@dataclass(frozen=True, slots=True)
class RecordError:
    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    #: Position in the batch.
    index: int
    #: The record's reference (for windows: "OPREF/2026-12-01/morning"); None if unreadable.
    reference: str | None
    #: created | updated | unchanged | invalid | conflict
    status: str
    errors: tuple[RecordError, ...] = ()


_PLAIN_REFERENCE = re.compile(REFERENCE_PATTERN)


class BatchTooLarge(ValueError):
    """More than MAX_BATCH records: the caller splits them."""


_MODELS: dict[RecordKind, type[BaseModel]] = {
    RecordKind.PROPERTIES: PropertyRecord,
    RecordKind.RESIDENTS: ResidentRecord,
    RecordKind.OPERATIVES: OperativeRecord,
    RecordKind.JOBS: JobRecord,
    RecordKind.WINDOWS: WindowRecord,
}

#: pydantic's words for some errors, in ours.
_REASONS = {
    "extra_forbidden": "extra fields not permitted",
    "missing": "required",
}


def validate(
    kind: RecordKind, record: Mapping[str, Any]
) -> tuple[BaseModel | None, tuple[RecordError, ...]]:
    """The validated record, or None and what is wrong with which field. Pure: no database."""
    if not isinstance(record, Mapping):
        return None, (RecordError("record", "must be a JSON object"),)
    try:
        return _MODELS[kind].model_validate(dict(record)), ()
    except ValidationError as exc:
        return None, tuple(_errors(kind, exc))


def _errors(kind: RecordKind, exc: ValidationError) -> list[RecordError]:
    found: list[RecordError] = []
    for error in exc.errors(include_url=False, include_input=False):
        loc = ".".join(str(part) for part in error.get("loc", ()))
        if not loc:
            loc = "record"
        reason = _REASONS.get(str(error.get("type")), str(error.get("msg", "invalid")))
        reason = reason.removeprefix("Value error, ")
        found.append(RecordError(loc, reason))
    return found


def _raw_reference(kind: RecordKind, record: object) -> str | None:
    if not isinstance(record, Mapping):
        return None
    if kind is RecordKind.WINDOWS:
        parts = [record.get(key) for key in ("operative", "date", "window")]
        if all(isinstance(part, str) for part in parts):
            return window_reference(*(str(part)[:100] for part in parts))
        return None
    reference = record.get("reference")
    return reference[:100] if isinstance(reference, str) else None


def _reference(kind: RecordKind, model: BaseModel) -> str:
    return str(model.reference)  # type: ignore[attr-defined]


def upsert_batch(
    session: Session,
    *,
    landlord_id: int,
    kind: RecordKind,
    records: Sequence[Mapping[str, Any]],
    now: datetime,
    photos_dir: Path | None = None,
) -> list[RecordOutcome]:
    """Create or update each record by its reference within the landlord; see the module.

    Operatives' photos are written into `photos_dir` (settings.photos_dir) before the
    database; without it (the CSV import) a record with a photo is invalid."""
    if len(records) > MAX_BATCH:
        raise BatchTooLarge(f"at most {MAX_BATCH} records in one batch")
    batch = _Batch(session, landlord_id, now, [None] * len(records), photos_dir=photos_dir)
    session.flush()  # what the ORM holds is in the database before rows refer to it
    seen = _unchanged_as_sent(batch, kind, records)
    good: list[tuple[int, Any, Mapping[str, Any]]] = []
    for index, raw in enumerate(records):
        if batch.outcomes[index] is not None:
            continue
        model, errors = validate(kind, raw)
        if model is None:
            batch.done(index, _raw_reference(kind, raw), INVALID, *errors)
            continue
        reference = _reference(kind, model)
        if reference in seen:
            where = "window" if kind is RecordKind.WINDOWS else "reference"
            batch.done(index, reference, INVALID, RecordError(where, "repeats an earlier record"))
            continue
        seen.add(reference)
        good.append((index, model, raw))
    if good:
        _UPSERTS[kind](batch, good)
    outcomes = [o for o in batch.outcomes if o is not None]
    assert len(outcomes) == len(records)
    return outcomes


def counts(outcomes: Sequence[RecordOutcome]) -> dict[str, int]:
    """{"created": 3, "updated": 0, ...}: every status, zero included."""
    tally = dict.fromkeys(STATUSES, 0)
    for outcome in outcomes:
        tally[outcome.status] += 1
    return tally


@dataclass
class _Batch:
    session: Session
    landlord_id: int
    now: datetime
    outcomes: list[RecordOutcome | None]
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    looked_up: dict[str, dict[str, repo.Existing | None]] = field(default_factory=dict)
    residents_looked_up: dict[str, repo.ResidentRef | None] = field(default_factory=dict)
    photos_dir: Path | None = None

    def done(self, index: int, reference: str | None, status: str, *errors: RecordError) -> None:
        self.outcomes[index] = RecordOutcome(index, reference, status, tuple(errors))

    def existing(self, model: Any, references: Iterable[str]) -> dict[str, repo.Existing]:
        """The landlord's stored rows by reference, each reference looked up once a batch."""
        known = self.looked_up.setdefault(model.__tablename__, {})
        wanted = set(references)
        missing = wanted - known.keys()
        if missing:
            found = repo.existing(
                self.session, model=model, landlord_id=self.landlord_id, references=missing
            )
            known.update({r: found.get(r) for r in missing})
        return {r: row for r in wanted if (row := known[r]) is not None}

    def ids(self, model: Any, references: Iterable[str]) -> dict[str, int]:
        return {r: row.id for r, row in self.existing(model, references).items()}

    def residents(self, references: Iterable[str]) -> dict[str, repo.ResidentRef]:
        wanted = set(references)
        missing = wanted - self.residents_looked_up.keys()
        if missing:
            found = repo.residents(self.session, landlord_id=self.landlord_id, references=missing)
            self.residents_looked_up.update({r: found.get(r) for r in missing})
        return {r: row for r in wanted if (row := self.residents_looked_up[r]) is not None}

    def write(self, model: type[Any]) -> None:
        repo.insert_rows(self.session, model=model, rows=self.inserts)
        # One UPDATE per set of columns (an operative whose photo was left out keeps it).
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in self.updates:
            by_columns.setdefault(tuple(sorted(row)), []).append(row)
        for rows in by_columns.values():
            repo.update_rows(self.session, model=model, rows=rows)


def source_hash(record: Mapping[str, Any], **resolved: Any) -> str:
    """SHA-256 of the record as sent (keys sorted) and what its references resolved to.

    Taken over the record as sent, not as validated, so that a re-sync finds unchanged
    records before validating them (phone numbers cost a quarter of a millisecond each).
    The same record sent in another form ("07400 555111" for "+447400555111") is seen as
    changed once and rewritten with the same values: harmless. A door password never
    enters the hash, only whether one was sent."""
    sent = dict(record)
    if sent.get("door_password") is not None:
        sent["door_password"] = True
    canonical = {"record": sent, "resolved": resolved}
    try:
        text = json.dumps(
            canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str
        )
    except (TypeError, ValueError):  # keys of mixed types: not from JSON or CSV
        text = ascii(canonical)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _quick_candidates(
    kind: RecordKind, records: Sequence[Mapping[str, Any]]
) -> list[tuple[int, str, Mapping[str, Any]]]:
    """Records that could be unchanged as sent: objects with a plain reference that appears
    once in the batch and no door password (that needs comparing with its stored hash)."""
    references: list[str | None] = []
    stripped: list[str] = []  # as validation will see them: " P-1" repeats "P-1"
    for raw in records:
        reference = raw.get("reference") if isinstance(raw, Mapping) else None
        plain = isinstance(reference, str) and _PLAIN_REFERENCE.fullmatch(reference)
        references.append(reference if plain else None)
        if isinstance(reference, str):
            stripped.append(reference.strip())
    repeated = {r for r, n in Counter(stripped).items() if n > 1}
    return [
        (index, reference, raw)
        for index, (reference, raw) in enumerate(zip(references, records, strict=True))
        if reference is not None and reference not in repeated and raw.get("door_password") is None
    ]


def _unchanged_as_sent(
    batch: _Batch, kind: RecordKind, records: Sequence[Mapping[str, Any]]
) -> set[str]:
    """Report the records whose hash as sent equals the stored one as unchanged without
    validating them; their references."""
    if kind is RecordKind.WINDOWS:
        return set()
    candidates = _quick_candidates(kind, records)
    if not candidates:
        return set()
    model = _TABLES[kind]
    found = batch.existing(model, [r for _, r, _ in candidates])
    candidates = [c for c in candidates if c[1] in found and found[c[1]].source_hash]
    properties: dict[str, int] = {}
    residents: dict[str, repo.ResidentRef] = {}
    if kind in (RecordKind.RESIDENTS, RecordKind.JOBS):
        properties = batch.ids(Property, _strings(raw.get("property") for _, _, raw in candidates))
    if kind is RecordKind.JOBS:
        residents = batch.residents(_strings(raw.get("resident") for _, _, raw in candidates))
    unchanged: set[str] = set()
    for index, reference, raw in candidates:
        resolved: dict[str, Any] = {}
        if kind in (RecordKind.RESIDENTS, RecordKind.JOBS):
            resolved["property_id"] = properties.get(str(raw.get("property")))
        if kind is RecordKind.JOBS:
            resident = residents.get(str(raw.get("resident")))
            resolved["resident_id"] = resident.id if resident else None
        if found[reference].source_hash == source_hash(raw, **resolved):
            batch.done(index, reference, UNCHANGED)
            unchanged.add(reference)
    return unchanged


def _strings(values: Iterable[object]) -> set[str]:
    return {v for v in values if isinstance(v, str)}


def _stage(
    batch: _Batch,
    index: int,
    reference: str,
    prior: repo.Existing | None,
    hashed: str,
    values: dict[str, Any],
    created: dict[str, Any],
) -> None:
    """Queue an insert or update, or report the record unchanged."""
    if prior is not None and prior.source_hash == hashed:
        batch.done(index, reference, UNCHANGED)
        return
    row = values | {"source_hash": hashed, "updated_at": batch.now}
    if prior is None:
        batch.inserts.append(
            row | {"landlord_id": batch.landlord_id, "reference": reference} | created
        )
        batch.done(index, reference, CREATED)
    else:
        batch.updates.append(row | {"row_id": prior.id})
        batch.done(index, reference, UPDATED)


# --- properties -------------------------------------------------------------------------


def _properties(batch: _Batch, items: list[tuple[int, PropertyRecord, Mapping[str, Any]]]) -> None:
    found = batch.existing(Property, [m.reference for _, m, _ in items])
    for index, m, raw in items:
        values = {
            "uprn": m.uprn,
            "address": m.address(),
            "postcode": m.postcode,
            "nation": m.nation,
        }
        _stage(batch, index, m.reference, found.get(m.reference), source_hash(raw), values, {})
    batch.write(Property)


# --- residents --------------------------------------------------------------------------

#: scrypt, as staff passwords are hashed (bot/web/staff/passwords.py), so the stored form
#: `scrypt$n$r$p$salt$key` is the same.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def hash_door_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=_SCRYPT_N,
        r=_SCRYPT_R,
        p=_SCRYPT_P,
        dklen=32,
        maxmem=_SCRYPT_MAXMEM,
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(key)}"


def door_password_matches(password: str, stored: str | None) -> bool:
    """Constant-time; a malformed stored hash never matches."""
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.urlsafe_b64decode(salt + "=" * (-len(salt) % 4)),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=_SCRYPT_MAXMEM,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _residents(batch: _Batch, items: list[tuple[int, ResidentRecord, Mapping[str, Any]]]) -> None:
    session = batch.session
    properties = batch.ids(Property, [m.property for _, m, _ in items])
    found = batch.existing(Resident, [m.reference for _, m, _ in items])
    owners = repo.mobile_owners(session, mobiles=[m.mobile for _, m, _ in items])
    claimed: set[str] = set()
    staged: list[tuple[int, ResidentRecord, int, str]] = []
    for index, m, raw in items:
        property_id = properties.get(m.property)
        if property_id is None:
            batch.done(
                index,
                m.reference,
                INVALID,
                RecordError("property", "no property has this reference"),
            )
            continue
        prior = found.get(m.reference)
        owner = owners.get(m.mobile)
        if (owner is not None and (prior is None or owner.id != prior.id)) or m.mobile in claimed:
            batch.done(
                index,
                m.reference,
                CONFLICT,
                RecordError("mobile", "another resident already has this mobile number"),
            )
            continue
        claimed.add(m.mobile)
        # The password itself never enters the hash: only whether one was given.
        hashed = source_hash(raw, property_id=property_id)
        staged.append((index, m, property_id, hashed))
    # A record unchanged but for a door password we cannot compare by hash: verify those.
    recheck = [
        found[m.reference].id
        for _, m, _, hashed in staged
        if m.door_password is not None
        and m.reference in found
        and found[m.reference].source_hash == hashed
    ]
    stored_passwords = repo.door_password_hashes(session, ids=recheck)
    # A number that opted out before its earlier resident was anonymised (retention) stays
    # opted out on whichever record brings it back (docs/retention.md).
    opted_out = suppressions.suppressed(
        session, channel=Channel.SMS, addresses=[m.mobile for _, m, _, _ in staged]
    )
    for index, m, property_id, hashed in staged:
        prior = found.get(m.reference)
        password_hash: str | None = None
        if m.door_password is not None:
            stored = stored_passwords.get(prior.id) if prior else None
            if stored and door_password_matches(m.door_password, stored):
                password_hash = stored
            else:
                password_hash = hash_door_password(m.door_password)
                if prior is not None and prior.source_hash == hashed:
                    prior = repo.Existing(prior.id, None)  # same fields, new password
        nominee = m.nominee
        values = {
            "property_id": property_id,
            "name": m.name,
            "mobile": m.mobile,
            "preferred_channel": m.preferred_channel,
            "language": m.language,
            "contact_hours": dict(m.contact_hours),
            "nominee_name": nominee.name if nominee else None,
            "nominee_phone": nominee.phone if nominee else None,
            "nominee_relationship": nominee.relationship if nominee else None,
            "door_password_hash": password_hash,
            "tenancy_ended_on": m.tenancy_end,
        }
        suppressed_since = opted_out.get(m.mobile)
        if suppressed_since is not None:
            values["sms_opted_out_at"] = suppressed_since
        created = {"created_at": batch.now, "sms_opted_out_at": suppressed_since}
        _stage(batch, index, m.reference, prior, hashed, values, created)
    batch.write(Resident)


# --- operatives -------------------------------------------------------------------------


def _operatives(batch: _Batch, items: list[tuple[int, OperativeRecord, Mapping[str, Any]]]) -> None:
    session = batch.session
    found = batch.existing(Operative, [m.reference for _, m, _ in items])
    owners = repo.badge_owners(session, badges=[m.badge_number for _, m, _ in items])
    claimed: set[str] = set()
    changed: list[tuple[int, OperativeRecord, repo.Existing | None, str]] = []
    for index, m, raw in items:
        prior = found.get(m.reference)
        owner = owners.get(m.badge_number)
        if (owner is not None and (prior is None or owner.id != prior.id)) or (
            m.badge_number in claimed
        ):
            batch.done(
                index,
                m.reference,
                CONFLICT,
                RecordError("badge_number", "another operative already has this badge number"),
            )
            continue
        claimed.add(m.badge_number)
        hashed = source_hash(raw)
        if prior is not None and prior.source_hash == hashed:
            batch.done(index, m.reference, UNCHANGED)
            continue
        changed.append((index, m, prior, hashed))
    # Employers are created only for records that will be written.
    employers = repo.contractors(
        session, landlord_id=batch.landlord_id, names={m.employer for _, m, _, _ in changed}
    )
    for index, m, prior, hashed in changed:
        values = {
            "contractor_id": employers[m.employer],
            "name": m.name,
            "badge_number": m.badge_number,
            "trades": [str(t) for t in m.trades],
            "active": m.active,
        }
        # A photo left out is kept as it is (a new operative has none); null removes it.
        created: dict[str, Any] = {"photo_path": None}
        if "photo" in m.model_fields_set:
            error = _store_photo(batch, m, values)
            if error is not None:
                batch.done(index, m.reference, INVALID, error)
                continue
            created = {}
        _stage(batch, index, m.reference, prior, hashed, values, created)
    batch.write(Operative)


def _store_photo(batch: _Batch, m: OperativeRecord, values: dict[str, Any]) -> RecordError | None:
    """Put the record's photo file in place (before the database names it) and its name in
    `values`; or what is wrong."""
    if m.photo is None:
        values["photo_path"] = None
        return None
    if batch.photos_dir is None:
        return RecordError("photo", "photos are sent through the API only")
    try:
        values["photo_path"] = photos.store(batch.photos_dir, photos.decode(m.photo))
    except photos.PhotoError as exc:
        return RecordError("photo", str(exc))
    except OSError:
        log.exception("could not store an operative's photo in the photos folder")
        return RecordError("photo", "could not be stored just now; send it again")
    return None


# --- jobs -------------------------------------------------------------------------------


def _jobs(batch: _Batch, items: list[tuple[int, JobRecord, Mapping[str, Any]]]) -> None:
    properties = batch.ids(Property, [m.property for _, m, _ in items])
    residents = batch.residents([m.resident for _, m, _ in items if m.resident is not None])
    found = batch.existing(RepairJob, [m.reference for _, m, _ in items])
    for index, m, raw in items:
        property_id = properties.get(m.property)
        if property_id is None:
            batch.done(
                index,
                m.reference,
                INVALID,
                RecordError("property", "no property has this reference"),
            )
            continue
        resident_id: int | None = None
        if m.resident is not None:
            resident = residents.get(m.resident)
            if resident is None:
                batch.done(
                    index,
                    m.reference,
                    INVALID,
                    RecordError("resident", "no resident has this reference"),
                )
                continue
            if resident.property_id != property_id:
                batch.done(
                    index,
                    m.reference,
                    INVALID,
                    RecordError("resident", "the resident does not live at this property"),
                )
                continue
            resident_id = resident.id
        values = {
            "property_id": property_id,
            "resident_id": resident_id,
            "description": m.description,
            "trade": m.trade or Trade.GENERAL,
            "priority": m.priority,
            "sor_code": m.sor_code,
            "hazard_category": m.hazard_category.value if m.hazard_category else None,
            "raised_at": m.raised_at,
            "target_date": m.target_date,
        }
        created = {
            "status": JobStatus.OPEN,
            "created_at": batch.now,
            "history": [{"at": batch.now.isoformat(), "event": "raised", "by": "landlord system"}],
        }
        hashed = source_hash(raw, property_id=property_id, resident_id=resident_id)
        _stage(batch, index, m.reference, found.get(m.reference), hashed, values, created)
    batch.write(RepairJob)


# --- windows ----------------------------------------------------------------------------


def window_names(session: Session, *, landlord_id: int) -> tuple[str, ...]:
    """The landlord's visit window names, earliest first (the defaults if unset or broken)."""
    try:
        windows = windows_from_config(repo.visit_windows(session, landlord_id=landlord_id))
    except ValueError:
        windows = DEFAULT_WINDOWS
    return tuple(w.name for w in windows)


def _windows(batch: _Batch, items: list[tuple[int, WindowRecord, Mapping[str, Any]]]) -> None:
    session = batch.session
    operatives = batch.ids(Operative, [m.operative for _, m, _ in items])
    names = window_names(session, landlord_id=batch.landlord_id)
    days: set[date] = {m.date for _, m, _ in items}
    slots = {
        (s.operative_id, s.day, s.window): s
        for s in repo.slots(session, operative_ids=set(operatives.values()), days=days)
    }
    inserts: list[dict[str, Any]] = []
    capacities: list[tuple[int, int]] = []
    for index, m, _ in items:
        reference = m.reference
        operative_id = operatives.get(m.operative)
        if operative_id is None:
            error = RecordError("operative", "no operative has this reference")
            batch.done(index, reference, INVALID, error)
            continue
        if m.window not in names:
            error = RecordError("window", f"not a visit window; use one of: {', '.join(names)}")
            batch.done(index, reference, INVALID, error)
            continue
        slot = slots.get((operative_id, m.date, m.window))
        if slot is None:
            inserts.append(
                {
                    "operative_id": operative_id,
                    "day": m.date,
                    "window": m.window,
                    "capacity": m.capacity,
                    "booked": 0,
                }
            )
            batch.done(index, reference, CREATED)
        elif slot.capacity == m.capacity:
            batch.done(index, reference, UNCHANGED)
        elif m.capacity < slot.booked:
            reason = f"{slot.booked} visit(s) already booked in this window"
            batch.done(index, reference, CONFLICT, RecordError("capacity", reason))
        else:
            capacities.append((slot.id, m.capacity))
            batch.done(index, reference, UPDATED)
    repo.insert_rows(session, model=Availability, rows=inserts)
    repo.update_capacities(session, capacities=capacities)


_TABLES: dict[RecordKind, Any] = {
    RecordKind.PROPERTIES: Property,
    RecordKind.RESIDENTS: Resident,
    RecordKind.OPERATIVES: Operative,
    RecordKind.JOBS: RepairJob,
}

_UPSERTS: dict[RecordKind, Callable[[_Batch, Any], None]] = {
    RecordKind.PROPERTIES: _properties,
    RecordKind.RESIDENTS: _residents,
    RecordKind.OPERATIVES: _operatives,
    RecordKind.JOBS: _jobs,
    RecordKind.WINDOWS: _windows,
}

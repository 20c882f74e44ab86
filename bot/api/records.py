"""Routes of the integration API: the landlord's records by the landlord's own references
(issue 14).

`PUT /properties/{reference}` (and residents, operatives, jobs) creates or replaces one
record: 201 when it was created, 200 when updated or unchanged, with what is stored.
`PUT /properties` with {"records": [...]} takes up to 1,000 at once and answers one
result per record: one bad record never fails the others. `PUT
/operatives/{reference}/windows/{date}` sets an operative's capacity per visit window for a
day. Reads give only the calling landlord's records: another landlord's are never found.
The work is done by bot.integration.sync, which the CSV import shares.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Path, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.api.auth import Caller, ReadCaller, WriteCaller, runtime_of
from bot.api.problems import CONFLICT, FieldError, Problem, field_error
from bot.api.routing import api_router
from bot.integration.records import (
    REFERENCE_PATTERN,
    JobBody,
    OperativeBody,
    PropertyBody,
    ResidentBody,
)
from bot.integration.sync import (
    CONFLICT as CONFLICTED,
)
from bot.integration.sync import (
    CREATED,
    INVALID,
    MAX_BATCH,
    RecordKind,
    RecordOutcome,
    counts,
    upsert_batch,
    window_names,
)
from storage.models import Operative, Property, RepairJob, Resident
from storage.repositories import landlord_records as repo

router = api_router()

#: The most records one page of a listing gives.
MAX_LIMIT = 200
_MAX_CURSOR = 2**63 - 1

PathReference = Annotated[
    str,
    Path(
        min_length=1,
        max_length=100,
        pattern=REFERENCE_PATTERN,
        description="The landlord's own reference for the record.",
        examples=["PR-1001"],
    ),
]


# --- what the API answers ---------------------------------------------------------------


class PropertyOut(BaseModel):
    reference: str = Field(examples=["PR-1001"])
    uprn: str | None = Field(default=None, examples=["100023336956"])
    address: str = Field(
        examples=["Flat 4, Ash Court, 12 Mill Lane, Leeds"],
        description="address_line_1, address_line_2 and town_or_city, joined by commas",
    )
    postcode: str = Field(examples=["LS6 2AB"])
    nation: str = Field(examples=["england"])
    updated_at: datetime | None = None


class NomineeOut(BaseModel):
    name: str
    phone: str
    relationship: str


class ResidentOut(BaseModel):
    reference: str = Field(examples=["TN-2001"])
    name: str = Field(examples=["Margaret Hughes"])
    mobile: str | None = Field(default=None, examples=["+447400900123"])
    property: str | None = Field(default=None, examples=["PR-1001"])
    preferred_channel: str = Field(examples=["sms"])
    language: str = Field(examples=["en"])
    contact_hours: dict[str, Any] = Field(default_factory=dict)
    nominee: NomineeOut | None = None
    has_door_password: bool = Field(description="The password itself is never shown.")
    tenancy_end: date | None = None
    updated_at: datetime | None = None


class OperativeOut(BaseModel):
    reference: str = Field(examples=["OP-421"])
    name: str = Field(examples=["Dave Price"])
    employer: str = Field(examples=["Price Plumbing Ltd"])
    badge_number: str = Field(examples=["PP-0421"])
    trades: list[str] = Field(examples=[["gas", "plumbing"]])
    active: bool
    has_photo: bool = Field(description="Whether a photo is stored; the photo is never shown.")
    updated_at: datetime | None = None


class JobOut(BaseModel):
    reference: str = Field(examples=["RH-10420"])
    property: str | None = Field(default=None, examples=["PR-1001"])
    resident: str | None = Field(default=None, examples=["TN-2001"])
    trade: str = Field(examples=["plumbing"])
    sor_code: str | None = None
    description: str
    priority: str = Field(examples=["routine"])
    hazard_category: str | None = None
    raised_at: datetime | None = None
    target_date: date | None = None
    status: str = Field(examples=["open"], description="triage, open, booked, completed ...")
    updated_at: datetime | None = None


Out = TypeVar("Out", PropertyOut, ResidentOut, OperativeOut, JobOut)


class Stored(BaseModel, Generic[Out]):
    """What one PUT did, and the record as now stored."""

    reference: str = Field(examples=["PR-1001"])
    status: Literal["created", "updated", "unchanged"] = Field(examples=["unchanged"])
    record: Out


class Page(BaseModel, Generic[Out]):
    """A page of records in the order they were first stored."""

    records: list[Out]
    next: str | None = Field(
        examples=["1042"], description="Ask with after=<next> for the next page; null at the end"
    )


class RecordBatch(BaseModel):
    """Up to 1,000 records of one kind, each with its `reference`."""

    records: list[Any] = Field(
        max_length=MAX_BATCH,
        description="Each record is the body of the single PUT plus its `reference`.",
        examples=[
            [
                {
                    "reference": "PR-1001",
                    "address_line_1": "Flat 4, Ash Court",
                    "town_or_city": "Leeds",
                    "postcode": "LS6 2AB",
                }
            ]
        ],
    )


class RecordResult(BaseModel):
    """What happened to one record of a batch."""

    index: int = Field(examples=[0], description="The record's position in the batch")
    reference: str | None = Field(examples=["PR-1001"])
    status: Literal["created", "updated", "unchanged", "invalid", "conflict"]
    errors: list[FieldError] = Field(default_factory=list)


class BatchResult(BaseModel):
    results: list[RecordResult]
    counts: dict[str, int] = Field(
        examples=[{"created": 1, "updated": 0, "unchanged": 0, "invalid": 0, "conflict": 0}]
    )


class WindowSlot(BaseModel):
    capacity: int = Field(examples=[2])
    booked: int = Field(examples=[1])


class WindowsBody(BaseModel):
    """Capacity per visit window for one day: {"windows": {"morning": 2, "afternoon": 0}}.
    OperativeWindows left out are left as they are; 0 means no visits in that window."""

    windows: dict[str, int] = Field(
        min_length=1,
        max_length=24,
        examples=[{"morning": 2, "afternoon": 0}],
        description="Window name (the landlord's visit windows) to capacity (0 or more).",
    )


class OperativeWindows(BaseModel):
    operative: str = Field(examples=["OP-421"])
    date: date
    windows: dict[str, WindowSlot]
    results: list[RecordResult] = Field(default_factory=list)


# --- shared machinery -------------------------------------------------------------------


def _result(outcome: RecordOutcome) -> RecordResult:
    return RecordResult(
        index=outcome.index,
        reference=outcome.reference,
        status=outcome.status,
        errors=[field_error(e.field, e.reason) for e in outcome.errors],
    )


def _sync(
    request: Request,
    who: Caller,
    kind: RecordKind,
    records: Sequence[Mapping[str, Any]],
    then: Callable[[Session, list[RecordOutcome]], Any],
) -> Any:
    """Upsert in one transaction; `then` may raise a Problem to write nothing. A unique
    clash with a concurrent writer is tried once more, then answered 409."""
    runtime = runtime_of(request)
    for attempt in (1, 2):
        try:
            with runtime.db.session() as session:
                outcomes = upsert_batch(
                    session,
                    landlord_id=who.landlord_id,
                    kind=kind,
                    records=records,
                    now=runtime.clock.now(),
                    photos_dir=runtime.settings.photos_dir,
                )
                return then(session, outcomes)
        except IntegrityError:
            if attempt == 2:
                raise Problem(
                    409, "Another change to the same records was made at the same time; retry."
                ) from None
    raise AssertionError("unreachable")


def _batch(request: Request, who: Caller, kind: RecordKind, body: RecordBatch) -> Response:
    """Answered as JSON built here (a BatchResult): a thousand results are not worth a
    thousand models on the way out."""

    def answer(_: Session, outcomes: list[RecordOutcome]) -> Response:
        results = [
            {
                "index": o.index,
                "reference": o.reference,
                "status": o.status,
                "errors": [{"field": e.field, "reason": e.reason} for e in o.errors],
            }
            for o in outcomes
        ]
        content = {"results": results, "counts": counts(outcomes)}
        return Response(
            json.dumps(content, ensure_ascii=True, separators=(",", ":")),
            media_type="application/json",
        )

    result: Response = _sync(request, who, kind, body.records, answer)
    return result


def _refuse(outcome: RecordOutcome, prefix: str = "") -> None:
    errors = [field_error(prefix + e.field, e.reason) for e in outcome.errors]
    detail = "; ".join(f"{e.field}: {e.reason}" for e in errors[:5])
    if outcome.status == INVALID:
        raise Problem(422, detail, errors=errors)
    if outcome.status == CONFLICTED:
        raise Problem(409, detail, errors=errors)


def _put_one(
    request: Request,
    response: Response,
    who: Caller,
    kind: RecordKind,
    reference: str,
    body: BaseModel,
    read: Callable[[Session, int, str], Any],
) -> Any:
    given = getattr(body, "reference", None)
    if given is not None and given != reference:
        raise Problem(
            422,
            "reference: differs from the reference in the path",
            errors=[field_error("reference", "differs from the reference in the path")],
        )
    # A photo left out stays as it is, so it must not become "photo": null.
    unset = {"photo"} - body.model_fields_set
    record = body.model_dump(mode="json", exclude={"reference", *unset}) | {"reference": reference}

    def answer(session: Session, outcomes: list[RecordOutcome]) -> Any:
        outcome = outcomes[0]
        _refuse(outcome)
        session.flush()
        stored = read(session, who.landlord_id, reference)
        if outcome.status == CREATED:
            response.status_code = 201
        return {"reference": reference, "status": outcome.status, "record": stored}

    return _sync(request, who, kind, [record], answer)


def _after(after: str | None) -> int:
    if after is None or after == "":
        return 0
    if not after.isascii() or not after.isdigit() or len(after) > 19 or int(after) > _MAX_CURSOR:
        raise Problem(
            422, "after: not a cursor", errors=[field_error("after", "not a cursor from us")]
        )
    return int(after)


def _not_found(what: str) -> Problem:
    return Problem(404, f"No {what} has this reference.")


After = Annotated[str | None, Query(max_length=19, description="The `next` of the previous page.")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def _put(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """A single PUT's extra answers: 201 with what was stored, 409."""
    return {**CONFLICT, 201: {"model": model, "description": "Created"}}


# --- reading rows as the API shows them -------------------------------------------------


def _properties_out(rows: Sequence[Property]) -> list[PropertyOut]:
    return [
        PropertyOut(
            reference=r.reference or "",
            uprn=r.uprn,
            address=r.address,
            postcode=r.postcode,
            nation=str(r.nation),
            updated_at=r.updated_at,
        )
        for r in rows
    ]


def _residents_out(session: Session, rows: Sequence[Resident]) -> list[ResidentOut]:
    homes = repo.references_of(session, model=Property, ids=[r.property_id for r in rows])
    out = []
    for r in rows:
        nominee = None
        if r.nominee_name and r.nominee_phone:
            nominee = NomineeOut(
                name=r.nominee_name,
                phone=r.nominee_phone,
                relationship=r.nominee_relationship or "",
            )
        out.append(
            ResidentOut(
                reference=r.reference or "",
                name=r.name,
                mobile=r.mobile,
                property=homes.get(r.property_id) if r.property_id else None,
                preferred_channel=str(r.preferred_channel),
                language=r.language,
                contact_hours=dict(r.contact_hours or {}),
                nominee=nominee,
                has_door_password=r.door_password_hash is not None,
                tenancy_end=r.tenancy_ended_on,
                updated_at=r.updated_at,
            )
        )
    return out


def _operatives_out(session: Session, rows: Sequence[Operative]) -> list[OperativeOut]:
    employers = repo.contractor_names(session, ids=[r.contractor_id for r in rows])
    return [
        OperativeOut(
            reference=r.reference or "",
            name=r.name,
            employer=employers.get(r.contractor_id, ""),
            badge_number=r.badge_number,
            trades=list(r.trades or []),
            active=r.active,
            has_photo=r.photo_path is not None,
            updated_at=r.updated_at,
        )
        for r in rows
    ]


def _jobs_out(session: Session, rows: Sequence[RepairJob]) -> list[JobOut]:
    homes = repo.references_of(session, model=Property, ids=[r.property_id for r in rows])
    people = repo.references_of(session, model=Resident, ids=[r.resident_id for r in rows])
    return [
        JobOut(
            reference=r.reference,
            property=homes.get(r.property_id),
            resident=people.get(r.resident_id) if r.resident_id else None,
            trade=str(r.trade),
            sor_code=r.sor_code,
            description=r.description,
            priority=str(r.priority),
            hazard_category=r.hazard_category,
            raised_at=r.raised_at,
            target_date=r.target_date,
            status=str(r.status),
            updated_at=r.updated_at,
        )
        for r in rows
    ]


def _read_property(session: Session, landlord_id: int, reference: str) -> PropertyOut:
    row = repo.one(session, model=Property, landlord_id=landlord_id, reference=reference)
    if row is None:
        raise _not_found("property")
    return _properties_out([row])[0]


def _read_resident(session: Session, landlord_id: int, reference: str) -> ResidentOut:
    row = repo.one(session, model=Resident, landlord_id=landlord_id, reference=reference)
    if row is None:
        raise _not_found("resident")
    return _residents_out(session, [row])[0]


def _read_operative(session: Session, landlord_id: int, reference: str) -> OperativeOut:
    row = repo.one(session, model=Operative, landlord_id=landlord_id, reference=reference)
    if row is None:
        raise _not_found("operative")
    return _operatives_out(session, [row])[0]


def _read_job(session: Session, landlord_id: int, reference: str) -> JobOut:
    row = repo.one(session, model=RepairJob, landlord_id=landlord_id, reference=reference)
    if row is None:
        raise _not_found("job")
    return _jobs_out(session, [row])[0]


def _next(rows: Sequence[Any], limit: int) -> str | None:
    return str(rows[-1].id) if len(rows) == limit else None


# --- properties -------------------------------------------------------------------------


@router.put(
    "/properties/{reference}",
    response_model=Stored[PropertyOut],
    responses=_put(Stored[PropertyOut]),
    tags=["records"],
    summary="Create or replace a property by its reference",
)
def put_property(
    request: Request,
    response: Response,
    who: WriteCaller,
    reference: PathReference,
    body: PropertyBody,
) -> Any:
    """The address is given as HACT lines and stored as one `address`."""
    return _put_one(request, response, who, RecordKind.PROPERTIES, reference, body, _read_property)


@router.put(
    "/properties",
    response_model=BatchResult,
    tags=["records"],
    summary="Create or replace up to 1,000 properties",
)
def put_properties(request: Request, who: WriteCaller, body: RecordBatch) -> Response:
    """Each record is a PropertyBody with its `reference`."""
    return _batch(request, who, RecordKind.PROPERTIES, body)


@router.get(
    "/properties/{reference}",
    response_model=PropertyOut,
    tags=["records"],
    summary="One property by its reference",
)
def get_property(request: Request, who: ReadCaller, reference: PathReference) -> PropertyOut:
    with runtime_of(request).db.session() as session:
        return _read_property(session, who.landlord_id, reference)


@router.get(
    "/properties",
    response_model=Page[PropertyOut],
    tags=["records"],
    summary="The landlord's properties, a page at a time",
)
def list_properties(
    request: Request, who: ReadCaller, after: After = None, limit: Limit = 100
) -> Page[PropertyOut]:
    with runtime_of(request).db.session() as session:
        rows = repo.page(
            session,
            model=Property,
            landlord_id=who.landlord_id,
            after_id=_after(after),
            limit=limit,
        )
        return Page[PropertyOut](records=_properties_out(rows), next=_next(rows, limit))


# --- residents --------------------------------------------------------------------------


@router.put(
    "/residents/{reference}",
    response_model=Stored[ResidentOut],
    responses=_put(Stored[ResidentOut]),
    tags=["records"],
    summary="Create or replace a resident by their reference",
)
def put_resident(
    request: Request,
    response: Response,
    who: WriteCaller,
    reference: PathReference,
    body: ResidentBody,
) -> Any:
    """`property` is the landlord's reference of a property sent before. A mobile number
    belongs to one resident only: one held by another resident is a 409."""
    return _put_one(request, response, who, RecordKind.RESIDENTS, reference, body, _read_resident)


@router.put(
    "/residents",
    response_model=BatchResult,
    tags=["records"],
    summary="Create or replace up to 1,000 residents",
)
def put_residents(request: Request, who: WriteCaller, body: RecordBatch) -> Response:
    """Each record is a ResidentBody with its `reference`."""
    return _batch(request, who, RecordKind.RESIDENTS, body)


@router.get(
    "/residents/{reference}",
    response_model=ResidentOut,
    tags=["records"],
    summary="One resident by their reference",
)
def get_resident(request: Request, who: ReadCaller, reference: PathReference) -> ResidentOut:
    with runtime_of(request).db.session() as session:
        return _read_resident(session, who.landlord_id, reference)


@router.get(
    "/residents",
    response_model=Page[ResidentOut],
    tags=["records"],
    summary="The landlord's residents, a page at a time",
)
def list_residents(
    request: Request, who: ReadCaller, after: After = None, limit: Limit = 100
) -> Page[ResidentOut]:
    with runtime_of(request).db.session() as session:
        rows = repo.page(
            session,
            model=Resident,
            landlord_id=who.landlord_id,
            after_id=_after(after),
            limit=limit,
        )
        return Page[ResidentOut](records=_residents_out(session, rows), next=_next(rows, limit))


# --- operatives -------------------------------------------------------------------------


@router.put(
    "/operatives/{reference}",
    response_model=Stored[OperativeOut],
    responses=_put(Stored[OperativeOut]),
    tags=["records"],
    summary="Create or replace an operative by their reference",
)
def put_operative(
    request: Request,
    response: Response,
    who: WriteCaller,
    reference: PathReference,
    body: OperativeBody,
) -> Any:
    """`employer` names a contractor of the landlord (created if new). A badge number
    belongs to one operative only: one held by another operative is a 409."""
    return _put_one(request, response, who, RecordKind.OPERATIVES, reference, body, _read_operative)


@router.put(
    "/operatives",
    response_model=BatchResult,
    tags=["records"],
    summary="Create or replace up to 1,000 operatives",
)
def put_operatives(request: Request, who: WriteCaller, body: RecordBatch) -> Response:
    """Each record is an OperativeBody with its `reference`."""
    return _batch(request, who, RecordKind.OPERATIVES, body)


@router.get(
    "/operatives/{reference}",
    response_model=OperativeOut,
    tags=["records"],
    summary="One operative by their reference",
)
def get_operative(request: Request, who: ReadCaller, reference: PathReference) -> OperativeOut:
    with runtime_of(request).db.session() as session:
        return _read_operative(session, who.landlord_id, reference)


@router.get(
    "/operatives",
    response_model=Page[OperativeOut],
    tags=["records"],
    summary="The landlord's operatives, a page at a time",
)
def list_operatives(
    request: Request, who: ReadCaller, after: After = None, limit: Limit = 100
) -> Page[OperativeOut]:
    with runtime_of(request).db.session() as session:
        rows = repo.page(
            session,
            model=Operative,
            landlord_id=who.landlord_id,
            after_id=_after(after),
            limit=limit,
        )
        return Page[OperativeOut](records=_operatives_out(session, rows), next=_next(rows, limit))


# --- windows ----------------------------------------------------------------------------


def _windows_of(session: Session, who: Caller, reference: str, day: date) -> OperativeWindows:
    operative = repo.one(session, model=Operative, landlord_id=who.landlord_id, reference=reference)
    if operative is None or operative.id is None:
        raise _not_found("operative")
    slots = repo.operative_slots(session, operative_id=operative.id, day=day)
    order = {name: n for n, name in enumerate(window_names(session, landlord_id=who.landlord_id))}
    ordered = sorted(slots, key=lambda s: (order.get(s.window, len(order)), s.window))
    return OperativeWindows(
        operative=reference,
        date=day,
        windows={s.window: WindowSlot(capacity=s.capacity, booked=s.booked) for s in ordered},
    )


@router.put(
    "/operatives/{reference}/windows/{day}",
    response_model=OperativeWindows,
    responses=CONFLICT,
    tags=["records"],
    summary="Set an operative's capacity per visit window for one day",
)
def put_windows(
    request: Request, who: WriteCaller, reference: PathReference, day: date, body: WindowsBody
) -> OperativeWindows:
    """Body {"windows": {"morning": 2, "afternoon": 0}}: window names are the landlord's
    visit windows, capacity is how many visits the operative can take in it (0 = none).
    OperativeWindows left out are left as they are. All or nothing: a capacity below the visits
    already booked is a 409, an unknown window or a negative capacity a 422, and then
    nothing is changed."""
    records = [
        {"operative": reference, "date": day.isoformat(), "window": name, "capacity": capacity}
        for name, capacity in body.windows.items()
    ]

    def answer(session: Session, outcomes: list[RecordOutcome]) -> OperativeWindows:
        for outcome in outcomes:
            if outcome.status == INVALID and any(e.field == "operative" for e in outcome.errors):
                raise _not_found("operative")
        for outcome in outcomes:
            name = list(body.windows)[outcome.index]
            _refuse(
                RecordOutcome(
                    outcome.index,
                    outcome.reference,
                    outcome.status,
                    tuple(
                        type(e)(
                            f"windows.{name}" if e.field in {"window", "capacity"} else e.field,
                            e.reason,
                        )
                        for e in outcome.errors
                    ),
                )
            )
        session.flush()
        stored = _windows_of(session, who, reference, day)
        return stored.model_copy(update={"results": [_result(o) for o in outcomes]})

    result: OperativeWindows = _sync(request, who, RecordKind.WINDOWS, records, answer)
    return result


@router.get(
    "/operatives/{reference}/windows/{day}",
    response_model=OperativeWindows,
    tags=["records"],
    summary="An operative's capacity and bookings per visit window for one day",
)
def get_windows(
    request: Request, who: ReadCaller, reference: PathReference, day: date
) -> OperativeWindows:
    with runtime_of(request).db.session() as session:
        return _windows_of(session, who, reference, day)


@router.put(
    "/windows",
    response_model=BatchResult,
    tags=["records"],
    summary="Set up to 1,000 operative capacities, one per operative, day and window",
)
def put_windows_batch(request: Request, who: WriteCaller, body: RecordBatch) -> Response:
    """Each record is {"operative": "OP-421", "date": "2026-12-01", "window": "morning",
    "capacity": 2}; results name them "OP-421/2026-12-01/morning"."""
    return _batch(request, who, RecordKind.WINDOWS, body)


# --- jobs -------------------------------------------------------------------------------


@router.put(
    "/jobs/{reference}",
    response_model=Stored[JobOut],
    responses=_put(Stored[JobOut]),
    tags=["records"],
    summary="Create or replace a repair job by its reference",
)
def put_job(
    request: Request,
    response: Response,
    who: WriteCaller,
    reference: PathReference,
    body: JobBody,
) -> Any:
    """`property` and `resident` are the landlord's references of records sent before. A
    new job is open: the resident is invited to book. Its status is never changed here."""
    return _put_one(request, response, who, RecordKind.JOBS, reference, body, _read_job)


@router.put(
    "/jobs",
    response_model=BatchResult,
    tags=["records"],
    summary="Create or replace up to 1,000 repair jobs",
)
def put_jobs(request: Request, who: WriteCaller, body: RecordBatch) -> Response:
    """Each record is a JobBody with its `reference`."""
    return _batch(request, who, RecordKind.JOBS, body)


@router.get(
    "/jobs/{reference}",
    response_model=JobOut,
    tags=["records"],
    summary="One repair job by its reference",
)
def get_job(request: Request, who: ReadCaller, reference: PathReference) -> JobOut:
    with runtime_of(request).db.session() as session:
        return _read_job(session, who.landlord_id, reference)


@router.get(
    "/jobs",
    response_model=Page[JobOut],
    tags=["records"],
    summary="The landlord's repair jobs, a page at a time",
)
def list_jobs(
    request: Request, who: ReadCaller, after: After = None, limit: Limit = 100
) -> Page[JobOut]:
    with runtime_of(request).db.session() as session:
        rows = repo.page(
            session,
            model=RepairJob,
            landlord_id=who.landlord_id,
            after_id=_after(after),
            limit=limit,
        )
        return Page[JobOut](records=_jobs_out(session, rows), next=_next(rows, limit))

"""Build the read-only world a flow step sees, from the database, for one message."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from sqlmodel import Session

from flows.context import (
    AccessNeedView,
    AppointmentView,
    JobView,
    LandlordView,
    NomineeView,
    OperativeView,
    ResidentView,
    SlotView,
    StepContext,
)
from flows.windows import DEFAULT_WINDOWS, VisitWindow, window_named, windows_from_config
from storage.enums import AppointmentStatus, Channel, JobStatus
from storage.models import Appointment, AppointmentEvent, Landlord, RepairJob, Resident
from storage.repositories import resident_world
from storage.repositories.people import nominators, primary_landlord

#: Used only when no landlord is configured yet, so an unknown number still gets an answer.
UNCONFIGURED_LANDLORD = LandlordView(
    name="your landlord's", phone="the number on your tenancy letter", emergency_phone="999"
)
SLOT_HORIZON = timedelta(days=21)
#: How far back a resident's view reaches into past visits: well beyond the feedback
#: window (7 days after the visit, flows/feedback.py) and a completion reported late.
#: Older visits are not read: a long-standing resident's texts cost what a new one's do.
RECENT_PAST = timedelta(days=30)
#: A booked visit stays among the resident's upcoming ones this long after its end.
UPCOMING_GRACE = timedelta(days=2)
LIVE_EVENTS = ("on_the_way", "arrived", "running_late", "cant_get_in", "done")
OPEN = JobStatus.OPEN


class PhotoLinks(Protocol):
    """Makes the expiring link to an operative's photo page (bot.common.links implements it)."""

    def link(self, appointment: Appointment) -> str | None: ...


class NoPhotoLinks:
    def link(self, appointment: Appointment) -> str | None:
        return None


def landlord_view(landlord: Landlord | None) -> LandlordView:
    if landlord is None:
        return UNCONFIGURED_LANDLORD
    hours = landlord.contact_hours.get("weekday", ["08:00", "20:00"])
    return LandlordView(
        name=landlord.name,
        phone=landlord.phone,
        emergency_phone=landlord.emergency_phone,
        code_of_conduct_url=landlord.code_of_conduct_url,
        code_of_conduct_text=landlord.code_of_conduct_text,
        compensation_policy=landlord.compensation_policy,
        office_hours=(int(str(hours[0])[:2]), int(str(hours[1])[:2])),
    )


def build_context(
    session: Session,
    *,
    resident: Resident | None,
    now: datetime,
    zone: ZoneInfo,
    paused: bool,
    links: PhotoLinks,
    landlord: Landlord | Literal["primary"] | None = "primary",
    views: ResidentViews | None = None,
    nominee: NomineeView | None = None,
) -> StepContext:
    """`landlord` is the writer's and `views` the resident's, when the caller loaded them
    already (for a batch of texts, see `resident_views`). `nominee`: the resident's
    nominee is writing, from their own number (`nominees_writing`)."""
    if isinstance(landlord, str):  # "primary"
        landlord = primary_landlord(session)
    windows = windows_from_config(landlord.visit_windows) if landlord else DEFAULT_WINDOWS
    view = None
    operatives: dict[int, OperativeView] = {}
    if resident is not None and resident.id is not None:
        if views is None or resident.id not in views:
            views = resident_views(session, [resident], now, links)
        view, operatives = views[resident.id]
    return StepContext(
        landlord=landlord_view(landlord),
        resident=view,
        now=now,
        zone=zone,
        slot_source=lambda: _slots(session, now, zone, windows),
        operatives=operatives,
        paused=paused,
        windows=windows,
        nominee=nominee,
    )


#: Channels whose address is a phone number a nominee could write from.
PHONE_CHANNELS = frozenset({Channel.SMS, Channel.SIMULATOR})


def nominees_writing(
    session: Session, *, channel: Channel, addresses: Sequence[str]
) -> dict[str, tuple[Resident, Landlord, NomineeView]]:
    """For numbers that are no resident's own: the resident whose nominee writes from each
    (flows/nominee.py), with the resident's landlord and the nominee as flows see them."""
    if channel not in PHONE_CHANNELS:
        return {}
    return {
        address: (
            resident,
            landlord,
            NomineeView(resident.nominee_name or "", resident.nominee_relationship or ""),
        )
        for address, (resident, landlord) in nominators(session, addresses=addresses).items()
    }


def _operatives(session: Session, ids: set[int]) -> dict[int, OperativeView]:
    """The operatives of these appointments with their employers, in one query (only
    the resident's own: most messages come from residents with no visit at all)."""
    result = {}
    for operative, employer in resident_world.operatives_with_employers(session, operative_ids=ids):
        assert operative.id is not None
        result[operative.id] = OperativeView(
            id=operative.id,
            name=operative.name,
            employer=employer or "",
            badge_number=operative.badge_number,
            photo_path=operative.photo_path,
        )
    return result


def _job_view(job: RepairJob) -> JobView:
    assert job.id is not None
    return JobView(
        job.id,
        job.reference,
        job.description,
        str(job.status),
        str(job.trade),
        hazard_category=job.hazard_category,
    )


#: A resident's view of the world and the operatives it mentions, by operative id.
ResidentViews = dict[int, tuple[ResidentView, dict[int, OperativeView]]]


def resident_views(
    session: Session, residents: Sequence[Resident], now: datetime, links: PhotoLinks
) -> ResidentViews:
    """The views of several residents in the same few queries as one (answering a batch
    of texts costs one round trip per table, not one per table per text).

    Bounded by what is under way, not by the history: the jobs not yet completed or
    cancelled, and the visits (not cancelled) that end from `RECENT_PAST` ago on: every
    one to come and the recent past (feedback on the last completed visit, a no-show
    report), each with its own job."""
    ids = [r.id for r in residents if r.id is not None]
    if not ids:
        return {}
    jobs = resident_world.jobs_under_way(session, resident_ids=ids)
    needs: dict[int, list[AccessNeedView]] = {}
    for n in resident_world.active_needs_of(session, resident_ids=ids):
        needs.setdefault(n.resident_id, []).append(
            AccessNeedView(n.id or 0, str(n.category), n.own_words, n.consent_to_share, n.review_by)
        )
    visits = resident_world.visits_ending_since(
        session, resident_ids=ids, since=now - max(RECENT_PAST, UPCOMING_GRACE)
    )
    appointment_ids = [a.id for a, _ in visits if a.id is not None]
    operatives = _operatives(session, {a.operative_id for a, _ in visits})
    given = resident_world.completed_feedback(session, appointment_ids=appointment_ids)
    latest = resident_world.latest_events(
        session, appointment_ids=appointment_ids, kinds=LIVE_EVENTS
    )
    upcoming: dict[int, list[AppointmentView]] = {}
    past: dict[int, list[AppointmentView]] = {}
    mentioned: dict[int, dict[int, OperativeView]] = {}
    for appointment, job in visits:
        owner = job.resident_id or 0  # queried by resident, so always set
        view = _appointment_view(
            appointment,
            job,
            operatives,
            links,
            appointment.id in given,
            latest.get(appointment.id or -1),
        )
        mentioned.setdefault(owner, {})[appointment.operative_id] = view.operative
        if (
            appointment.status == AppointmentStatus.BOOKED
            and appointment.ends_at + UPCOMING_GRACE >= now
        ):
            upcoming.setdefault(owner, []).append(view)
        else:  # ended within RECENT_PAST, not cancelled: nothing older was read
            past.setdefault(owner, []).append(view)
    views: ResidentViews = {}
    for resident in residents:
        if resident.id is None:
            continue
        rid = resident.id
        views[rid] = (
            ResidentView(
                id=rid,
                name=resident.name,
                open_jobs=tuple(
                    _job_view(j)
                    for j in jobs
                    if j.resident_id == rid and j.status == JobStatus.OPEN
                ),
                access_needs=tuple(needs.get(rid, ())),
                appointments=tuple(upcoming.get(rid, ())),
                past_appointments=tuple(
                    sorted(past.get(rid, ()), key=lambda a: a.ends_at, reverse=True)
                ),
                telegram_linked=resident.telegram_id is not None,
                has_door_password=resident.door_password_hash is not None,
                nominee_name=resident.nominee_name if resident.nominee_phone else None,
                sms_opted_out=resident.sms_opted_out_at is not None,
                hazard_jobs=tuple(
                    _job_view(j)
                    for j in jobs
                    if j.resident_id == rid
                    and j.hazard_category is not None
                    and j.status not in (JobStatus.COMPLETED, JobStatus.CANCELLED)
                ),
            ),
            mentioned.get(rid, {}),
        )
    return views


def _appointment_view(
    appointment: Appointment,
    job: RepairJob,
    operatives: dict[int, OperativeView],
    links: PhotoLinks,
    feedback_given: bool,
    latest: AppointmentEvent | None,
) -> AppointmentView:
    assert appointment.id is not None
    eta = None
    if latest is not None and latest.data.get("eta"):
        eta = datetime.fromisoformat(str(latest.data["eta"]))
    return AppointmentView(
        id=appointment.id,
        version=appointment.version,
        job=_job_view(job),
        operative=operatives[appointment.operative_id],
        day=appointment.day,
        window=appointment.window,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        status=str(appointment.status),
        visit_code=appointment.visit_code,
        code_attempts=appointment.code_attempts,
        code_locked=appointment.code_locked_at is not None,
        live_status=latest.kind if latest else None,
        live_status_at=latest.at if latest else None,
        eta=eta,
        photo_link=links.link(appointment),
        feedback_given=feedback_given,
    )


def _slots(
    session: Session,
    now: datetime,
    zone: ZoneInfo,
    windows: tuple[VisitWindow, ...],
) -> tuple[SlotView, ...]:
    today = now.astimezone(zone).date()
    trades = resident_world.active_operative_trades(session)
    rows = resident_world.bookable_windows(session, after=today, until=today + SLOT_HORIZON)
    result = []
    for row in rows:
        if row.operative_id not in trades or row.id is None:
            continue
        try:
            window = window_named(row.window, windows)
        except KeyError:
            continue
        start, end = window.bounds(row.day, zone)
        result.append(
            SlotView(
                availability_id=row.id,
                day=row.day,
                window=row.window,
                starts_at=start,
                ends_at=end,
                operative_id=row.operative_id,
                trades=trades[row.operative_id],
                free=row.capacity - row.booked,
            )
        )
    return tuple(result)

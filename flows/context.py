"""Read-only views of the world a flow step may look at.

Built by the service from the database for each message; flows never query anything
themselves, which keeps them pure and their tests plain transcripts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from zoneinfo import ZoneInfo

from flows.actions import Outcomes
from flows.policy.rules import DEFAULT_WEEKDAY_HOURS
from flows.windows import DEFAULT_WINDOWS, VisitWindow
from nlu.types import ParseResult
from storage.enums import Channel


@dataclass(frozen=True, slots=True)
class LandlordView:
    name: str
    phone: str
    emergency_phone: str
    code_of_conduct_url: str = ""
    code_of_conduct_text: str = ""
    compensation_policy: str = ""
    #: Mon-Sat opening hours as (start hour, end hour), for "when will I hear back".
    office_hours: tuple[int, int] = (
        DEFAULT_WEEKDAY_HOURS.start.hour,
        DEFAULT_WEEKDAY_HOURS.end.hour,
    )


@dataclass(frozen=True, slots=True)
class JobView:
    id: int
    reference: str
    description: str
    status: str
    trade: str = "general"
    #: The hazard it is about (a HazardCategory value: damp_mould, leak, ...), if any.
    hazard_category: str | None = None


@dataclass(frozen=True, slots=True)
class AccessNeedView:
    id: int
    category: str
    own_words: str
    consent_to_share: bool
    review_by: date | None = None


@dataclass(frozen=True, slots=True)
class OperativeView:
    id: int
    name: str
    employer: str
    badge_number: str
    photo_path: str | None = None

    @property
    def first_name(self) -> str:
        return self.name.split()[0]


@dataclass(frozen=True, slots=True)
class AppointmentView:
    id: int
    version: int
    job: JobView
    operative: OperativeView
    day: date
    window: str
    starts_at: datetime
    ends_at: datetime
    status: str
    visit_code: str
    code_attempts: int = 0
    code_locked: bool = False
    #: The operative's latest status ("on_the_way", "arrived", ...), if any.
    live_status: str | None = None
    live_status_at: datetime | None = None
    eta: datetime | None = None
    #: A link to a page with the operative's photo, valid until after the visit.
    photo_link: str | None = None
    feedback_given: bool = False


@dataclass(frozen=True, slots=True)
class SlotView:
    """A window with room left, for an operative who does the job's trade."""

    availability_id: int
    day: date
    window: str
    starts_at: datetime
    ends_at: datetime
    operative_id: int
    trades: tuple[str, ...]
    free: int


@dataclass(frozen=True, slots=True)
class ResidentView:
    id: int
    name: str
    open_jobs: tuple[JobView, ...] = ()
    access_needs: tuple[AccessNeedView, ...] = ()
    appointments: tuple[AppointmentView, ...] = ()
    #: Completed visits, newest first (for feedback and no-show reports).
    past_appointments: tuple[AppointmentView, ...] = ()
    telegram_linked: bool = False
    has_door_password: bool = False
    nominee_name: str | None = None
    sms_opted_out: bool = False
    #: Jobs about a hazard (with a hazard category) not yet completed or cancelled, in
    #: triage too: a hazard already on record is not raised twice (flows/hazards.py).
    hazard_jobs: tuple[JobView, ...] = ()

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else self.name

    def appointment(self, appointment_id: int) -> AppointmentView | None:
        for appointment in (*self.appointments, *self.past_appointments):
            if appointment.id == appointment_id:
                return appointment
        return None

    def job(self, job_id: int) -> JobView | None:
        for job in self.open_jobs:
            if job.id == job_id:
                return job
        for appointment in self.appointments:
            if appointment.job.id == job_id:
                return appointment.job
        return None


@dataclass(frozen=True, slots=True)
class NomineeView:
    """Someone the resident asked us to involve (an advocate, a carer, family), writing
    from their own number: `StepContext.resident` is then the resident they act for, and
    flows/nominee.py says what they may do."""

    name: str
    relationship: str = ""

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else "there"


@dataclass(frozen=True, slots=True)
class FlowInput:
    """What a flow step reads: the resident's message as understood (text, its parse, when
    it was written, any option key pressed), or on a follow-up step the outcomes of the
    actions just applied. The channels' own message types stop at bot/; this one is the
    flows'."""

    text: str
    parse: ParseResult
    at: datetime
    option_key: str | None = None
    channel: Channel = Channel.SIMULATOR
    #: Set on the follow-up step the service runs after applying a step's actions.
    outcomes: Outcomes | None = None

    @property
    def is_follow_up(self) -> bool:
        return self.outcomes is not None


def _no_slots() -> tuple[SlotView, ...]:
    return ()


@dataclass(frozen=True)
class StepContext:
    landlord: LandlordView
    resident: ResidentView | None
    now: datetime
    zone: ZoneInfo
    #: Loads the free windows; called only when a flow needs them (booking), because
    #: most messages ("hello", a door check) never look at availability.
    slot_source: Callable[[], tuple[SlotView, ...]] = _no_slots
    #: Operatives who own those slots or appointments, by id.
    operatives: Mapping[int, OperativeView] = field(default_factory=dict)
    #: The conversation is paused for a human (handoff); only safety is answered.
    paused: bool = False
    windows: tuple[VisitWindow, ...] = DEFAULT_WINDOWS
    extras: dict[str, object] = field(default_factory=dict)
    #: Set when the resident's nominee writes from their own number (flows/nominee.py).
    nominee: NomineeView | None = None

    @property
    def today(self) -> date:
        return self.now.astimezone(self.zone).date()

    @cached_property
    def slots(self) -> tuple[SlotView, ...]:
        """Free windows from the availability, soonest first (loaded once, on first use)."""
        return self.slot_source()

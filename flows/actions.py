"""The domain changes a flow can ask for, one frozen dataclass per kind, and the outcomes
a flow reads back on its follow-up step.

The service (bot/inbound/actions.py `apply_actions`) applies them in the same transaction
as the conversation state, so a reply is never sent for a change that did not happen.
Ids name rows the resident owns; the service checks that before touching anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TypeAlias

from storage.enums import Channel, HazardCategory, JobPriority, TaskKind


@dataclass(frozen=True, slots=True)
class BookVisit:
    """Book `job_id` in the window; outcome `booked` (the appointment id) or `taken`."""

    job_id: int
    day: date
    window: str


@dataclass(frozen=True, slots=True)
class MoveVisit:
    """Move a visit still at `version` to the window; outcome `booked` or `taken`."""

    appointment_id: int
    version: int
    day: date
    window: str


@dataclass(frozen=True, slots=True)
class CancelVisit:
    """Call off a visit still at `version`."""

    appointment_id: int
    version: int


@dataclass(frozen=True, slots=True)
class RecordAccessNeed:
    """A need in the resident's own words; `replace_all` retires what was on record."""

    category: str
    own_words: str
    consent: bool
    replace_all: bool = False


@dataclass(frozen=True, slots=True)
class ConfirmAccessNeeds:
    """The resident said the needs on record are still right: review them again later."""


@dataclass(frozen=True, slots=True)
class ShareNeeds:
    """The resident changed their mind about sharing: every active need is shared with
    operatives from now on (or no longer), on the same records, so nothing is copied."""

    consent: bool


@dataclass(frozen=True, slots=True)
class SetLanguage:
    """The resident asked for our messages in a language (an ISO 639-1 code)."""

    language: str


@dataclass(frozen=True, slots=True)
class OptOut:
    channel: Channel
    #: The carrier keyword (STOP, CANCEL, ...) when the carrier unsubscribed them.
    carrier_keyword: str | None = None


@dataclass(frozen=True, slots=True)
class OptIn:
    channel: Channel


@dataclass(frozen=True, slots=True)
class RaiseTask:
    """A task on the staff list; `appointment_id` only if it is the resident's own visit."""

    kind: TaskKind
    summary: str
    urgent: bool = False
    appointment_id: int | None = None


@dataclass(frozen=True, slots=True)
class RecordVisitEvent:
    """Evidence on a visit's timeline ("door_check", "identity_asked", "no_show_reported")."""

    appointment_id: int
    kind: str
    data: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WrongDoorCode:
    """A door code that did not match: counted towards the lock."""

    appointment_id: int
    given: str


@dataclass(frozen=True, slots=True)
class ReportRepair:
    """A repair reported by text, for staff triage (an emergency skips the triage task).

    `hazard`: the hazard it reports (flows/hazards.py), kept on the job as its
    hazard_category; a hazard's task is an urgent alert unless its priority is routine."""

    description: str
    priority: JobPriority = JobPriority.ROUTINE
    hazard: HazardCategory | None = None


@dataclass(frozen=True, slots=True)
class SaveFeedback:
    """Feedback answers as they come; None means "not answered in this step"."""

    appointment_id: int
    rating: int | None = None
    showed_id: bool | None = None
    asked_before_facilities: bool | None = None
    left_tidy: bool | None = None
    respectful: bool | None = None
    comment: str | None = None
    flagged: bool = False
    complete: bool = False


@dataclass(frozen=True, slots=True)
class LogComplaint:
    """A formal complaint; outcome `complaint_id`."""

    text: str
    respond_by: date
    appointment_id: int | None = None


@dataclass(frozen=True, slots=True)
class HandToPerson:
    """Pause the conversation for staff."""


@dataclass(frozen=True, slots=True)
class NotifyOtherChannel:
    """A message to this resident on another channel, through the outbox and the policy."""

    channel: Channel
    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class NotifyNominee:
    """A copy of a visit's confirmation to the resident's nominee."""

    appointment_id: int
    text: str


Action: TypeAlias = (
    BookVisit
    | MoveVisit
    | CancelVisit
    | RecordAccessNeed
    | ConfirmAccessNeeds
    | ShareNeeds
    | SetLanguage
    | OptOut
    | OptIn
    | RaiseTask
    | RecordVisitEvent
    | WrongDoorCode
    | ReportRepair
    | SaveFeedback
    | LogComplaint
    | HandToPerson
    | NotifyOtherChannel
    | NotifyNominee
)


@dataclass(frozen=True, slots=True)
class Outcomes:
    """What applying a step's actions produced, for the flow's follow-up step."""

    #: The appointment booked or moved (BookVisit, MoveVisit).
    booked: int | None = None
    #: The window was gone by the time it was booked (BookVisit, MoveVisit).
    taken: bool = False
    #: The visit was called off (CancelVisit); False when it could not be.
    cancelled: bool | None = None
    #: The latest staff task raised (RaiseTask, ReportRepair, LogComplaint).
    task_id: int | None = None
    #: The complaint logged (LogComplaint).
    complaint_id: int | None = None
    #: Its reference as the resident and the landlord see it: CMP-2026-000123.
    complaint_reference: str | None = None

"""Closed vocabularies shared by storage and flows.

StrEnums so the database holds readable words (a staff member reading a row, or a
migration, sees "morning", not 1) and flows can compare without importing SQLModel.
"""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    SMS = "sms"
    TELEGRAM = "telegram"
    SIMULATOR = "simulator"


class Nation(StrEnum):
    """UK nation of a property: bank holidays differ (holidays package subdivisions)."""

    ENGLAND = "england"
    WALES = "wales"
    SCOTLAND = "scotland"
    NORTHERN_IRELAND = "northern_ireland"

    @property
    def holidays_subdiv(self) -> str:
        return {"england": "ENG", "wales": "WLS", "scotland": "SCT", "northern_ireland": "NIR"}[
            self.value
        ]


class AccessNeedCategory(StrEnum):
    WHEELCHAIR = "wheelchair"
    MOBILITY = "mobility"
    HEARING = "hearing"
    SIGHT = "sight"
    INTERPRETER = "interpreter"
    LANGUAGE = "language"
    PET = "pet"
    CALL_AHEAD = "call_ahead"
    CARER = "carer"
    MENTAL_HEALTH = "mental_health"
    SLEEP_HOURS = "sleep_hours"
    CHILDREN = "children"
    KEY_SAFE = "key_safe"
    OTHER = "other"


class Trade(StrEnum):
    PLUMBING = "plumbing"
    ELECTRICAL = "electrical"
    CARPENTRY = "carpentry"
    GAS = "gas"
    GENERAL = "general"
    ROOFING = "roofing"
    PLASTERING = "plastering"


class JobPriority(StrEnum):
    EMERGENCY = "emergency"
    URGENT = "urgent"
    ROUTINE = "routine"


class JobStatus(StrEnum):
    TRIAGE = "triage"  # a resident reported it; staff have not accepted it yet
    OPEN = "open"  # needs a visit booked
    BOOKED = "booked"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class HazardCategory(StrEnum):
    """Hazards a landlord must act on quickly (Awaab's Law; HHSRS groups, simplified).

    Named on a repair job (`RepairJob.hazard_category`) by the landlord's system or when a
    resident reports one by text (flows/hazards.py)."""

    DAMP_MOULD = "damp_mould"
    LEAK = "leak"
    STRUCTURAL = "structural"
    FIRE = "fire"
    ELECTRICAL = "electrical"
    GAS = "gas"
    EXCESS_COLD = "excess_cold"
    PESTS = "pests"
    #: Entry by intruders: an entry door or window that does not lock or close.
    SECURITY = "security"
    OTHER = "other"


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_ACCESS = "no_access"
    NO_SHOW = "no_show"


class Direction(StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    EXPIRED = "expired"
    BLOCKED = "blocked"


class Decision(StrEnum):
    SEND = "send"
    DEFER = "defer"
    EXPIRE = "expire"
    BLOCK = "block"


class StaffRole(StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    VIEWER = "viewer"


class TaskKind(StrEnum):
    CALLBACK = "callback"
    HANDOFF = "handoff"
    TRIAGE = "triage"
    ALERT = "alert"
    NUMBER_CHECK = "number_check"
    UNBOOKED = "unbooked"


class TaskStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    CLOSED = "closed"

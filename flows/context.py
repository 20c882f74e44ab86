"""Read-only views of the world a flow step may look at.

Built by the service from the database for each message; flows never query anything
themselves, which keeps them pure and their tests plain transcripts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from nlu.types import ParseResult


@dataclass(frozen=True, slots=True)
class LandlordView:
    name: str
    phone: str
    emergency_phone: str
    code_of_conduct_url: str = ""


@dataclass(frozen=True, slots=True)
class JobView:
    reference: str
    description: str
    status: str


@dataclass(frozen=True, slots=True)
class ResidentView:
    id: int
    name: str
    open_jobs: tuple[JobView, ...] = ()

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else self.name


@dataclass(frozen=True, slots=True)
class Inbound:
    """The understood message: text, its parse, when it was written, and any option key pressed."""

    text: str
    parse: ParseResult
    at: datetime
    option_key: str | None = None


@dataclass(frozen=True, slots=True)
class StepContext:
    landlord: LandlordView
    resident: ResidentView | None
    now: datetime
    zone: ZoneInfo
    extras: dict[str, object] = field(default_factory=dict)

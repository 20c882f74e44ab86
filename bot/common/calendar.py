"""A visit as an iCalendar file (RFC 5545), for the resident's calendar app.

One event per appointment: its UID never changes and its SEQUENCE is the appointment's
version, so a calendar app that opens a newer file (or refreshes a subscribed link)
updates the same entry, and a cancelled visit's file (METHOD:CANCEL, STATUS:CANCELLED)
removes it. DTSTAMP is the injected clock's now, never the wall clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from icalendar import Calendar, Event

MEDIA_TYPE = "text/calendar"
PRODID = "-//Doorstep//Repair visit//EN"


@dataclass(frozen=True, slots=True)
class CalendarVisit:
    appointment_id: int
    version: int
    starts_at: datetime
    ends_at: datetime
    summary: str
    location: str
    description: str
    cancelled: bool


def uid(appointment_id: int, host: str) -> str:
    """Stable for the life of the appointment, whatever changes."""
    return f"appointment-{appointment_id}@{host}"


def visit_calendar(visit: CalendarVisit, *, host: str, now: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if visit.cancelled else "PUBLISH")
    event = Event()
    event.add("uid", uid(visit.appointment_id, host))
    event.add("sequence", visit.version)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", visit.starts_at.astimezone(UTC))
    event.add("dtend", visit.ends_at.astimezone(UTC))
    event.add("summary", visit.summary)
    event.add("location", visit.location)
    event.add("description", visit.description)
    event.add("status", "CANCELLED" if visit.cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    calendar.add_component(event)
    body: bytes = calendar.to_ical()
    return body

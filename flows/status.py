"""How an operative's live status reads to a resident ("is on the way, due about 10:50am")."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flows.context import AppointmentView
from flows.local_time import local_twelve_hour

STATUS_WORDS = {
    "on_the_way": "is on the way",
    "arrived": "has arrived at your home",
    "running_late": "is running late",
    "cant_get_in": "is at your door",
    "done": "has finished",
}


def live_status(appointment: AppointmentView, zone: ZoneInfo) -> str:
    status = appointment.live_status
    if status is None:
        return "has not set off yet"
    words = STATUS_WORDS.get(status, "is on today's list")
    if status in {"on_the_way", "running_late"} and appointment.eta is not None:
        words += f", due about {clock(appointment.eta, zone)}"
    return words


def clock(moment: datetime, zone: ZoneInfo) -> str:
    """An ETA always shows its minutes ("10:00am"): it reads as a time, not a window edge."""
    return local_twelve_hour(moment, zone, always_minutes=True)

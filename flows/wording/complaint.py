"""What a resident reads when they make a formal complaint (flows/complaint.py)."""

from __future__ import annotations

from datetime import date

from flows.messages import Reply
from flows.windows import format_day


def ask_details() -> Reply:
    return Reply(
        "Sorry things have gone wrong. Please tell us what happened in your own words and "
        "we will log it as a formal complaint."
    )


def nothing_logged() -> Reply:
    return Reply("OK, nothing logged.")


def logged(reference: str | None, respond_by: date, working_days: int) -> Reply:
    """The complaint is on record: its reference (CMP-2026-000123), when the answer comes,
    and where to go after our final answer (Housing Ombudsman Complaint Handling Code)."""
    ref = f", ref {reference}" if reference else ""
    return Reply(
        f"Complaint logged{ref}. We will reply by {format_day(respond_by)} ({working_days} "
        "working days). Not happy with our final answer? Ask the Housing Ombudsman."
    )

"""Who is at the door: identity, live status, code checks, and the warnings."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flows.context import AppointmentView, LandlordView
from flows.local_time import local_twelve_hour
from flows.messages import Option, Reply
from flows.sms import fit
from flows.status import clock, live_status
from flows.wording.visits import when


def identity(appointment: AppointmentView, zone: ZoneInfo, *, password: bool) -> Reply:
    op = appointment.operative
    ask_password = " Ask for your password too." if password else ""
    photo = f" {appointment.photo_link}" if appointment.photo_link else ""
    return Reply(
        f"Due today: {op.name}, {op.employer}, badge {op.badge_number}, "
        f"{live_status(appointment, zone)}.{photo} Text me the visit code they give you."
        f"{ask_password}",
        photo_path=op.photo_path,
    )


def matched(appointment: AppointmentView, *, password: bool) -> Reply:
    op = appointment.operative
    also = " Check they also say your password." if password else ""
    return Reply(
        fit(
            (
                f"That matches. {op.name} from {op.employer}, badge {op.badge_number}, is "
                f"booked to visit you today.{also} They should still show you their ID badge.",
                f"That matches. {op.name} from {op.employer}, badge {op.badge_number}, is "
                f"booked today.{also} They should still show their ID badge.",
                f"That matches. {op.name}, {op.employer}, badge {op.badge_number}, is booked "
                f"today.{also} They should show their ID badge.",
            )
        )
    )


def badge_is_not_a_code(appointment: AppointmentView) -> Reply:
    op = appointment.operative
    return Reply(
        f"That is the badge number of {op.name} from {op.employer}, who is booked to visit you "
        "today. A badge number is not proof: anyone can read it. Ask them for the visit code "
        "and text it to me. Until it matches, keep the door shut."
    )


def ask_visit_code() -> Reply:
    return Reply("Text me the visit code the person at your door gives you.")


def visit_already_finished() -> Reply:
    return Reply("Thank you. That visit has already finished.")


def told_operative_you_are_in(appointment: AppointmentView) -> Reply:
    return Reply(f"Thank you, we have told {appointment.operative.first_name} you are in.")


def mismatch(landlord: LandlordView, attempts_left: int) -> Reply:
    tries = (
        f" You can check {attempts_left} more {'time' if attempts_left == 1 else 'times'}."
        if attempts_left > 0
        else ""
    )
    return Reply(
        f"That does NOT match. Do not let them in. Call us on {landlord.phone}, or 999 if you "
        f"feel unsafe. We have told our team.{tries}"
    )


def locked(landlord: LandlordView) -> Reply:
    return Reply(
        "Too many wrong codes: checks for this visit are locked. Do not let anyone in. Call "
        f"us on {landlord.phone}, or 999 if you feel unsafe. Our team knows."
    )


def no_visit_today(landlord: LandlordView) -> Reply:
    return Reply(
        "We have no visit booked for you today, so do not let them in. Call us on "
        f"{landlord.phone}, or 999 if you feel unsafe. We have told our team."
    )


def confirm_caller_at_door(landlord: LandlordView, *, visit_today: bool) -> Reply:
    lead = "" if visit_today else "We have no visit booked for you today. "
    return Reply(
        f"{lead}Is someone at your door now saying they are from us?",
        (Option("1", "Yes, someone is here"), Option("2", "No")),
    )


def confirm_no_show() -> Reply:
    return Reply(
        "Are you telling us nobody came for your visit?",
        (Option("1", "Yes, nobody came"), Option("2", "No")),
    )


def no_show_sorry(appointment: AppointmentView, landlord: LandlordView) -> Reply:
    return Reply(
        f"I am very sorry nobody came for your visit on {when(appointment)}. We have "
        "recorded it and told our team, who will look into it."
    )


def no_show_offer(landlord: LandlordView) -> Reply:
    policy = f"{landlord.compensation_policy} " if landlord.compensation_policy else ""
    return Reply(
        f"{policy}Would you like a new time?",
        (Option("1", "Book a new time"), Option("2", "No thanks")),
    )


def no_show_unknown(landlord: LandlordView) -> Reply:
    return Reply(
        "I cannot find a visit that should have happened by now. If someone was due, "
        f"please call us on {landlord.phone} and we will sort it out."
    )


def _window(appointment: AppointmentView, zone: ZoneInfo) -> str:
    start = local_twelve_hour(appointment.starts_at, zone)
    return f"{start}-{local_twelve_hour(appointment.ends_at, zone)}"


def not_here_yet(appointment: AppointmentView, zone: ZoneInfo, *, started: bool) -> Reply:
    """Nobody has come yet, but the window is still open: where they are, and an offer."""
    op = appointment.operative
    window = _window(appointment, zone)
    lead = f"Your visit is today {window}" + ("" if started else ", so it has not started yet")
    return Reply(
        f"{lead}. {op.first_name} {live_status(appointment, zone)}. Shall we check on them?",
        (Option("1", "Yes, please check"), Option("2", "No thanks")),
    )


def checking_on_visit(appointment: AppointmentView, landlord: LandlordView) -> Reply:
    return Reply(
        f"Thank you. Our team will contact {appointment.operative.first_name} and let you "
        "know. If nobody comes by the end of your window, text us."
    )


def no_show_disputed(appointment: AppointmentView, landlord: LandlordView, zone: ZoneInfo) -> Reply:
    op = appointment.operative
    at = f" at {clock(appointment.live_status_at, zone)}" if appointment.live_status_at else ""
    return Reply(
        f"Sorry about this. {op.first_name} told us they arrived{at}. We have asked our "
        f"team to look into it and contact you. You can also call us on {landlord.phone}."
    )

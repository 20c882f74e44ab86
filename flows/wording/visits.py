"""Booking, changing and calling off visits, and saying who is coming.

Prompts use numbers, never carrier keywords: a resident who texts CANCEL on SMS is
unsubscribed by the carrier, so we say "reply 2 to call it off", not "reply CANCEL".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from flows.context import AccessNeedView, AppointmentView, JobView, LandlordView, ResidentView
from flows.messages import Option, Reply
from flows.slots import label
from flows.status import live_status
from flows.wording.common import short

OTHER_TIMES = "None of these, other times"


#: How every reply that quotes a resident's access need back to them begins its quote.
#: Staff pages find quoted needs by these (flows/needs_privacy.py), so a new template that
#: quotes a need must add its lead here (tests/flows/test_needs_privacy.py checks them).
NOTED_LEAD = 'we have noted "'
NOTED_THANKS_LEAD = 'Thank you, we have noted: "'
SHARE_LEAD = 'May we share "'
ON_RECORD_LEAD = 'We have on record: "'
QUOTE_LEADS = (NOTED_LEAD, NOTED_THANKS_LEAD, SHARE_LEAD, ON_RECORD_LEAD)


def needs_check(needs: Sequence[AccessNeedView]) -> Reply:
    noted = "; ".join(short(n.own_words, 70) for n in needs)
    return Reply(
        f'Before we book: {NOTED_LEAD}{noted}". Is that still right?',
        (Option("1", "Yes, still right"), Option("2", "Change it")),
    )


def need_noted(own_words: str, *, shared: bool, review: str) -> Reply:
    sharing = (
        "We will share it with the operative for your visits."
        if shared
        else "We will keep it private and not share it with operatives."
    )
    return Reply(
        f'{NOTED_THANKS_LEAD}{short(own_words, 80)}". {sharing} '
        f"We will check it is still right by {review}."
    )


def needs_on_record(needs: Sequence[AccessNeedView]) -> Reply:
    if not needs:
        return Reply(
            "We have no access needs on record for you, so we share nothing with operatives. "
            "Reply 1 to tell us about any.",
            (Option("1", "Tell you my needs"),),
        )
    parts = []
    for need in needs:
        shared = (
            "shared with the operative for each visit" if need.consent_to_share else "not shared"
        )
        parts.append(f'"{short(need.own_words, 60)}" ({shared})')
    listed = "; ".join(parts)
    return Reply(
        f"{ON_RECORD_LEAD[:-1]}{listed}. We never share it with anyone else. Reply 1 to change it.",
        (Option("1", "Change my needs"),),
    )


def ask_needs() -> Reply:
    return Reply(
        "Is there anything the operative should know before they come, such as a "
        "disability, a pet, or times you cannot do? Tell us in your own words, or reply 0 "
        "if there is nothing.",
    )


def nothing_to_add() -> Reply:
    return Reply("OK, nothing to add.")


def ask_new_needs() -> Reply:
    return Reply("Please tell us in your own words what the operative should know.")


def ask_consent(own_words: str) -> Reply:
    return Reply(
        f'Thank you. {SHARE_LEAD}{short(own_words, 80)}" with the operative for this visit only?',
        (Option("1", "Yes, share it"), Option("2", "No, keep it private")),
    )


def choose_job(jobs: Sequence[JobView]) -> Reply:
    return Reply(
        "Which repair is this for?",
        tuple(
            Option(str(i), f"{j.reference}: {short(j.description, 40)}")
            for i, j in enumerate(jobs, 1)
        ),
    )


def offer(labels: Sequence[str], *, lead: str = "") -> Reply:
    options = [Option(str(i), text) for i, text in enumerate(labels, 1)]
    options.append(Option(str(len(labels) + 1), OTHER_TIMES))
    intro = lead or "These times are free. Which suits you?"
    return Reply(f"{intro} Reply with a number, or tell me a day and time.", tuple(options))


def nothing_free(*, asked: bool) -> Reply:
    if asked:
        return Reply("Sorry, nothing is free then.")
    return Reply("Sorry, there are no free times for this repair in the next two weeks.")


def ask_times() -> Reply:
    return Reply(
        'When suits you? For example "Friday afternoon", "any time after 2 next week" '
        'or "not Wednesday".'
    )


def slot_taken() -> Reply:
    return Reply("Sorry, that time has just been taken by someone else.")


def no_open_job(landlord: LandlordView) -> Reply:
    return Reply(
        "You have no repairs waiting for a visit. What needs fixing? Tell us in a few "
        f"words. If it is an emergency, call {landlord.emergency_phone} now."
    )


def repair_logged(reference_hint: str) -> Reply:
    return Reply(
        f'Thank you. We have passed "{short(reference_hint, 60)}" to our repairs team, who '
        "will check it and text you within 2 working days to arrange a visit."
    )


def confirmation(appointment: AppointmentView, landlord: LandlordView) -> tuple[Reply, Reply]:
    """Two SMS-sized messages: what and who, then how to check them and how to change."""
    op = appointment.operative
    photo = f" Photo: {appointment.photo_link}" if appointment.photo_link else ""
    first = Reply(
        f"Booked: {when(appointment)}, repair {appointment.job.reference} "
        f"({short(appointment.job.description, 40)}). {op.name} from {op.employer} will come, "
        f"ID badge {op.badge_number}.{photo}",
        photo_path=op.photo_path,
    )
    conduct = (
        f" What to expect: {landlord.code_of_conduct_url}" if landlord.code_of_conduct_url else ""
    )
    second = Reply(
        f"Your visit code is {appointment.visit_code}. {op.first_name} will say it at "
        "the door: if they cannot, do not let them in and text us.{conduct} "
        "To change the time reply 1, to call the visit off reply 2.".replace("{conduct}", conduct),
        (Option("1", "Change the time"), Option("2", "Call the visit off")),
    )
    return first, second


def nominee_copy(resident: ResidentView, appointment: AppointmentView) -> str:
    op = appointment.operative
    return (
        f"Copy for {resident.nominee_name or 'you'}: {resident.first_name}'s repair visit is "
        f"booked for {when(appointment)}. {op.name} from {op.employer}, badge "
        f"{op.badge_number}, will say visit code {appointment.visit_code} at the door."
    )


def when(appointment: AppointmentView) -> str:
    return label(appointment.day, appointment.window)


def appointments(resident: ResidentView, *, today: date, zone: ZoneInfo) -> Reply:
    if not resident.appointments:
        if resident.open_jobs:
            return Reply(
                "You have no visits booked. Your repair "
                f"{resident.open_jobs[0].reference} still needs one: reply 1 to book.",
                (Option("1", "Book a repair visit"),),
            )
        return Reply("You have no repair visits booked at the moment.")
    first, *others = resident.appointments
    op = first.operative
    more = f" You have {len(others)} more booked." if others else ""
    status = f" {op.first_name} {live_status(first, zone)}." if first.day == today else ""
    return Reply(
        f"Your next visit: {when(first)}, {first.job.reference} "
        f"({short(first.job.description, 30)}). {op.name} ({op.employer}), badge "
        f"{op.badge_number}, visit code {first.visit_code}.{status}{more}",
        (Option("1", "Change the time"), Option("2", "Call the visit off")),
    )


def choose_visit(appointments: Sequence[AppointmentView], *, doing: str) -> Reply:
    return Reply(
        f"Which visit do you want to {doing}?",
        tuple(
            Option(str(i), f"{when(a)} ({a.job.reference})") for i, a in enumerate(appointments, 1)
        ),
    )


def no_visit_to_change(resident: ResidentView) -> Reply:
    if resident.open_jobs:
        return Reply(
            "You have no visits booked to change. Reply 1 to book one.",
            (Option("1", "Book a repair visit"),),
        )
    return Reply("You have no repair visits booked at the moment.")


def confirm_cancel(appointment: AppointmentView) -> Reply:
    return Reply(
        f"Call off your visit on {when(appointment)} for {appointment.job.reference}?",
        (Option("1", "Yes, call it off"), Option("2", "No, keep it")),
    )


def cancelled(appointment: AppointmentView) -> Reply:
    return Reply(
        f"Done: your visit on {when(appointment)} is called off. Repair "
        f"{appointment.job.reference} is still open. Reply 1 to book a new time.",
        (Option("1", "Book a new time"),),
    )


def kept(appointment: AppointmentView) -> Reply:
    return Reply(f"OK, your visit on {when(appointment)} stays as it is.")

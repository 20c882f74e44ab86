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
from flows.sms import fit
from flows.status import live_status
from flows.wording.common import short

OTHER_TIMES = "None of these"


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


#: Consent covers the resident's visits: the operative of each visit sees the need for that
#: visit only (bot/operatives/briefing.py). The question and every answer say the same.
FOR_EACH_VISIT = "the operative at each visit"


def need_noted(own_words: str, *, shared: bool, review: str) -> Reply:
    sharing = f"We will share it with {FOR_EACH_VISIT}." if shared else "We will keep it private."
    return Reply(
        fit(
            [
                f'{NOTED_THANKS_LEAD}{short(own_words, n)}". {sharing} {check}'
                for n in QUOTE_LENGTHS
                for check in (
                    f"We will check it is still right by {review}.",
                    f"We will check it with you by {review}.",
                )
            ]
        )
    )


def need_noted_briefly(*, shared: bool) -> Reply:
    """Booking's thanks for a need, before the times: says what happens to it."""
    if shared:
        return Reply(f"Thank you, we have noted that for {FOR_EACH_VISIT}.")
    return Reply("Thank you, we have noted that and will keep it private.")


def needs_on_record(needs: Sequence[AccessNeedView]) -> Reply:
    if not needs:
        return Reply(
            "We have no access needs on record for you, so we share nothing with operatives. "
            "Reply 1 to tell us about any.",
            (Option("1", "Tell you my needs"),),
        )

    def listed(limit: int, shared: str) -> str:
        return "; ".join(
            f'"{short(n.own_words, limit)}" ({shared if n.consent_to_share else "not shared"})'
            for n in needs
        )

    sharing = any(need.consent_to_share for need in needs)
    options = (Option("1", "Change my needs"), sharing_option(share=not sharing))
    lead = ON_RECORD_LEAD[:-1]
    return Reply(
        fit(
            [
                f"{lead}{listed(60, 'shared with the operative at each visit')}. We never share "
                "it with anyone else. Reply 1 or 2:",
                *(
                    f"{lead}{listed(n, 'shared with operatives')}. Never shared with anyone else."
                    for n in QUOTE_LENGTHS[1:]
                ),
            ],
            options=options,
        ),
        options,
    )


def shared_so_far(needs: Sequence[AccessNeedView]) -> Reply:
    """Asked "what do u tell the engineer" while we ask about needs: the answer, no menu."""
    if not needs:
        return Reply("We have nothing on record for you, so we share nothing with operatives.")
    shared = [n for n in needs if n.consent_to_share]
    if not shared:
        return Reply("We share nothing with operatives: what is on record is kept private.")
    quoted = "; ".join(short(n.own_words, 40) for n in shared)
    return Reply(f'{ON_RECORD_LEAD[:-1]}"{quoted}", shared with the operative at each visit.')


def why_we_ask() -> Reply:
    """Why we ask about needs: what the operative does with it, and that it is their choice."""
    return Reply(
        "So the operative comes ready, for example to knock loudly, wait longer at the door "
        "or keep a pet in mind. We share it only if you say yes."
    )


def sharing_option(*, share: bool) -> Option:
    """Option 2 under the needs on record: start sharing them (`share`), or stop."""
    return Option("2", "Share them" if share else "Stop sharing")


def sharing_changed(needs: Sequence[AccessNeedView], *, shared: bool) -> Reply:
    """After 'actually dont share it' / 'u can share it now': what holds from now on."""
    if not needs:
        return needs_on_record(())
    if shared:
        return Reply(
            f"OK, we will share your access needs with {FOR_EACH_VISIT}. Reply 2 to stop.",
            (sharing_option(share=False),),
        )
    return Reply(
        "OK, we will no longer share your access needs with operatives. They stay on your "
        "record. Reply 2 to share them again.",
        (sharing_option(share=True),),
    )


def language_noted(name: str, *, planned: bool) -> Reply:
    """A request for our messages in a language: noted as the resident's language."""
    if name == "English":
        return Reply("OK, we will keep writing to you in English.")
    if planned:
        return Reply(
            f"Thank you, we have noted you want our messages in {name}. Messages in {name} "
            "are on the way; until then we will write in English."
        )
    return Reply(
        f"Thank you, we have noted you prefer {name}. Our messages are in English for now. "
        "If you need an interpreter at a visit, tell us."
    )


def ask_needs() -> Reply:
    return Reply(
        "Anything the operative should know before they come, such as a disability, a pet "
        "or times you cannot do? Tell us in your own words, or reply 0 for nothing."
    )


#: The needs question as earlier versions asked it: staff pages still recognise answers to
#: it in transcripts recorded then (flows/needs_privacy.py).
FORMER_ASK_NEEDS = (
    "Is there anything the operative should know before they come, such as a "
    "disability, a pet, or times you cannot do? Tell us in your own words, or reply 0 "
    "if there is nothing.",
)


def nothing_to_add() -> Reply:
    return Reply("OK, nothing to add.")


def ask_new_needs() -> Reply:
    return Reply("Please tell us in your own words what the operative should know.")


#: How much of a need a reply quotes back, longest first: the whole of a short need, less
#: of a long one when the whole would take a second SMS segment.
QUOTE_LENGTHS = (80, 60, 40)


def ask_consent(own_words: str) -> Reply:
    options = (Option("1", "Yes, share it"), Option("2", "No, keep it private"))
    asked = [
        f'{thanks}{SHARE_LEAD}{short(own_words, n)}" with {FOR_EACH_VISIT}?'
        for n in QUOTE_LENGTHS
        for thanks in ("Thank you. ", "")
    ]
    return Reply(fit(asked, options=options), options)


def choose_job(jobs: Sequence[JobView]) -> Reply:
    return Reply(
        "Which repair is this for?",
        tuple(
            Option(str(i), f"{j.reference}: {short(j.description, 40)}")
            for i, j in enumerate(jobs, 1)
        ),
    )


def offer(labels: Sequence[str], *, lead: str = "") -> Reply:
    options = tuple(
        [Option(str(i), text) for i, text in enumerate(labels, 1)]
        + [Option(str(len(labels) + 1), OTHER_TIMES)]
    )
    intro = lead or "These times are free. Which suits you?"
    text = fit(
        (
            f"{intro} Reply with a number, or tell me a day and time.",
            f"{intro} Reply with a number or tell me a day:",
            f"{lead or 'Which suits you?'} Reply with a number or a day:",
            f"{lead or 'Which suits you?'} Reply with a number:",
            lead or "Which suits you?",  # the numbered lines say the rest
        ),
        options=options,
    )
    return Reply(text, options)


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
        fit(
            tuple(
                f'Thank you. We have passed "{short(reference_hint, limit)}" to our repairs '
                "team. They will text you within 2 working days to arrange a visit."
                for limit in (60, 40, 25)
            )
        )
    )


def confirmation(appointment: AppointmentView, landlord: LandlordView) -> tuple[Reply, ...]:
    """One message of at most two SMS segments: when, who, the visit code and the rule at
    the door, the visit page (their photo, and what to expect), and how to change it. The
    fullest wording that fits is sent; long names and links cost words, never facts."""
    op = appointment.operative
    code = appointment.visit_code
    link = appointment.photo_link
    conduct = landlord.code_of_conduct_url
    repair = f"repair {appointment.job.reference}"
    options = (Option("1", "Change the time"), Option("2", "Call the visit off"))
    page = f" Photo and what to expect: {link}" if link else ""
    short_page = f" Photo: {link}" if link else ""
    expect = f" What to expect: {conduct}" if conduct and not link else ""
    text = fit(
        (
            f"Booked: {when(appointment)}, {repair} ({short(appointment.job.description, 40)})."
            f" {op.name} from {op.employer}, ID badge {op.badge_number}, will say your visit "
            f"code {code} at the door: if they cannot, do not let them in and text us."
            f"{page}{expect}",
            f"Booked: {when(appointment)}, {repair}. {op.name} from {op.employer}, ID badge "
            f"{op.badge_number}, will say your visit code {code} at the door: if they cannot, "
            f"do not let them in.{page}{expect}",
            f"Booked: {when(appointment)}. {op.name} from {op.employer}, badge "
            f"{op.badge_number}, will say visit code {code}. No code? Do not let them in."
            f"{page}{expect}",
            f"Booked: {when(appointment)}. {op.name}, {op.employer}, badge {op.badge_number}, "
            f"will say visit code {code}. No code? Do not let them in.{short_page}{expect}",
            f"Booked: {when(appointment)}. {op.name}, {op.employer}, badge {op.badge_number}, "
            f"will say code {code}: no code, no entry. {link or conduct}",
        ),
        options=options,
        segments=2,
    )
    return (Reply(text, options, photo_path=op.photo_path),)


def nominee_copy(resident: ResidentView, appointment: AppointmentView) -> str:
    op = appointment.operative
    nominee = resident.nominee_name or "you"
    whose = f"{resident.first_name}'s repair visit"
    code = appointment.visit_code
    who = f"{op.name}, {op.employer}, badge {op.badge_number}"
    return fit(
        (
            f"Copy for {nominee}: {whose} is booked for {when(appointment)}. {op.name} from "
            f"{op.employer}, badge {op.badge_number}, will say visit code {code} at the door.",
            f"Copy for {nominee}: {whose} is {when(appointment)}. {who}, will say visit code "
            f"{code}.",
            f"Copy for {nominee.split()[0]}: {resident.first_name}'s visit is "
            f"{when(appointment)}. {who}, visit code {code}.",
        )
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
    more = f" {len(others)} more booked." if others else ""
    status = f" {op.first_name} {live_status(first, zone)}." if first.day == today else ""
    options = (Option("1", "Change the time"), Option("2", "Call the visit off"))
    who = f"{op.name} ({op.employer}), badge {op.badge_number}"
    code = first.visit_code
    text = fit(
        (
            f"Your next visit: {when(first)}, {first.job.reference} "
            f"({short(first.job.description, 30)}). {who}, visit code {code}.{status}{more}",
            f"Your next visit: {when(first)}, {first.job.reference}. {who}, visit code "
            f"{code}.{status}{more}",
            f"Next visit: {when(first)}. {who}, visit code {code}.{status}{more}",
            f"Next visit: {when(first)}. {op.name}, badge {op.badge_number}, visit code "
            f"{code}.{status}{more}",
        ),
        options=options,
    )
    return Reply(text, options)


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

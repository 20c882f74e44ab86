"""While staff have a conversation (the resident asked for a person): what still gets an
answer, and when staff will reply.

A paused conversation is never silent. Facts the resident can need at any moment are
answered as usual: their visits, who is coming and the door check, where the operative
is ("nobody is here yet"), emergencies (flows/router.py answers those before anything).
Everything else that would change an arrangement behind the back of the member of staff
who has the conversation (booking, moving or calling off a visit, needs, feedback,
complaints) gets an acknowledgement instead: our team has the message, when they will
reply, and the emergency line's number. Opting out and back in stay the resident's
right at any time.

The reply-by time is worked out once, when the conversation is handed over, and kept in
the conversation's data (`HANDOFF_KEY`), so every acknowledgement names the same time.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from flows.context import StepContext
from flows.engine import ConversationState, StepResult
from flows.local_time import twelve_hour
from flows.windows import format_day

#: The router actions that still run while staff have the conversation. "human" is not
#: here: asking again gets the acknowledgement, which says a person already has it.
WHILE_PAUSED = frozenset(
    {
        "appointments",
        "verify",
        "no_show",
        "check_visit",
        "at_home",
        "conduct",
        "opt_out",
        "opt_in",
        "nothing",
    }
)
#: Where the handover's reply-by time is kept in the conversation's data.
HANDOFF_KEY = "handoff_due"
#: How long after opening staff aim to answer a handed-over conversation.
ANSWER_WITHIN = timedelta(hours=2)


def reply_due(ctx: StepContext) -> datetime:
    """When staff will answer a conversation handed over now: within `ANSWER_WITHIN`
    of now in the landlord's opening hours (Mon-Sat), else of the next opening."""
    start, end = ctx.landlord.office_hours
    local = ctx.now.astimezone(ctx.zone)
    if local.weekday() < 6 and start <= local.hour < end - 2:
        return local + ANSWER_WITHIN
    day = local + timedelta(days=1) if local.hour >= start else local
    while day.weekday() == 6:
        day += timedelta(days=1)
    return day.replace(hour=start, minute=0, second=0, microsecond=0) + ANSWER_WITHIN


def due_label(due: datetime, ctx: StepContext) -> str:
    """ "today by 12pm", "tomorrow by 10am", "on Mon 7 Dec by 10am", or "soon" once due."""
    local = ctx.now.astimezone(ctx.zone)
    due = due.astimezone(ctx.zone)
    if due <= local:
        return "soon"
    if due.date() == local.date():
        day = "today"
    elif due.date() == (local + timedelta(days=1)).date():
        day = "tomorrow"
    else:
        day = f"on {format_day(due.date())}"
    return f"{day} by {twelve_hour(due.time())}"


def remembered_due(state: ConversationState, ctx: StepContext) -> datetime:
    """The reply-by time named at the handover, or one worked out now if it was lost."""
    stored = state.data.get(HANDOFF_KEY)
    if isinstance(stored, str):
        try:
            due = datetime.fromisoformat(stored)
        except ValueError:
            pass
        else:
            if due.tzinfo is not None:
                return due
    return reply_due(ctx)


def keep_due(result: StepResult, due: datetime) -> StepResult:
    """`result` with the handover's reply-by time still in the conversation's data."""
    if result.state.data.get(HANDOFF_KEY) is not None:
        return result
    return StepResult(
        result.state.with_data(**{HANDOFF_KEY: due.isoformat()}),
        result.replies,
        result.actions,
        result.follow_up,
    )


def facts_only(result: StepResult) -> StepResult:
    """`result` without the menu options that would change an arrangement (they would
    only be acknowledged while staff have the conversation)."""
    menu = result.state.data.get("menu")
    if not isinstance(menu, list) or not menu:
        return result
    kept = [row for row in menu if len(row) >= 3 and row[2] in WHILE_PAUSED]
    if len(kept) == len(menu):
        return result
    keys = {str(row[0]) for row in kept}
    offered = {str(row[0]) for row in menu}
    replies = tuple(
        replace(
            reply,
            options=tuple(o for o in reply.options if o.key in keys or o.key not in offered),
        )
        for reply in result.replies
    )
    return StepResult(result.state.with_data(menu=kept), replies, result.actions, result.follow_up)

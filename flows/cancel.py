"""Call off a visit: confirm which one, confirm the cancellation, confirm in writing.

```
[CHOOSE_VISIT] --> CONFIRM --yes--> DONE (visit cancelled, version bumped)
                          \\--no---> DONE (kept)
```
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from flows.actions import CancelVisit
from flows.choices import pick, yes_no
from flows.context import AppointmentView, FlowInput, StepContext
from flows.engine import ConversationState, Flow, StepResult
from flows.messages import Reply
from flows.slot_data import VisitSlots
from flows.wording import visits as words

NOT_BOOKED = Reply("That visit is not booked any more, so there is nothing to call off.")


class CancelState(StrEnum):
    CHOOSE_VISIT = "choose_visit"
    CONFIRM = "confirm"
    DONE = "done"


def _visit(state: ConversationState, ctx: StepContext) -> AppointmentView | None:
    appointment_id = VisitSlots.of(state.data).appointment_id
    if ctx.resident is None or appointment_id is None:
        return None
    return ctx.resident.appointment(appointment_id)


def _choose(state: ConversationState, message: FlowInput, ctx: StepContext) -> StepResult | None:
    assert ctx.resident is not None
    appointments = ctx.resident.appointments
    key = pick(message, words.choose_visit(appointments, doing="call off").options)
    if key is None:
        return None
    return FLOW.ask(
        state.goto(CancelState.CONFIRM, appointment_id=appointments[int(key) - 1].id), ctx
    )


def _confirm(state: ConversationState, message: FlowInput, ctx: StepContext) -> StepResult | None:
    appointment = _visit(state, ctx)
    if appointment is None or appointment.status != "booked":
        # Called off by staff or done since we asked: a finished visit is never reopened.
        return StepResult(state.goto(CancelState.DONE), (NOT_BOOKED,))
    answer = yes_no(message)
    if answer is None:
        return None
    if not answer:
        return StepResult(state.goto(CancelState.DONE), (words.kept(appointment),))
    cancel = CancelVisit(appointment_id=appointment.id, version=appointment.version)
    done = state.goto(CancelState.DONE, menu=[["1", "Book a new time", "book", appointment.job.id]])
    return StepResult(done, (words.cancelled(appointment),), (cancel,))


FLOW = Flow(
    name="cancel",
    states=CancelState,
    handlers={CancelState.CHOOSE_VISIT: _choose, CancelState.CONFIRM: _confirm},
    prompts={
        CancelState.CHOOSE_VISIT: lambda s, c: words.choose_visit(
            c.resident.appointments if c.resident else (), doing="call off"
        ),
        CancelState.CONFIRM: lambda s, c: words.confirm_cancel(_required(s, c)),
    },
    start=CancelState.CHOOSE_VISIT,
    end=CancelState.DONE,
    timeout=timedelta(hours=24),
)


def _required(state: ConversationState, ctx: StepContext) -> AppointmentView:
    appointment = _visit(state, ctx)
    assert appointment is not None
    return appointment


def start(ctx: StepContext, *, appointment_id: int | None = None) -> StepResult:
    resident = ctx.resident
    assert resident is not None
    appointments = resident.appointments
    if appointment_id is not None:
        appointments = tuple(a for a in appointments if a.id == appointment_id)
    if not appointments:
        return StepResult(
            FLOW.enter(ctx.now, CancelState.DONE), (words.no_visit_to_change(resident),)
        )
    if len(appointments) > 1:
        return FLOW.ask(FLOW.enter(ctx.now, CancelState.CHOOSE_VISIT), ctx)
    return FLOW.ask(
        FLOW.enter(ctx.now, CancelState.CONFIRM, appointment_id=appointments[0].id), ctx
    )

"""Conversations declared as data, and the one pure step function that runs them.

The idea is python-telegram-bot's ConversationHandler, made channel-neutral and stored
in the database: each flow names its states (a StrEnum), a handler and a prompt per
state, a timeout and an explicit end. A handler returns None when it did not
understand; the engine then asks again once, and on a second miss lets the message be
routed afresh, so a resident is never stuck in a loop. An unknown stored state is
logged loudly and the conversation restarted rather than crashing, because state can
outlive a deploy that renamed it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from flows.actions import Action
from flows.context import FlowInput, StepContext
from flows.messages import Reply

log = logging.getLogger(__name__)

IDLE_FLOW = "idle"
START_STATE = "start"


@dataclass(frozen=True, slots=True)
class ConversationState:
    flow: str = IDLE_FLOW
    state: str = START_STATE
    data: Mapping[str, Any] = field(default_factory=dict)
    expires_at: datetime | None = None

    def with_data(self, **changes: Any) -> ConversationState:
        return replace(self, data={**self.data, **changes})

    def goto(self, state: str, **changes: Any) -> ConversationState:
        data = {k: v for k, v in {**self.data, **changes}.items() if k != "missed"}
        return replace(self, state=state, data=data)


IDLE = ConversationState()


@dataclass(frozen=True, slots=True)
class StepResult:
    state: ConversationState
    replies: tuple[Reply, ...] = ()
    actions: tuple[Action, ...] = ()
    #: Ask the service to apply the actions and step again with their outcomes.
    follow_up: bool = False


Handler = Callable[[ConversationState, FlowInput, StepContext], StepResult | None]
Prompt = Callable[[ConversationState, StepContext], Reply]
Router = Callable[[ConversationState, FlowInput, StepContext], StepResult]


@dataclass(frozen=True, slots=True)
class Flow:
    name: str
    states: type[StrEnum]
    handlers: Mapping[str, Handler]
    prompts: Mapping[str, Prompt]
    start: str
    end: str
    timeout: timedelta | None = None
    #: Run when the flow times out, e.g. to put an unbooked job on the staff list.
    on_timeout: str | None = None

    def __post_init__(self) -> None:
        names = {s.value for s in self.states}
        missing = names - set(self.handlers) - {self.end}
        unknown = (set(self.handlers) | set(self.prompts)) - names
        if missing or unknown or self.start not in names or self.end not in names:
            raise ValueError(
                f"flow {self.name!r} is inconsistent: no handler for {sorted(missing)}, "
                f"handlers or prompts for unknown states {sorted(unknown)}"
            )

    def enter(self, now: datetime, state: str | None = None, **data: Any) -> ConversationState:
        expires = now + self.timeout if self.timeout else None
        return ConversationState(self.name, state or self.start, dict(data), expires)

    def prompt(self, state: ConversationState, ctx: StepContext) -> Reply | None:
        prompt = self.prompts.get(state.state)
        return prompt(state, ctx) if prompt else None

    def ask(self, state: ConversationState, ctx: StepContext, *lead: Reply) -> StepResult:
        """Move to `state` and ask its question, after any leading replies."""
        question = self.prompt(state, ctx)
        replies = (*lead, question) if question else lead
        return StepResult(state, replies)


SORRY_UNCLEAR = "Sorry, I did not follow that."


@dataclass(frozen=True, slots=True)
class FlowRegistry:
    """The flows a service runs, passed explicitly (no module-level registry).

    `interrupt` runs first on every message (emergencies, carrier keywords, pauses);
    `idle` routes messages when no flow is running.
    """

    flows: Mapping[str, Flow]
    idle: Router
    interrupt: Callable[[ConversationState, FlowInput, StepContext], StepResult | None] = (
        lambda _s, _m, _c: None
    )

    def step(self, state: ConversationState, message: FlowInput, ctx: StepContext) -> StepResult:
        if state.expires_at is not None and ctx.now >= state.expires_at and state.flow != IDLE_FLOW:
            state = IDLE
        if not message.is_follow_up:
            interrupted = self.interrupt(state, message, ctx)
            if interrupted is not None:
                return self._settle(interrupted)
        if state.flow == IDLE_FLOW:
            return self._settle(self.idle(state, message, ctx))
        flow = self.flows.get(state.flow)
        handler = flow.handlers.get(state.state) if flow else None
        if flow is None or handler is None:
            log.warning(
                "unknown conversation state %s/%s; restarting the conversation",
                state.flow,
                state.state,
            )
            return self._settle(self.idle(IDLE, message, ctx))
        result = handler(state, message, ctx)
        if result is None:
            if state.data.get("missed"):
                # Second miss: maybe they changed the subject. Route it afresh.
                return self._settle(self.idle(IDLE, message, ctx))
            again = state.with_data(missed=True)
            question = flow.prompt(again, ctx)
            text = f"{SORRY_UNCLEAR} {question.text}" if question else SORRY_UNCLEAR
            options = question.options if question else ()
            return StepResult(again, (Reply(text, options),))
        return self._settle(result)

    def _settle(self, result: StepResult) -> StepResult:
        """A flow that reached its end hands back to idle, keeping the menu it offered."""
        flow = self.flows.get(result.state.flow)
        if flow is not None and result.state.state == flow.end:
            return replace(result, state=IDLE.with_data(**_carry(result.state)))
        return result


def _carry(state: ConversationState) -> dict[str, Any]:
    """What a finished flow leaves for the idle router: the menu it just offered."""
    menu = state.data.get("menu")
    return {"menu": menu} if menu else {}

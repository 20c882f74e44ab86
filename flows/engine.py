"""Conversations declared as data, and the one pure step function that runs them.

The idea is python-telegram-bot's ConversationHandler, made channel-neutral and stored
in the database: each flow names its states (a StrEnum), a handler per state, a timeout
and an explicit end. An unknown stored state is logged loudly and the conversation is
restarted rather than crashing, because state can outlive a deploy that renamed it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from flows.context import Inbound, StepContext
from flows.messages import Action, Reply

log = logging.getLogger(__name__)

IDLE_FLOW = "idle"
START_STATE = "start"


@dataclass(frozen=True, slots=True)
class ConversationState:
    flow: str = IDLE_FLOW
    state: str = START_STATE
    data: Mapping[str, Any] = field(default_factory=dict)
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StepResult:
    state: ConversationState
    replies: tuple[Reply, ...] = ()
    actions: tuple[Action, ...] = ()


Handler = Callable[[ConversationState, Inbound, StepContext], StepResult]


@dataclass(frozen=True, slots=True)
class Flow:
    name: str
    states: type[StrEnum]
    handlers: Mapping[str, Handler]
    start: str
    end: str
    timeout: timedelta | None = None

    def __post_init__(self) -> None:
        names = {s.value for s in self.states}
        missing = names - set(self.handlers) - {self.end}
        unknown = set(self.handlers) - names
        if missing or unknown or self.start not in names or self.end not in names:
            raise ValueError(
                f"flow {self.name!r} is inconsistent: no handler for {sorted(missing)}, "
                f"handlers for unknown states {sorted(unknown)}"
            )

    def enter(self, data: Mapping[str, Any], now: datetime) -> ConversationState:
        expires = now + self.timeout if self.timeout else None
        return ConversationState(self.name, self.start, dict(data), expires)


@dataclass(frozen=True, slots=True)
class FlowRegistry:
    """The flows a service runs, passed explicitly (no module-level registry)."""

    flows: Mapping[str, Flow]
    idle: Handler

    def step(self, state: ConversationState, message: Inbound, ctx: StepContext) -> StepResult:
        if state.expires_at is not None and ctx.now >= state.expires_at:
            state = ConversationState()
        if state.flow == IDLE_FLOW:
            return self.idle(state, message, ctx)
        flow = self.flows.get(state.flow)
        handler = flow.handlers.get(state.state) if flow else None
        if flow is None or handler is None:
            log.warning(
                "unknown conversation state %s/%s; restarting the conversation",
                state.flow,
                state.state,
            )
            return self.idle(ConversationState(), message, ctx)
        result = handler(state, message, ctx)
        if result.state.flow == flow.name and result.state.state == flow.end:
            return replace(result, state=ConversationState())
        return result

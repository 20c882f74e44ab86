"""The flows this service runs."""

from __future__ import annotations

from flows.engine import FlowRegistry
from flows.idle import idle_step


def default_flows() -> FlowRegistry:
    return FlowRegistry(flows={}, idle=idle_step)

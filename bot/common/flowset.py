"""The flows this service runs."""

from __future__ import annotations

from flows import access, booking, cancel, complaint, door, feedback
from flows.engine import FlowRegistry
from flows.router import interrupt, route


def default_flows() -> FlowRegistry:
    flows = (booking.FLOW, cancel.FLOW, access.FLOW, door.FLOW, feedback.FLOW, complaint.FLOW)
    return FlowRegistry(flows={f.name: f for f in flows}, idle=route, interrupt=interrupt)

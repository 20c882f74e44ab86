"""The contact policy: whether, and when, a message may reach a resident.

Pure domain rules (DESIGN.md "Contact policy"); see docs/contact-policy.md.
"""

from __future__ import annotations

from flows.policy.caps import CapCheck, caps_clear_at
from flows.policy.decide import Candidate, Purpose, PurposeState, Recipient, Verdict, decide
from flows.policy.hours import (
    allowed_spans,
    hours_reason,
    is_bank_holiday,
    is_sunday_rules_day,
    next_allowed,
)
from flows.policy.reasons import Reason
from flows.policy.rules import DEFAULT_HOURS, QUIET_BAND, ContactRules, Span

__all__ = [
    "DEFAULT_HOURS",
    "QUIET_BAND",
    "Candidate",
    "CapCheck",
    "ContactRules",
    "Purpose",
    "PurposeState",
    "Reason",
    "Recipient",
    "Span",
    "Verdict",
    "allowed_spans",
    "caps_clear_at",
    "decide",
    "hours_reason",
    "is_bank_holiday",
    "is_sunday_rules_day",
    "next_allowed",
]

"""The domain changes a flow can ask for. The service applies them in the same transaction
as the conversation state, so a reply is never sent for a change that did not happen."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from flows.messages import Action


class Do(StrEnum):
    BOOK = "book"  # job_id, day, window -> outcome booked=<appointment id> | taken
    REBOOK = "rebook"  # appointment_id, version, day, window -> booked | taken | stale
    CANCEL = "cancel"  # appointment_id, version -> cancelled | stale
    RECORD_NEED = "record_need"  # category, own_words, consent, replace_all
    CONFIRM_NEEDS = "confirm_needs"  # the resident said their needs are still right
    OPT_OUT = "opt_out"  # channel
    OPT_IN = "opt_in"  # channel
    TASK = "task"  # kind, summary, urgent, appointment_id
    EVENT = "event"  # appointment_id, kind, data
    CODE_ATTEMPT = "code_attempt"  # appointment_id, matched
    REPAIR_REQUEST = "repair_request"  # description, priority
    FEEDBACK = "feedback"  # appointment_id, fields..., complete
    COMPLAINT = "complaint"  # text, appointment_id -> complaint_id
    PAUSE = "pause"  # hand the conversation to a person
    NOTIFY = "notify"  # channel, text, kind: a message to the resident on another channel
    NOTIFY_NOMINEE = "notify_nominee"  # appointment_id, text


def act(what: Do, /, **data: Any) -> Action:
    return Action(what.value, data)

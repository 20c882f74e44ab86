"""What flows say: replies and options, channel-neutral values (what they do: flows/actions.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Option:
    """A choice the resident can make by number on SMS or by button on Telegram."""

    key: str
    label: str


#: The outbox kind of an ordinary reply to the resident's message.
REPLY_KIND = "reply"
#: The reply confirming an opt-out the resident asked for in words ("please stop texting
#: me"). The opt-out is recorded before it goes, and it is the one message the contact
#: policy lets through an opt-out (flows/policy/decide.py): the resident must know it worked.
OPT_OUT_CONFIRMATION = "opt_out_confirmation"


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    options: tuple[Option, ...] = ()
    #: A picture the channel may show (Telegram photo); SMS gets `photo_link` in the text.
    photo_path: str | None = None
    #: The outbox kind it is queued as (`REPLY_KIND`, or `OPT_OUT_CONFIRMATION`).
    kind: str = REPLY_KIND

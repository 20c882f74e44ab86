"""What a reply looks like as a text message.

SMS has no buttons, so options become numbered lines ("1 Change the time") that the
flows already understand when the resident answers "1". One curly quote or long dash
(pasted by staff, or typed by a phone's autocorrect into a name) would switch the whole
message to UCS-2 and more than double its cost, so typographic punctuation is
straightened whenever that is what keeps the message in GSM-7. When something else in
the text (Siân, Zoë) needs UCS-2 anyway, the text is left exactly as written.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from flows.messages import Option, Reply
from flows.sms import MAX_SEGMENTS, TYPOGRAPHIC, SmsCost, is_gsm7, sms_cost

log = logging.getLogger(__name__)

#: Typographic characters with a plain GSM-7 equivalent, and spaces phones type.
_STRAIGHTEN = str.maketrans(
    {
        **TYPOGRAPHIC,
        "\u00a0": " ",  # non-breaking space
        "\u2009": " ",  # thin space
        "\u202f": " ",
        "\u200b": "",  # zero-width space
    }
)


@dataclass(frozen=True, slots=True)
class SmsBody:
    """The exact text handed to Twilio and what it will cost."""

    text: str
    cost: SmsCost

    @property
    def segments(self) -> int:
        return self.cost.segments


def render_sms(text: str, options: Iterable[Option] = ()) -> SmsBody:
    """The text, then one line per option, kept in GSM-7 whenever the content allows."""
    lines = [text.strip(), *(f"{option.key} {option.label}" for option in options)]
    body = "\n".join(line for line in lines if line)
    straight = body.translate(_STRAIGHTEN)
    if straight != body and is_gsm7(straight):
        body = straight
    cost = sms_cost(body)
    if cost.segments > MAX_SEGMENTS:
        log.warning(
            "SMS of %s segments (%s, %s units); templates should stay within %s",
            cost.segments,
            cost.encoding,
            cost.units,
            MAX_SEGMENTS,
        )
    return SmsBody(body, cost)


def render_reply(reply: Reply) -> SmsBody:
    """A flow's reply as SMS; a photo is already a link in the text, so it is left out."""
    return render_sms(reply.text, reply.options)

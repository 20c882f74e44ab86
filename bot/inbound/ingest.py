"""The one way a message from outside is stored: `ingest`.

Every adapter (the SMS and Telegram webhooks, the operatives' desk, the simulator through
the pipeline) hands its InboundMessage here with a Disposition. The message is stored
unique on its channel id (a second delivery stores nothing and returns None), with any
character no database can hold (NUL, a lone UTF-16 surrogate) shown as U+FFFD, and the
disposition is recorded with it in the same write:

* answered ones are stored unprocessed, for the pipeline; Twilio's OptOutType STOP/START
  is mirrored into the resident's record (storage.repositories.reachability);
* the rest are stored for the record, marked processed, with the intent staff see
  (`rate_limited`, `telegram_link`, `operative`; none for a number we never answer).

Given the Database, the usual message (Disposition.ANSWER) is one autocommitted
`INSERT ... ON CONFLICT DO NOTHING` (`Database.write_now`), the cheapest durable write
there is, and everything else one short transaction. Given a Session, it writes in the
caller's transaction (Telegram linking, the operatives' desk), which commits it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace

from sqlalchemy import Connection
from sqlmodel import Session

from bot.common.events import Disposition, InboundMessage
from bot.inbound.ratelimit import RATE_LIMITED_INTENT
from storage.db import Database
from storage.enums import Channel
from storage.models import Message
from storage.repositories import reachability
from storage.repositories.transcript import record_inbound

log = logging.getLogger(__name__)

#: The intent a message stored only for the record is given (None: no intent).
RECORD_ONLY_INTENTS: dict[Disposition, str | None] = {
    Disposition.RATE_LIMITED: RATE_LIMITED_INTENT,
    Disposition.UNANSWERED_NUMBER: None,
    Disposition.LINKING: "telegram_link",
    Disposition.OPERATIVE: "operative",
}

#: NUL (PostgreSQL text cannot hold it) and lone UTF-16 surrogates (not valid UTF-8, so no
#: database can) arrive in JSON from the simulator or Telegram, or in a garbled SMS.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(message: InboundMessage) -> InboundMessage:
    """The message with characters no database can store shown as U+FFFD, as a UTF-8
    decoder would: otherwise storing it fails, the channel retries and it is never
    answered. Everything else, including control characters and RTL marks, is kept as sent.
    """
    if _UNSTORABLE.search(message.text) is None:
        return message
    return replace(message, text=storable_text(message.text))


def storable_text(text: str) -> str:
    """`text` with NUL and lone surrogates shown as U+FFFD (see `storable`)."""
    return _UNSTORABLE.sub("\ufffd", text)


def ingest(
    into: Database | Session,
    message: InboundMessage,
    *,
    disposition: Disposition = Disposition.ANSWER,
) -> int | None:
    """Store `message` (cleaned) with its disposition; its id, or None for a repeat delivery.

    With the Database it is durable on return; with a Session, once the caller commits.
    """
    clean = storable(message)
    if isinstance(into, Database):
        if disposition is Disposition.ANSWER:
            stored = into.write_now(lambda connection: _insert(connection, clean))
        else:
            with into.session() as session:
                stored = _ingest(session, clean, disposition)
    else:
        stored = _ingest(into, clean, disposition)
    if stored is None:
        log.info("duplicate delivery ignored", extra={"channel": clean.channel.value})
    return stored


def _insert(target: Session | Connection, message: InboundMessage) -> int | None:
    return record_inbound(
        target,
        channel=message.channel,
        address=message.address,
        text=message.text,
        channel_message_id=message.channel_message_id,
        at=message.received_at,
    )


def _ingest(session: Session, message: InboundMessage, disposition: Disposition) -> int | None:
    message_id = _insert(session, message)
    if message_id is None:
        return None
    if disposition in RECORD_ONLY_INTENTS:
        stored = session.get(Message, message_id)
        if stored is not None:
            stored.processed_at = message.received_at
            stored.intent = RECORD_ONLY_INTENTS[disposition]
            session.add(stored)
        if disposition is Disposition.UNANSWERED_NUMBER:
            log.info("text from a number we do not answer stored id=%s", message_id)
    elif disposition in (Disposition.CARRIER_STOP, Disposition.CARRIER_START):
        _mirror_opt_out(session, message, opted_out=disposition is Disposition.CARRIER_STOP)
    return message_id


def _mirror_opt_out(session: Session, message: InboundMessage, *, opted_out: bool) -> None:
    """Twilio applied STOP/START itself (keywords configured on the Messaging Service that
    our flows would not recognise): the resident's record says so, in the same write."""
    resident = reachability.resident_for_mobile(session, mobile=message.address)
    if resident is None or resident.id is None:
        return
    if opted_out:
        reachability.record_opt_out(
            session, resident_id=resident.id, channel=Channel.SMS, at=message.received_at
        )
    else:
        reachability.record_opt_in(
            session, resident_id=resident.id, channel=Channel.SMS, at=message.received_at
        )

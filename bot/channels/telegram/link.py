"""Linking a resident's Telegram account to their record, and nothing for anyone else.

Two ways, both proving the person controls the resident's mobile:

* a deep link `https://t.me/<bot>?start=<token>` sent by SMS to that mobile; the token
  is single use, lives 24 hours and only its hash is stored;
* sharing their own contact with Telegram's request-contact button: Telegram vouches for
  the phone number of the account that shares it, but only when the contact's user id is
  the sender's own (anyone can forward someone else's contact card).

A Telegram user we cannot link is told how to link and learns nothing about anyone: every
failure reads the same whether or not a resident has that number.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session
from telegram import KeyboardButton, ReplyKeyboardMarkup

from storage.enums import Channel
from storage.models import AuditEvent, LinkToken, Resident
from storage.phones import PhoneNumberError, normalise_uk_mobile
from storage.repositories import link_tokens, reachability, suppressions
from storage.repositories.outbox import enqueue
from storage.repositories.people import primary_landlord, resident_by_address

log = logging.getLogger(__name__)

TOKEN_TTL = timedelta(hours=24)
#: What Telegram allows in a deep link's start parameter.
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
SHARE_BUTTON = "Share my phone number"
PLEASE_SHARE_OWN = (
    "Please share your own contact: press the 'Share my phone number' button below, "
    "rather than sending someone else's details."
)
LINK_EXPIRED = (
    "Sorry, that link has expired or was already used. Press 'Share my phone number' "
    "below to link this Telegram account instead, or ask us for a new link."
)


class LinkStatus(StrEnum):
    LINKED = "linked"
    #: The token is unknown, used or past its time.
    BAD_TOKEN = "bad_token"
    #: No resident could be matched; deliberately the same answer as "no such number".
    NOT_FOUND = "not_found"
    #: This Telegram account is already linked to a different resident.
    TAKEN = "taken"


@dataclass(frozen=True, slots=True)
class LinkOutcome:
    status: LinkStatus
    resident_id: int | None = None
    first_name: str | None = None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_token_shaped(token: str) -> bool:
    return 16 <= len(token) <= 64 and set(token) <= _TOKEN_CHARS


def deep_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username.lstrip('@')}?start={token}"


def create_link_token(session: Session, *, resident_id: int, now: datetime) -> str:
    """A fresh one-time token for this resident; only its hash is kept."""
    token = secrets.token_urlsafe(24)  # 32 characters from Telegram's allowed set
    session.add(
        LinkToken(
            resident_id=resident_id,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=now + TOKEN_TTL,
        )
    )
    session.flush()
    return token


def offer_telegram_link(
    session: Session, resident: Resident, now: datetime, *, bot_username: str
) -> int | None:
    """Text the resident a one-time link to connect Telegram; returns the outbox id.

    None when the resident has no mobile to send it to. The SMS goes through the outbox
    like everything else, so the contact policy and opt-outs apply to it.
    """
    if resident.id is None or not resident.mobile:
        return None
    token = create_link_token(session, resident_id=resident.id, now=now)
    landlord = primary_landlord(session)
    sender = landlord.name if landlord else "Doorstep"
    text = (
        f"{sender}: to get your repair messages on Telegram, open this link on your phone: "
        f"{deep_link(bot_username, token)} It works once, for 24 hours."
    )
    return enqueue(
        session,
        key=f"telegram_link:{resident.id}:{hash_token(token)[:16]}",
        kind="telegram_link",
        purpose="conversation",
        text=text,
        not_before=now,
        now=now,
        channel=Channel.SMS,
        address=resident.mobile,
        resident_id=resident.id,
        expires_at=now + TOKEN_TTL,
    )


def link_by_token(session: Session, *, token: str, telegram_id: int, now: datetime) -> LinkOutcome:
    """Redeem a deep-link token: single use, and only before it expires."""
    if not is_token_shaped(token):
        return LinkOutcome(LinkStatus.BAD_TOKEN)
    row = link_tokens.token_for_update(session, token_hash=hash_token(token))
    if row is None or row.used_at is not None or row.expires_at <= now:
        return LinkOutcome(LinkStatus.BAD_TOKEN)
    resident = session.get(Resident, row.resident_id)
    if resident is None:
        return LinkOutcome(LinkStatus.BAD_TOKEN)
    outcome = _link(session, resident, telegram_id=telegram_id, now=now, method="deep_link")
    if outcome.status == LinkStatus.LINKED:
        row.used_at = now
        row.used_by_telegram_id = telegram_id
        session.add(row)
    return outcome


def link_by_contact(
    session: Session, *, phone: str, telegram_id: int, now: datetime
) -> LinkOutcome:
    """Link by the phone number Telegram vouches for (the caller checked it is their own)."""
    try:
        mobile = normalise_uk_mobile(phone if phone.startswith(("+", "0")) else f"+{phone}")
    except PhoneNumberError:
        return LinkOutcome(LinkStatus.NOT_FOUND)
    resident = resident_by_address(session, channel=Channel.SMS, address=mobile)
    if resident is None:
        return LinkOutcome(LinkStatus.NOT_FOUND)
    return _link(session, resident, telegram_id=telegram_id, now=now, method="shared_contact")


def _link(
    session: Session, resident: Resident, *, telegram_id: int, now: datetime, method: str
) -> LinkOutcome:
    holder = resident_by_address(session, channel=Channel.TELEGRAM, address=str(telegram_id))
    if holder is not None and holder.id != resident.id:
        return LinkOutcome(LinkStatus.TAKEN)
    previous = resident.telegram_id
    resident.telegram_id = telegram_id
    # They are talking to the bot now, so it is not blocked; an opt-out stays until they
    # opt back in, because linking is not consent to service messages.
    if resident.id is not None:
        reachability.clear_unreachable(session, resident_id=resident.id, channel=Channel.TELEGRAM)
    # A Telegram account that opted out before its earlier resident was anonymised
    # (retention, docs/retention.md) stays opted out on this record too.
    kept = suppressions.suppressed(
        session, channel=Channel.TELEGRAM, addresses=[str(telegram_id)]
    ).get(str(telegram_id))
    if kept is not None and resident.telegram_opted_out_at is None:
        resident.telegram_opted_out_at = kept
    resident.preferred_channel = Channel.TELEGRAM
    session.add(resident)
    session.add(
        AuditEvent(
            at=now,
            actor=f"telegram:{telegram_id}",
            action="telegram_linked",
            subject_type="resident",
            subject_id=resident.id,
            detail={"method": method, "previous_telegram_id": previous},
        )
    )
    session.flush()
    log.info("telegram account linked resident=%s method=%s", resident.id, method)
    return LinkOutcome(LinkStatus.LINKED, resident.id, resident.name.split()[0])


def linked_text(first_name: str | None) -> str:
    name = f", {first_name}" if first_name else ""
    return (
        f"Thanks{name}: this Telegram account is now linked to your repairs. "
        "Message me here any time, for example 'book a visit' or 'who is coming?'."
    )


def how_to_link_text(session: Session) -> str:
    """For a Telegram user we do not know: how to link, and the landlord's public number."""
    landlord = primary_landlord(session)
    call = f" If you have not had a link from us, call {landlord.phone}." if landlord else ""
    return (
        "Hello. I do not know this Telegram account yet. To get your repair messages here, "
        "open the link we sent you by text, or press 'Share my phone number' below so I can "
        f"match it to your tenancy.{call}"
    )


def not_found_text(session: Session) -> str:
    landlord = primary_landlord(session)
    call = f"call {landlord.phone}" if landlord else "call us"
    return (
        "Sorry, I could not link this Telegram account with that number. To get your repair "
        f"messages here, {call} and ask for a Telegram link."
    )


def share_contact_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton(SHARE_BUTTON, request_contact=True)]],
        one_time_keyboard=True,
        resize_keyboard=True,
    )

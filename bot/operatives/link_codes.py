"""One-time codes that link an operative's Telegram account, issued by staff.

Staff see the code once; only a hash and an expiry are stored (`Operative.link_code_hash`,
`v1$<expires unix time>$<sha256 hex>`). 10 characters from a 32-symbol alphabet without
look-alikes (no 0/O, 1/I/L) give 50 bits: far beyond guessing within the 72 hours a code
lives, with the Telegram side limiting attempts as well. Issuing a new code replaces the
old one. The Telegram channel calls `find_operative` and then `consume`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from storage.models import Operative
from storage.repositories.operatives import with_outstanding_link_code

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 10
VALID_FOR = timedelta(hours=72)
_VERSION = "v1"


def new_code() -> str:
    """Shown as two groups of five (ABCDE-FGHJK) so it can be read out and typed."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalise(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _digest(code: str) -> str:
    return hashlib.sha256(f"doorstep.operative-link:{normalise(code)}".encode()).hexdigest()


def stored_form(code: str, *, now: datetime) -> str:
    expires = int((now + VALID_FOR).timestamp())
    return f"{_VERSION}${expires}${_digest(code)}"


def matches(code: str, stored: str | None, *, now: datetime) -> bool:
    """Constant-time; an expired or malformed stored value never matches."""
    if not stored or len(normalise(code)) != LENGTH:
        return False
    try:
        version, expires, digest = stored.split("$")
        expired = now.timestamp() > int(expires)
    except ValueError:
        return False
    if version != _VERSION or expired:
        return False
    return hmac.compare_digest(_digest(code), digest)


def expires_at(stored: str | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(str(stored).split("$")[1]), tz=UTC)
    except (IndexError, ValueError):
        return None


def issue(session: Session, operative: Operative, *, now: datetime) -> str:
    """Store a new code's hash on the operative and return the code (shown once)."""
    code = new_code()
    operative.link_code_hash = stored_form(code, now=now)
    session.add(operative)
    return code


def find_operative(session: Session, code: str, *, now: datetime) -> Operative | None:
    """The active operative whose outstanding code this is, if any."""
    for operative in with_outstanding_link_code(session):
        if matches(code, operative.link_code_hash, now=now):
            return operative
    return None


def consume(session: Session, operative: Operative, *, telegram_id: int) -> None:
    """Link the account and spend the code: it cannot be used twice."""
    operative.telegram_id = telegram_id
    operative.link_code_hash = None
    session.add(operative)

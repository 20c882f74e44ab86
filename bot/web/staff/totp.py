"""Two-factor sign-in with time-based one-time codes (RFC 6238, via pyotp).

Six digits every 30 seconds from a shared secret in the staff member's authenticator app.
A code is accepted one step either side of now (clocks drift), and never twice: the step
of the last accepted code is stored and only later steps pass, so a code read over a
shoulder or from a proxy log cannot be replayed, not even within its 30 seconds.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

import pyotp

ISSUER = "Doorstep"
DIGITS = 6
#: Steps either side of now that are accepted.
WINDOW = 1


@dataclass(frozen=True, slots=True)
class Enrolment:
    """What the enrolment page shows: the secret to type, and the URI an app can scan."""

    secret: str
    uri: str

    @property
    def grouped(self) -> str:
        """The secret in groups of four, easier to type into a phone."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


def new_secret() -> str:
    """160 random bits, base32 (what authenticator apps expect)."""
    return pyotp.random_base32(length=32)


def enrolment(secret: str, *, email: str) -> Enrolment:
    uri = pyotp.TOTP(secret, digits=DIGITS).provisioning_uri(name=email, issuer_name=ISSUER)
    return Enrolment(secret=secret, uri=uri)


def valid_secret(secret: str) -> bool:
    try:
        pyotp.TOTP(secret).timecode(0)
        pyotp.TOTP(secret).generate_otp(0)
    except (ValueError, TypeError):
        return False
    return 16 <= len(secret) <= 64


def accepted_step(secret: str, code: str, *, now: datetime, last_step: int | None) -> int | None:
    """The step the code belongs to if it is right and newer than `last_step`, else None."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS)
    current = totp.timecode(now)
    found: int | None = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        # Check every step (no early exit): the time taken does not say which one matched.
        if hmac.compare_digest(totp.generate_otp(step), code) and found is None:
            found = step
    if found is None or (last_step is not None and found <= last_step):
        return None
    return found


def code_at(secret: str, moment: datetime) -> str:
    """The code an authenticator app shows at that moment (tests, and the CLI's self-check)."""
    totp = pyotp.TOTP(secret, digits=DIGITS)
    return totp.generate_otp(totp.timecode(moment))

"""How Doorstep signs the webhooks it sends a landlord's system (issue 14), and how a
receiver checks them. Pure: no I/O, no clock of its own.

The scheme
----------
Every delivery is an HTTP POST of one event as JSON (`Content-Type: application/json`;
the body is the same envelope `GET /api/v1/events` gives: `id`, `type`, `occurred_at`,
`landlord`, `job`, `data`) with these headers:

- `Doorstep-Signature: t=<unix seconds>,v1=<hex>` where `<hex>` is the lower-case hex
  HMAC-SHA256, keyed with the subscription's secret (the whole string, `whsec_...`, as
  UTF-8), of the bytes `f"{t}.".encode() + body`: the timestamp, a full stop, then the
  raw body exactly as received (check it before parsing the JSON).
- `Doorstep-Event-Id`: the event's id (the same as the body's `id`); at-least-once
  delivery means an event can arrive twice, so a receiver ignores ids it has seen.
- `Doorstep-Event-Type`: the event's type, e.g. `appointment.booked`.
- `Doorstep-Delivery-Attempt`: 1 for the first try, 2 for the second, ...

A receiver refuses a signature whose timestamp is more than five minutes away from its
own clock (a replay), and compares the signature in constant time. More than one `v1=`
may be given (while a secret is rotated); any one matching is enough.

A receiver in ten lines (Python, mirrors `verify` below)::

    import hashlib, hmac, time

    def verify(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
        parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
        t = next((v for k, v in parts if k.strip() == "t"), "")
        if not t.isdigit() or abs(time.time() - int(t)) > tolerance:
            return False
        mac = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256)
        return any(k.strip() == "v1" and hmac.compare_digest(v, mac.hexdigest())
                   for k, v in parts)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

SIGNATURE_HEADER: Final = "Doorstep-Signature"
EVENT_ID_HEADER: Final = "Doorstep-Event-Id"
EVENT_TYPE_HEADER: Final = "Doorstep-Event-Type"
ATTEMPT_HEADER: Final = "Doorstep-Delivery-Attempt"
#: Signatures older (or newer) than this many seconds are refused: a replay.
TOLERANCE_SECONDS: Final = 300
SECRET_PREFIX: Final = "whsec_"


def new_secret() -> str:
    """A subscription's signing secret: shown once, when the subscription is made."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, *, timestamp: int) -> str:
    """The `Doorstep-Signature` header's value for this body at this unix time."""
    return f"t={timestamp},v1={_mac(secret, timestamp, body)}"


def verify(
    secret: str,
    header: str,
    body: bytes,
    *,
    now: float,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """True when `header` signs `body` with `secret` and its timestamp is within
    `tolerance` seconds of `now` (unix seconds)."""
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamp = next((v.strip() for k, v in parts if k.strip() == "t"), "")
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        return False
    timestamp = int(stamp)
    if abs(now - timestamp) > tolerance:
        return False
    expected = _mac(secret, timestamp, body)
    return any(
        k.strip() == "v1" and hmac.compare_digest(v.strip().encode(), expected.encode())
        for k, v in parts
    )

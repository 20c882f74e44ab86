"""Expiring links to the page that shows who is coming (name, employer, badge, photo).

Signed rather than stored: the link carries the appointment id and version, so a link
for a rebooked or cancelled visit stops working, and it expires a day after the visit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from flows.clock import Clock
from storage.models import Appointment

VALID_AFTER_VISIT = timedelta(hours=24)


class PhotoLinkSigner:
    def __init__(self, secret: str, base_url: str, clock: Clock) -> None:
        self._serializer = URLSafeSerializer(secret, salt="doorstep.visit-photo")
        self._base = base_url.rstrip("/")
        self._clock = clock

    def link(self, appointment: Appointment) -> str | None:
        if appointment.id is None:
            return None
        expires = appointment.ends_at + VALID_AFTER_VISIT
        token = self._serializer.dumps([appointment.id, appointment.version, expires.timestamp()])
        return f"{self._base}/v/{token}"

    def read(self, token: str) -> tuple[int, int] | None:
        """(appointment id, version) if the token is genuine and not expired, else None."""
        try:
            appointment_id, version, expires = self._serializer.loads(token)
        except (BadSignature, ValueError, TypeError):
            return None
        if self._clock.now() > datetime.fromtimestamp(float(expires), tz=self._clock.now().tzinfo):
            return None
        return int(appointment_id), int(version)

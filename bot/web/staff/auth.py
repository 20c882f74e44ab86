"""Staff sign-in: signed session cookies, and a login rate limit kept in the audit log.

The session is a cookie signed with itsdangerous (not stored server-side), so any web
worker can check it. It carries the user id, the session's CSRF token, when it was issued
(by the injected clock) and a fingerprint of the password hash: changing a password or
deactivating an account ends every session at once, and sessions expire after
`SESSION_LIFETIME` whatever happens.

Failed sign-ins are AuditEvent rows, so the limit holds across workers and restarts and
the attempts are evidence in their own right.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlmodel import Session

from bot.web.staff.passwords import DUMMY_HASH, verify_password
from storage.enums import StaffRole
from storage.models import AuditEvent, StaffUser
from storage.repositories.audit_log import events_by_actor
from storage.repositories.staff_users import staff_user_by_email

COOKIE_NAME = "doorstep_staff"
COOKIE_PATH = "/staff"
SESSION_LIFETIME = timedelta(hours=8)
#: Five wrong passwords for one account from one address lock that pair for 15 minutes.
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)

ACTION_LOGIN = "staff.login"
ACTION_LOGIN_FAILED = "staff.login_failed"


@dataclass(frozen=True, slots=True)
class SessionData:
    """What the cookie holds; `user_id` is None before sign-in (the login form's CSRF)."""

    csrf: str
    issued_at: datetime
    user_id: int | None = None
    fingerprint: str = ""


def fingerprint(password_hash: str) -> str:
    """Changes whenever the password does, so old sessions stop working."""
    return hashlib.sha256(password_hash.encode("ascii")).hexdigest()[:16]


class SessionCodec:
    """Signs and reads session cookies; one per app, holding that app's secret."""

    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeSerializer(secret, salt="doorstep.staff-session")

    def dumps(self, data: SessionData) -> str:
        return str(
            self._serializer.dumps(
                {
                    "c": data.csrf,
                    "t": data.issued_at.timestamp(),
                    "u": data.user_id,
                    "f": data.fingerprint,
                }
            )
        )

    def loads(self, token: str | None, *, now: datetime) -> SessionData | None:
        """The session if the cookie is genuine and not expired, else None."""
        if not token:
            return None
        try:
            raw: Any = self._serializer.loads(token)
            issued = datetime.fromtimestamp(float(raw["t"]), tz=now.tzinfo)
            user_id = raw["u"]
            data = SessionData(
                csrf=str(raw["c"]),
                issued_at=issued,
                user_id=int(user_id) if user_id is not None else None,
                fingerprint=str(raw["f"]),
            )
        except (BadSignature, KeyError, TypeError, ValueError, OverflowError):
            return None
        if not (issued - timedelta(minutes=5) <= now <= issued + SESSION_LIFETIME):
            return None
        return data


def new_session(*, now: datetime, user: StaffUser | None = None) -> SessionData:
    """A fresh session with a fresh CSRF token (also on sign-in: no session fixation)."""
    return SessionData(
        csrf=secrets.token_urlsafe(32),
        issued_at=now,
        user_id=user.id if user else None,
        fingerprint=fingerprint(user.password_hash) if user else "",
    )


def session_user(session: Session, data: SessionData) -> StaffUser | None:
    """The signed-in user, if the account still exists, is active and kept its password."""
    if data.user_id is None:
        return None
    user = session.get(StaffUser, data.user_id)
    if user is None or not user.active:
        return None
    if not secrets.compare_digest(fingerprint(user.password_hash), data.fingerprint):
        return None
    return user


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: StaffUser | None
    locked_until: datetime | None = None


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _recent_failures(session: Session, *, email: str, ip: str, now: datetime) -> list[datetime]:
    """Failures for this account from this address since its last success, within LOCKOUT."""
    rows = events_by_actor(
        session, actor=email, actions=[ACTION_LOGIN, ACTION_LOGIN_FAILED], after=now - LOCKOUT
    )
    failures: list[datetime] = []
    for row in rows:
        if row.detail.get("ip") != ip:
            continue
        if row.action == ACTION_LOGIN:
            failures = []
        else:
            failures.append(row.at)
    return failures


def authenticate(
    session: Session, *, email: str, password: str, ip: str, now: datetime
) -> LoginResult:
    """Check a sign-in, record it, and refuse while the account+address pair is locked."""
    email = normalise_email(email)
    failures = _recent_failures(session, email=email, ip=ip, now=now)
    if len(failures) >= MAX_FAILURES:
        return LoginResult(user=None, locked_until=failures[-MAX_FAILURES] + LOCKOUT)
    user = staff_user_by_email(session, email=email)
    good = verify_password(password, user.password_hash if user else DUMMY_HASH)
    if user is not None and good and user.active:
        session.add(
            AuditEvent(
                at=now,
                actor=email,
                action=ACTION_LOGIN,
                subject_type="staff_user",
                subject_id=user.id,
                detail={"ip": ip},
            )
        )
        return LoginResult(user=user)
    session.add(
        AuditEvent(
            at=now,
            actor=email[:320],
            action=ACTION_LOGIN_FAILED,
            subject_type="staff_user",
            subject_id=user.id if user else None,
            detail={"ip": ip},
        )
    )
    failures.append(now)
    if len(failures) >= MAX_FAILURES:
        return LoginResult(user=None, locked_until=failures[-MAX_FAILURES] + LOCKOUT)
    return LoginResult(user=None)


def can_change(role: StaffRole) -> bool:
    """Viewers read; staff and admins act."""
    return role in (StaffRole.STAFF, StaffRole.ADMIN)

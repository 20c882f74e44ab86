"""Staff sign-in: server-side sessions, the sign-in checks and two-factor codes.

The browser's cookie holds one random token and nothing else. The session is a row in
`staff_sessions` found by the token's SHA-256, so signing out, changing a password or an
administrator's "sign out" revokes it at once (the old cookie leads to the sign-in page),
and every session ends `SESSION_LIFETIME` after it began whatever happens.

The CSRF token of a page is an HMAC of the cookie's token under the app's secret key: a
page on another site can make a browser send the cookie but cannot read it, so it cannot
make the form token. Before sign-in the cookie holds a random token with no row, which
gives the sign-in form its CSRF token the same way.

Sign-in attempts are limited by `login_limits` (back-off per account, address and pair);
each one is also an AuditEvent, evidence in its own right.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.web.staff import login_limits, totp
from bot.web.staff.passwords import DUMMY_HASH, verify_password
from storage.enums import StaffRole
from storage.models import AuditEvent, StaffSession, StaffUser
from storage.repositories.staff_sessions import revoke_sessions_of, session_by_token_hash
from storage.repositories.staff_users import staff_user_by_email

COOKIE_NAME = "doorstep_staff"
COOKIE_PATH = "/staff"
SESSION_LIFETIME = timedelta(hours=8)
#: Between a right password and the two-factor code.
CODE_LIFETIME = timedelta(minutes=5)
#: `last_seen_at` is written at most this often (not on every page).
SEEN_RESOLUTION = timedelta(minutes=1)

ACTION_LOGIN = "staff.login"
ACTION_LOGIN_FAILED = "staff.login_failed"


def new_token() -> str:
    """A fresh cookie token: 256 random bits."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def csrf_for(key: bytes, token: str) -> str:
    """The CSRF token that goes with this cookie token (no state: an HMAC)."""
    digest = hmac.new(key, b"staff-csrf\x00" + token.encode("utf-8", "replace"), "sha256")
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class LiveSession:
    """A session row that is in force, and its user."""

    row: StaffSession
    user: StaffUser

    @property
    def id(self) -> int:
        assert self.row.id is not None
        return self.row.id


def find_session(session: Session, *, token: str | None, now: datetime) -> LiveSession | None:
    """The session for this cookie token if it is live: not revoked, not expired, its user
    still active. A waiting-for-code session is live for `CODE_LIFETIME` only."""
    if not token or len(token) > 200:
        return None
    row = session_by_token_hash(session, token_hash=token_hash(token))
    if row is None or row.revoked_at is not None:
        return None
    lifetime = SESSION_LIFETIME if row.second_factor_done else CODE_LIFETIME
    if not (row.created_at - timedelta(minutes=5) <= now < row.created_at + lifetime):
        return None
    user = session.get(StaffUser, row.user_id)
    if user is None or not user.active:
        return None
    if now - row.last_seen_at >= SEEN_RESOLUTION:
        row.last_seen_at = now
        session.add(row)
    return LiveSession(row=row, user=user)


def open_session(
    session: Session,
    *,
    user: StaffUser,
    now: datetime,
    user_agent: str,
    ip: str,
    second_factor_done: bool,
) -> str:
    """A new session row; returns the token for the cookie (only its hash is stored)."""
    assert user.id is not None
    token = new_token()
    session.add(
        StaffSession(
            token_hash=token_hash(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            second_factor_done=second_factor_done,
            user_agent=user_agent[:300],
            ip=ip[:64],
        )
    )
    return token


def revoke(session: Session, row: StaffSession, *, now: datetime) -> None:
    if row.revoked_at is None:
        row.revoked_at = now
        session.add(row)


def revoke_all(session: Session, *, user_id: int, now: datetime) -> int:
    """Every live session of the user (password change, 2FA reset, an administrator)."""
    return revoke_sessions_of(session, user_id=user_id, now=now)


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: StaffUser | None
    #: Set when the attempt was refused unchecked: try again after this moment.
    retry_at: datetime | None = None

    @property
    def needs_code(self) -> bool:
        return self.user is not None and self.user.totp_secret is not None


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _audit(
    session: Session,
    *,
    action: str,
    email: str,
    user: StaffUser | None,
    now: datetime,
    **detail: str,
) -> None:
    session.add(
        AuditEvent(
            at=now,
            actor=email[:320],
            action=action,
            subject_type="staff_user",
            subject_id=user.id if user else None,
            detail=detail,
        )
    )


def authenticate(
    session: Session, *, email: str, password: str, ip: str, now: datetime
) -> LoginResult:
    """Check a password, within the limits. A right password for an account with two-factor
    sign-in is not yet a sign-in: `complete_with_code` finishes it."""
    email = normalise_email(email)
    wait = login_limits.retry_at(session, account=email, address=ip, now=now)
    if wait is not None:
        return LoginResult(user=None, retry_at=wait)
    user = staff_user_by_email(session, email=email)
    good = verify_password(password, user.password_hash if user else DUMMY_HASH)
    if user is not None and good and user.active:
        if user.totp_secret is None:
            login_limits.record_attempt(session, account=email, address=ip, now=now, succeeded=True)
            _audit(session, action=ACTION_LOGIN, email=email, user=user, now=now, ip=ip)
        return LoginResult(user=user)
    login_limits.record_attempt(session, account=email, address=ip, now=now, succeeded=False)
    _audit(session, action=ACTION_LOGIN_FAILED, email=email, user=user, now=now, ip=ip)
    return LoginResult(user=None)


def complete_with_code(
    session: Session, *, user: StaffUser, code: str, ip: str, now: datetime
) -> LoginResult:
    """The second step: the code from the authenticator app, within the same limits."""
    wait = login_limits.retry_at(session, account=user.email, address=ip, now=now)
    if wait is not None:
        return LoginResult(user=None, retry_at=wait)
    if user.totp_secret is not None and accept_code(user, code, now=now):
        session.add(user)
        login_limits.record_attempt(
            session, account=user.email, address=ip, now=now, succeeded=True
        )
        _audit(
            session, action=ACTION_LOGIN, email=user.email, user=user, now=now, ip=ip, factor="totp"
        )
        return LoginResult(user=user)
    login_limits.record_attempt(session, account=user.email, address=ip, now=now, succeeded=False)
    _audit(
        session,
        action=ACTION_LOGIN_FAILED,
        email=user.email,
        user=user,
        now=now,
        ip=ip,
        factor="totp",
    )
    return LoginResult(user=None)


def accept_code(user: StaffUser, code: str, *, now: datetime) -> bool:
    """True (and the code's step remembered, so it cannot be used again) if the code is right."""
    if user.totp_secret is None:
        return False
    step = totp.accepted_step(user.totp_secret, code, now=now, last_step=user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    return True


def can_change(role: StaffRole) -> bool:
    """Viewers read; staff and admins act."""
    return role in (StaffRole.STAFF, StaffRole.ADMIN)


def needs_enrolment(user: StaffUser) -> bool:
    """Administrators must use two-factor sign-in: without it they may only set it up."""
    return user.role == StaffRole.ADMIN and user.totp_secret is None

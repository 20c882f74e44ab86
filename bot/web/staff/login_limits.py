"""Sign-in limits: back-off per account, per address and per pair, never a hard lock-out.

Three counters of failed sign-ins (wrong password, or wrong two-factor code), each with a
number of free failures and then a delay that doubles with every further failure, up to a
cap, measured from the latest failure:

- **pair** (one account from one address): 5 free, then 1 s, 2 s, 4 s ... up to 15 minutes.
  A password storm against one account from one address slows that address to a crawl.
- **address** (every account from one address): 10 free, then doubling up to 15 minutes.
  Spraying one password across many accounts is slowed the same way.
- **account** (one account from every address): 20 free, then doubling up to 1 minute. It
  bounds a guesser with many addresses, but a storm from one address never reaches it
  (the pair limit stops that address first), and its short cap means the rightful user,
  signing in from their own address, waits a minute at most: no one can lock them out.

Pair and account counters restart at the account's last complete sign-in; failures older
than `WINDOW` are forgotten. A refused attempt (during a wait) checks no password and is
not counted, so hammering does not extend the wait.

The address is the TCP peer's: uvicorn rewrites it from `X-Forwarded-For` only when the
peer is one of `DOORSTEP_TRUSTED_PROXIES` (`proxy_options`), so a client cannot
pick a fresh address per request by sending the header itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from storage.models import StaffLoginAttempt
from storage.repositories.staff_sessions import failure_times, last_success

WINDOW = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class BackOff:
    """`free` failures cost nothing; each one after waits `base` x 2^(extra) up to `cap`."""

    free: int
    base: timedelta
    cap: timedelta

    def wait_until(self, failures: list[datetime]) -> datetime | None:
        if len(failures) < self.free:
            return None
        extra = len(failures) - self.free
        delay = self.cap if extra >= 30 else min(self.base * 2**extra, self.cap)
        return failures[-1] + delay


PAIR = BackOff(free=5, base=timedelta(seconds=1), cap=timedelta(minutes=15))
ADDRESS = BackOff(free=10, base=timedelta(seconds=1), cap=timedelta(minutes=15))
ACCOUNT = BackOff(free=20, base=timedelta(seconds=1), cap=timedelta(minutes=1))


def retry_at(session: Session, *, account: str, address: str, now: datetime) -> datetime | None:
    """When this account may be tried again from this address, if not now."""
    since = now - WINDOW
    succeeded = last_success(session, account=account, since=since)
    account_since = max(since, succeeded) if succeeded else since
    waits = [
        PAIR.wait_until(
            failure_times(session, since=account_since, account=account, address=address)
        ),
        ADDRESS.wait_until(failure_times(session, since=since, address=address)),
        ACCOUNT.wait_until(failure_times(session, since=account_since, account=account)),
    ]
    later = [moment for moment in waits if moment is not None and moment > now]
    return max(later) if later else None


def record_attempt(
    session: Session, *, account: str, address: str, now: datetime, succeeded: bool
) -> None:
    session.add(
        StaffLoginAttempt(at=now, account=account[:320], address=address[:64], succeeded=succeeded)
    )


def parse_trusted_proxies(value: str) -> list[str]:
    """`DOORSTEP_TRUSTED_PROXIES`: comma-separated addresses or networks; empty is none."""
    return [item.strip() for item in value.split(",") if item.strip()]


@dataclass(frozen=True, slots=True)
class ProxyOptions:
    """uvicorn's `proxy_headers` and `forwarded_allow_ips`."""

    proxy_headers: bool
    forwarded_allow_ips: list[str] | str


def proxy_options(trusted_proxies: str) -> ProxyOptions:
    """uvicorn's proxy settings for `doorstep serve`: forwarded headers from the listed
    proxies only. Left to itself uvicorn believes them from 127.0.0.1 (or from anyone, with
    FORWARDED_ALLOW_IPS=*), and a client could rotate X-Forwarded-For past the limits."""
    proxies = parse_trusted_proxies(trusted_proxies)
    if not proxies:
        return ProxyOptions(proxy_headers=False, forwarded_allow_ips="")
    return ProxyOptions(proxy_headers=True, forwarded_allow_ips=proxies)

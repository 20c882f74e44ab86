"""Sign-in limits (issue 13, item 5): back-off per pair, per address and per account, and
X-Forwarded-For believed only from configured proxies.

The forwarded-header tests run the app under a real uvicorn server, configured the way
`doorstep serve` configures it, because that is where the header is (or is not) believed.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlmodel import select
from staff.helpers import PASSWORD, USERS, csrf_of

from bot.common.clock import FixedClock
from bot.web.staff.login_limits import proxy_options
from storage.db import Database
from storage.enums import StaffRole
from storage.models import StaffLoginAttempt

SAM = USERS[StaffRole.STAFF][0]


class Browser:
    """One browser at one address, trying to sign in."""

    def __init__(self, client: TestClient, address: str) -> None:
        self.http = TestClient(client.app, client=(address, 50000))
        self.token = csrf_of(self.http.get("/staff/login").text)

    def attempt(self, email: str, password: str) -> httpx.Response:
        response: httpx.Response = self.http.post(
            "/staff/login",
            data={"email": email, "password": password, "csrf_token": self.token},
            follow_redirects=False,
        )
        return response


def test_a_storm_from_one_address_never_keeps_the_rightful_user_out(
    client: TestClient, staff_users: Database, clock: FixedClock
) -> None:
    attacker = Browser(client, "203.0.113.66")
    guesses = 0
    # Ten minutes of a script that retries the moment it is allowed to.
    start = clock.now()
    while clock.now() - start < timedelta(minutes=10):
        response = attacker.attempt(SAM, f"guess-number-{guesses}")
        if response.status_code == 429:
            clock.advance(timedelta(seconds=int(response.headers["retry-after"])))
            continue
        assert response.status_code == 401
        guesses += 1
    # The back-off doubles: 5 free guesses, then 1 s, 2 s, 4 s ... apart.
    assert 5 < guesses <= 15
    # Sam, at home, signs in at once: nobody can lock the account from one address.
    assert Browser(client, "198.51.100.5").attempt(SAM, PASSWORD).status_code == 303


def test_a_short_burst_of_wrong_passwords_pauses_seconds_not_fifteen_minutes(
    client: TestClient, staff_users: Database, clock: FixedClock
) -> None:
    office = Browser(client, "192.0.2.10")
    assert [office.attempt(SAM, "typo-typo-typo").status_code for _ in range(5)] == [401] * 5
    refused = office.attempt(SAM, PASSWORD)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert "Wait 1 second, then try again" in refused.text
    # Hammering during the wait checks nothing and does not make it longer.
    assert all(office.attempt(SAM, "x-x-x-x-x-x").status_code == 429 for _ in range(10))
    clock.advance(timedelta(seconds=1))
    assert office.attempt(SAM, "typo-typo-typo").status_code == 401
    assert office.attempt(SAM, PASSWORD).headers["retry-after"] == "2"
    clock.advance(timedelta(seconds=2))
    assert office.attempt(SAM, PASSWORD).status_code == 303


def test_spraying_one_password_across_accounts_is_slowed_per_address(
    client: TestClient, staff_users: Database, clock: FixedClock
) -> None:
    sprayer = Browser(client, "203.0.113.99")
    accounts = [f"person{n}@landlord.example" for n in range(12)] + [SAM]
    answers = [sprayer.attempt(email, "Winter2026!").status_code for email in accounts]
    assert answers == [401] * 10 + [429] * 3
    # Another address is not slowed by it.
    assert Browser(client, "198.51.100.6").attempt(SAM, PASSWORD).status_code == 303
    # The sprayer's next try waits a little longer after each failure.
    clock.advance(timedelta(seconds=1))
    assert sprayer.attempt("person99@landlord.example", "Winter2026!").status_code == 401
    assert sprayer.attempt("person98@landlord.example", "x").headers["retry-after"] == "2"


def test_guessing_from_many_addresses_slows_the_account_for_a_minute_at_most(
    client: TestClient, staff_users: Database, clock: FixedClock
) -> None:
    for n in range(20):
        assert Browser(client, f"203.0.113.{n + 1}").attempt(SAM, "nope-nope-1").status_code == 401
    paused = Browser(client, "198.51.100.7").attempt(SAM, PASSWORD)
    assert paused.status_code == 429
    assert int(paused.headers["retry-after"]) <= 60
    clock.advance(timedelta(seconds=int(paused.headers["retry-after"])))
    assert Browser(client, "198.51.100.7").attempt(SAM, PASSWORD).status_code == 303


@contextmanager
def served(app: object, *, trusted_proxies: str | None) -> Iterator[str]:
    """The app under a real uvicorn on 127.0.0.1: with `doorstep serve`'s proxy options, or
    (None) with uvicorn's defaults."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    options: dict[str, object] = {}
    if trusted_proxies is not None:
        proxies = proxy_options(trusted_proxies)
        options = {
            "proxy_headers": proxies.proxy_headers,
            "forwarded_allow_ips": proxies.forwarded_allow_ips,
        }
    config = uvicorn.Config(app, lifespan="off", log_level="warning", **options)  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def spray_with_rotating_forwarded_for(base: str) -> list[int]:
    with httpx.Client(base_url=base, timeout=10) as http:
        token = csrf_of(http.get("/staff/login").text)
        return [
            http.post(
                "/staff/login",
                data={"email": f"p{n}@landlord.example", "password": "x", "csrf_token": token},
                headers={"X-Forwarded-For": f"10.9.{n}.{n + 1}"},
            ).status_code
            for n in range(12)
        ]


def attempt_addresses(db: Database) -> set[str]:
    with db.session() as session:
        return set(session.exec(select(StaffLoginAttempt.address)).all())


def test_a_rotating_forwarded_for_from_an_untrusted_client_does_not_reset_the_limit(
    client: TestClient, staff_users: Database
) -> None:
    with served(client.app, trusted_proxies="") as base:
        answers = spray_with_rotating_forwarded_for(base)
    assert answers == [401] * 10 + [429] * 2
    assert attempt_addresses(staff_users) == {"127.0.0.1"}


def test_uvicorn_left_to_its_defaults_would_believe_the_header(
    client: TestClient, staff_users: Database
) -> None:
    """Why `doorstep serve` passes proxy options: by default uvicorn believes the header
    from 127.0.0.1, so anything on the host (or a misconfigured proxy) picks its address."""
    with served(client.app, trusted_proxies=None) as base:
        spray_with_rotating_forwarded_for(base)
    assert len(attempt_addresses(staff_users)) == 12


@pytest.mark.parametrize("trusted", ["127.0.0.1", "127.0.0.0/8, 10.0.0.1"])
def test_a_configured_proxy_is_believed(
    client: TestClient, staff_users: Database, trusted: str
) -> None:
    with served(client.app, trusted_proxies=trusted) as base:
        answers = spray_with_rotating_forwarded_for(base)
    assert answers == [401] * 12  # each a different real client behind the proxy
    assert len(attempt_addresses(staff_users)) == 12

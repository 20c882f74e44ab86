"""Staff fixtures: the three roles' accounts on the demo data, and a signed-in client."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from staff.helpers import USERS, SignedIn, make_staff_users, sign_in

from bot.common.clock import FixedClock
from storage.db import Database
from storage.enums import StaffRole


@pytest.fixture
def staff_users(demo_db: Database, clock: FixedClock) -> Database:
    make_staff_users(demo_db, clock)
    return demo_db


@pytest.fixture
def signed_in(client: TestClient, staff_users: Database) -> Callable[[StaffRole], SignedIn]:
    """Sign the test client in with the account of this role (one client, one session)."""

    def login(role: StaffRole) -> SignedIn:
        client.cookies.clear()
        return sign_in(client, USERS[role][0])

    return login

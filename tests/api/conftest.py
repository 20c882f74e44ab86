"""The integration API's world: the real app on the demo data, the demo landlord with a
write key and a read key, and a second landlord ("acme") with a key of its own."""

from __future__ import annotations

import pytest
from api.world import Api, make_key
from fastapi.testclient import TestClient

from bot.common.clock import FixedClock
from storage.db import Database


@pytest.fixture
def api(client: TestClient, demo_db: Database, clock: FixedClock) -> Api:
    """The demo landlord's housing management system, with a write key."""
    return Api(client, make_key(demo_db, clock, "demo"))


@pytest.fixture
def reader(client: TestClient, demo_db: Database, clock: FixedClock) -> Api:
    """The demo landlord's reporting tool, with a read-only key."""
    return Api(client, make_key(demo_db, clock, "demo", scope="read"))


@pytest.fixture
def acme(client: TestClient, demo_db: Database, clock: FixedClock) -> Api:
    """Another landlord on the same Doorstep, with its own write key."""
    return Api(client, make_key(demo_db, clock, "acme"))

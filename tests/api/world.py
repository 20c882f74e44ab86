"""The integration API's test world: a landlord's system calling /api/v1 with one key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.testclient import TestClient

from bot.common.clock import FixedClock
from storage.db import Database
from storage.repositories import api_keys, landlords


@dataclass
class Api:
    """One landlord's system calling /api/v1 with one key."""

    client: TestClient
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(f"/api/v1{path}", headers=self.headers, params=params)

    def put(self, path: str, body: Mapping[str, Any] | list[Any]) -> httpx.Response:
        return self.client.put(f"/api/v1{path}", headers=self.headers, json=body)

    def post(self, path: str, body: Mapping[str, Any] | list[Any]) -> httpx.Response:
        return self.client.post(f"/api/v1{path}", headers=self.headers, json=body)


def make_key(db: Database, clock: FixedClock, landlord: str, scope: str = "write") -> str:
    with db.session() as session:
        row = landlords.by_reference(session, reference=landlord)
        if row is None:
            row = landlords.create(
                session,
                reference=landlord,
                name=landlord.title() + " Housing",
                phone="0300 555 0100",
                emergency_phone="0300 555 0101",
                now=clock.now(),
            )
        assert row.id is not None
        return api_keys.create(
            session, landlord_id=row.id, name="tests", scope=scope, now=clock.now()
        ).key


def landlord_id(db: Database, reference: str) -> int:
    with db.session() as session:
        row = landlords.by_reference(session, reference=reference)
        assert row is not None and row.id is not None
        return row.id

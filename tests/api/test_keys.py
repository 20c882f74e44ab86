"""API keys: a call without a valid key is refused as a problem detail; a key sees only
its landlord; revoking a key stops it at once; a key's last use is recorded."""

from __future__ import annotations

from datetime import timedelta

from api.world import Api, landlord_id
from fastapi.testclient import TestClient

from bot.common.clock import FixedClock
from storage.db import Database
from storage.repositories import api_keys


def test_a_key_names_its_landlord(api: Api, acme: Api, reader: Api) -> None:
    assert api.get("/me").json() == {"landlord": "demo", "scope": "write"}
    assert acme.get("/me").json() == {"landlord": "acme", "scope": "write"}
    assert reader.get("/me").json() == {"landlord": "demo", "scope": "read"}


def test_no_key_a_wrong_key_or_a_mangled_key_is_a_401_problem(client: TestClient, api: Api) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer dsk_nope_nope"},
        {"Authorization": f"Bearer {api.key}x"},
        {"Authorization": f"Basic {api.key}"},
        {"Authorization": "Bearer " + api.key.replace("dsk_", "sk_")},
    ):
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Bearer")
        body = response.json()
        assert body["status"] == 401 and body["type"] == "/api/v1/problems/unauthenticated"
        assert api.key not in response.text


def test_a_revoked_key_stops_working_at_once(
    api: Api, demo_db: Database, clock: FixedClock
) -> None:
    assert api.get("/me").status_code == 200
    demo = landlord_id(demo_db, "demo")
    with demo_db.session() as session:
        (key,) = [
            k
            for k in api_keys.of_landlord(session, landlord_id=demo)
            if api.key.split("_")[1] == k.prefix
        ]
        assert key.id is not None
        assert api_keys.revoke(session, key_id=key.id, landlord_id=demo, now=clock.now())
    assert api.get("/me").status_code == 401


def test_a_keys_last_use_is_recorded(api: Api, demo_db: Database, clock: FixedClock) -> None:
    demo = landlord_id(demo_db, "demo")

    def last_used() -> object:
        with demo_db.session() as session:
            (key,) = api_keys.of_landlord(session, landlord_id=demo)
            return key.last_used_at

    assert last_used() is None
    api.get("/me")
    assert last_used() == clock.now()
    clock.advance(timedelta(minutes=5))
    api.get("/me")
    assert last_used() == clock.now()


def test_only_a_hash_of_the_key_is_stored(api: Api, demo_db: Database) -> None:
    demo = landlord_id(demo_db, "demo")
    with demo_db.session() as session:
        (key,) = api_keys.of_landlord(session, landlord_id=demo)
    assert api.key not in repr(key.model_dump())
    assert key.key_hash != api.key and len(key.key_hash) == 64


def test_the_openapi_document_is_served_under_the_version(client: TestClient) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["info"]["title"] == "Doorstep integration API"
    assert "/me" in doc["paths"]
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_an_unknown_path_is_a_404_problem(api: Api) -> None:
    response = api.get("/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"

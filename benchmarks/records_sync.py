"""Landlord records sync throughput (issue 14): how many records a second go through the
upsert core and through the integration API, on a first sync and on a re-sync of the same
records.

    .venv/bin/python -m benchmarks.records_sync [--records 10000]
        [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

A fresh PostgreSQL database (dropped afterwards) with two landlords. For each, `--records`
properties then as many residents (each at its own property, its own mobile), sent in
batches of 1,000: through `bot.integration.sync.upsert_batch` for one landlord, through
`PUT /api/v1/properties` and `PUT /api/v1/residents` (the real app, in-process) for the
other; each twice, the second time unchanged. Printed: records per second, first and
re-sync, the ratio, and the outcome counts.

A benchmark, not a test: it prints figures and asserts only that every batch was taken.
"""

from __future__ import annotations

import argparse
import random
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.app import create_app
from bot.common.clock import FixedClock
from bot.integration.sync import RecordKind, counts, upsert_batch
from bot.settings import load_settings
from storage.db import Database
from storage.migrate import upgrade
from storage.repositories import api_keys, landlords

NOW = datetime(2026, 11, 30, 9, tzinfo=UTC)
BATCH = 1000


def _records(n: int, prefix: str, mobile_prefix: int) -> tuple[list[Any], list[Any]]:
    properties = [
        {
            "reference": f"{prefix}P{i}",
            "uprn": str(100_000_000 + i),
            "address_line_1": f"{i} Mill Lane",
            "town_or_city": "Leeds",
            "postcode": "LS6 2AB",
        }
        for i in range(n)
    ]
    residents = [
        {
            "reference": f"{prefix}R{i}",
            "name": f"Resident {i}",
            "mobile": f"074{mobile_prefix}{i:07d}",
            "property": f"{prefix}P{i}",
            "contact_hours": {"weekday": ["09:00", "18:00"]},
        }
        for i in range(n)
    ]
    return properties, residents


def _twice(
    label: str, records: Sequence[Any], send: Callable[[Sequence[Any]], dict[str, int]]
) -> None:
    rates = []
    for _ in range(2):
        started = time.perf_counter()
        total: dict[str, int] = {}
        for i in range(0, len(records), BATCH):
            for status, n in send(records[i : i + BATCH]).items():
                total[status] = total.get(status, 0) + n
        rates.append(len(records) / (time.perf_counter() - started))
        print(f"  {label}: {rates[-1]:8,.0f} records/s  {total}")
    print(f"  {label}: re-sync {rates[1] / rates[0]:.1f}x the first sync")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument(
        "--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    name = f"doorstep_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.postgres_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        db = Database(url)
        with db.session() as session:
            core = landlords.create(
                session, reference="core", name="C", phone="1", emergency_phone="2", now=NOW
            )
            http = landlords.create(
                session, reference="http", name="H", phone="1", emergency_phone="2", now=NOW
            )
            assert core.id is not None and http.id is not None
            core_id = core.id
            key = api_keys.create(
                session, landlord_id=http.id, name="bench", scope="write", now=NOW
            ).key

        def through_core(kind: RecordKind) -> Callable[[Sequence[Any]], dict[str, int]]:
            def send(batch: Sequence[Any]) -> dict[str, int]:
                with db.session() as session:
                    return counts(
                        upsert_batch(
                            session, landlord_id=core_id, kind=kind, records=batch, now=NOW
                        )
                    )

            return send

        print(f"upsert_batch on PostgreSQL, {args.records:,} of each:")
        properties, residents = _records(args.records, "C", 0)
        _twice("properties", properties, through_core(RecordKind.PROPERTIES))
        _twice("residents ", residents, through_core(RecordKind.RESIDENTS))

        settings = load_settings(database_url=url, simulator=True, scheduler_in_process=False)
        app = create_app(settings, clock=FixedClock(NOW), rng=random.Random(1))
        with TestClient(app) as client:
            headers = {"Authorization": f"Bearer {key}"}

            def through_api(path: str) -> Callable[[Sequence[Any]], dict[str, int]]:
                def send(batch: Sequence[Any]) -> dict[str, int]:
                    answer = client.put(f"/api/v1/{path}", headers=headers, json={"records": batch})
                    assert answer.status_code == 200, answer.text[:300]
                    result: dict[str, int] = answer.json()["counts"]
                    return result

                return send

            print(f"PUT /api/v1/... batches of {BATCH:,} (in-process), {args.records:,} of each:")
            properties, residents = _records(args.records, "H", 1)
            _twice("properties", properties, through_api("properties"))
            _twice("residents ", residents, through_api("residents"))
        db.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()

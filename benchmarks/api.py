"""The integration API under a landlord's nightly sync (issue 14).

    .venv/bin/python benchmarks/api.py [--homes 100000] [--backend sqlite|postgresql|both]
        [--concurrency 4] [--workers 2] [--put-seconds 15] [--events 20000]
        [--postgres-url URL]

For each database, a fresh database with the demo data, and `doorstep serve` started as in
production (`--workers` uvicorn workers, simulator and scheduler off) on 127.0.0.1:

1. **API sync**: `--homes` homes, as many residents and three times as many jobs, sent as
   batch PUTs of 1,000 records (`--concurrency` requests in flight), homes first, then
   residents, then jobs; then the same sync sent again, which must change nothing. The
   bodies are encoded before the clock starts (the landlord's system has its own CPU).
   Printed: records/s for each, and how much faster the re-sync was.
2. **CSV import**: the same volume for a second landlord, as files given to
   `doorstep import` (the real command, in its own process), then the same files again.
3. **PUT latency under load**: single-record `PUT /residents/{ref}`, each changing the
   resident's name, `--concurrency` x 2 clients in a closed loop for `--put-seconds`:
   p50/p99 and requests/s.
4. **Webhook delivery**: `--events` events over 2,000 jobs for a subscription whose
   receiver is a minimal ASGI app under uvicorn on 127.0.0.1; the delivery worker (as the
   scheduler runs it) until every event is delivered: events/s.

On PostgreSQL every phase ends with ANALYZE, as autovacuum would after a table grows (a
machine may run with autovacuum off); its time is counted.

Targets (issue 14): at least 2,000 records/s by API on PostgreSQL and 5,000/s by CSV, a
re-sync of unchanged data at least 3x faster than the first, delivery at least 1,000/s.

A benchmark, not a test: it prints figures and asserts nothing. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlmodel import func, select

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from benchmarks.webhook_load import (  # noqa: E402
    DEFAULT_PG,
    _database,
    _free_port,
    _postgres_reachable,
)
from bot.cli.demo import load_demo  # noqa: E402
from bot.common.clock import SystemClock  # noqa: E402
from bot.outbound.webhooks import WebhookWorker, subscribe  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import RepairJob  # noqa: E402
from storage.repositories import api_keys, landlord_events, landlords  # noqa: E402

BATCH = 1000
KINDS = ("properties", "residents", "jobs")
TRADES = ("plumbing", "electrical", "carpentry", "general")


@dataclass
class Figures:
    backend: str
    rows: list[tuple[str, str]] = field(default_factory=list)

    def add(self, what: str, value: str) -> None:
        self.rows.append((what, value))
        print(f"  {self.backend:<10} {what:<44} {value}", flush=True)


# -- the landlord's data -------------------------------------------------------------------


def _property(prefix: str, i: int) -> dict[str, Any]:
    return {
        "reference": f"{prefix}P{i}",
        "uprn": str(100000000000 + i),
        "address_line_1": f"{i % 300 + 1} Bench Street",
        "town_or_city": "Leeds",
        "postcode": f"LS{i % 27 + 1} {i % 9 + 1}AB",
        "nation": "england",
    }


def _resident(prefix: str, i: int, mobile_range: str) -> dict[str, Any]:
    return {
        "reference": f"{prefix}R{i}",
        "name": f"Resident {i}",
        "mobile": f"+44{mobile_range}{i:08d}",
        "property": f"{prefix}P{i}",
        "language": "en",
    }


def _job(prefix: str, i: int, homes: int) -> dict[str, Any]:
    home = i % homes
    return {
        "reference": f"{prefix}J{i}",
        "property": f"{prefix}P{home}",
        "resident": f"{prefix}R{home}",
        "trade": TRADES[i % len(TRADES)],
        "description": f"Repair {i}: dripping tap in the kitchen",
        "priority": "routine",
        "raised_at": "2026-11-30T08:00:00+00:00",
    }


def _records(kind: str, prefix: str, homes: int, mobile_range: str) -> Iterator[dict[str, Any]]:
    if kind == "properties":
        return (_property(prefix, i) for i in range(homes))
    if kind == "residents":
        return (_resident(prefix, i, mobile_range) for i in range(homes))
    return (_job(prefix, i, homes) for i in range(3 * homes))


# -- the service -------------------------------------------------------------------------


@contextmanager
def _server(url: str, port: int, workers: int) -> Iterator[str]:
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DOORSTEP_DATABASE_URL": url,
        "DOORSTEP_SIMULATOR": "false",
        "DOORSTEP_SECRET_KEY": secrets.token_hex(32),
        "DOORSTEP_PUBLIC_BASE_URL": base,
        "DOORSTEP_SCHEDULER_IN_PROCESS": "false",
        "DOORSTEP_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "benchmarks.webhook_load:server_app",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        _wait_healthy(base + "/healthz", process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start within 120 s")
        time.sleep(0.2)


def _prepare(url: str) -> str:
    """Migrate, load the demo, make a key for the demo landlord and a second landlord."""
    upgrade(url)
    db = Database(url)
    try:
        now = datetime.now(UTC)
        load_demo(db, now=now)
        with db.session() as session:
            demo = landlords.by_reference(session, reference="demo")
            assert demo is not None and demo.id is not None
            key = api_keys.create(
                session, landlord_id=demo.id, name="bench", scope="write", now=now
            )
            landlords.create(
                session,
                reference="csvland",
                name="CSV Homes",
                phone="0300",
                emergency_phone="0301",
                now=now,
            )
        return key.key
    finally:
        db.dispose()


# -- 1. sync through the API ---------------------------------------------------------------


def _analyze(url: str) -> None:
    """What PostgreSQL's autovacuum does after a table grows (this machine runs with it
    off): fresh statistics, so the next phase is not planned for the empty table."""
    if not url.startswith("postgresql"):
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
    engine.dispose()


def _bodies(homes: int) -> dict[str, list[bytes]]:
    """Every batch's JSON body, encoded before the clock starts: the landlord's system runs
    on its own machine, so its CPU is not the service's (as in benchmarks/webhook_load.py)."""
    bodies: dict[str, list[bytes]] = {}
    for kind in KINDS:
        records = list(_records(kind, "", homes, "74"))
        bodies[kind] = [
            json.dumps({"records": records[i : i + BATCH]}).encode()
            for i in range(0, len(records), BATCH)
        ]
    return bodies


async def _sync(
    base: str, key: str, bodies: dict[str, list[bytes]], concurrency: int, url: str
) -> tuple[int, float, dict[str, int]]:
    """Every batch, kind by kind; returns (records, seconds, outcome counts)."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    counts: dict[str, int] = {}
    started = time.perf_counter()
    limits = httpx.Limits(max_connections=concurrency)
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, timeout=300, limits=limits
    ) as client:
        for kind in KINDS:  # in order: jobs refer to homes and residents

            async def send(body: bytes, kind: str = kind) -> None:
                async with gate:
                    response = await client.put(f"/api/v1/{kind}", content=body)
                if response.status_code != 200:
                    raise RuntimeError(f"{kind}: HTTP {response.status_code} {response.text[:300]}")
                for status, count in response.json()["counts"].items():
                    counts[status] = counts.get(status, 0) + count

            await asyncio.gather(*(send(body) for body in bodies[kind]))
            await asyncio.to_thread(_analyze, url)
    total = sum(counts.values())
    return total, time.perf_counter() - started, {k: v for k, v in counts.items() if v}


# -- 2. CSV import -------------------------------------------------------------------------


def _write_csv(folder: Path, kind: str, homes: int) -> Path:
    path = folder / f"{kind}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer: csv.DictWriter[str] | None = None
        for record in _records(kind, "C", homes, "75"):
            if writer is None:
                writer = csv.DictWriter(handle, fieldnames=list(record))
                writer.writeheader()
            writer.writerow(record)
    return path


def _import(url: str, files: list[Path]) -> tuple[float, list[str]]:
    """`doorstep import KIND FILE --landlord csvland` for each file; (seconds, summaries)."""
    env = {**os.environ, "DOORSTEP_DATABASE_URL": url, "DOORSTEP_LOG_LEVEL": "WARNING"}
    doorstep = str(Path(sys.executable).with_name("doorstep"))
    summaries = []
    started = time.perf_counter()
    for path in files:
        done = subprocess.run(
            [doorstep, "import", path.stem, str(path), "--landlord", "csvland"],
            env=env, cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"import {path.name}: {done.stdout[-500:]} {done.stderr[-500:]}")
        _analyze(url)
        summaries.append(done.stdout.strip().splitlines()[0] if done.stdout.strip() else "")
    return time.perf_counter() - started, summaries


# -- 3. PUT latency ------------------------------------------------------------------------


async def _put_latency(
    base: str, key: str, homes: int, clients: int, seconds: float
) -> tuple[int, list[float]]:
    headers = {"Authorization": f"Bearer {key}"}
    latencies: list[float] = []
    stop = time.perf_counter() + seconds
    counter = iter(range(10**9))

    async def client_loop(client: httpx.AsyncClient) -> None:
        while time.perf_counter() < stop:
            n = next(counter)
            i = n % homes
            body = _resident("", i, "74")
            del body["reference"]
            body["name"] = f"Resident {i} v{n}"
            started = time.perf_counter()
            response = await client.put(f"/api/v1/residents/R{i}", json=body)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code not in (200, 201):
                raise RuntimeError(f"PUT: HTTP {response.status_code} {response.text[:300]}")

    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
    return len(latencies), latencies


# -- 4. webhook delivery -----------------------------------------------------------------


async def receiver_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The landlord's receiver: reads the body, answers 204."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = bool(message.get("more_body"))
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _deliveries(url: str, events: int) -> tuple[int, float]:
    port = _free_port()
    command = [
        sys.executable, "-m", "uvicorn", "benchmarks.api:receiver_app", "--host", "127.0.0.1",
        "--port", str(port), "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    db = Database(url)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/", process)
        now = datetime.now(UTC)
        with db.session() as session:
            # The landlord with the most jobs (the API's or the CSV's): events spread over
            # 2,000 jobs, as a landlord's day would, since one job's events go in order.
            landlord_id = session.exec(
                select(RepairJob.landlord_id)
                .group_by(RepairJob.landlord_id)  # type: ignore[arg-type]
                .order_by(func.count().desc())
                .limit(1)
            ).one()
            subscribe(
                session,
                landlord_id=landlord_id,
                url=f"http://127.0.0.1:{port}/hook",
                kinds=(),
                now=now,
            )
            job_rows = list(
                session.exec(
                    select(RepairJob).where(RepairJob.landlord_id == landlord_id).limit(2000)
                )
            )
        for start in range(0, events, 1000):
            with db.session() as session:
                for n in range(start, min(events, start + 1000)):
                    landlord_events.record(
                        session, landlord_id=landlord_id, kind=landlord_events.CALLBACK_REQUESTED,
                        now=now, data={"n": n}, job=job_rows[n % len(job_rows)],
                    )  # fmt: skip
        worker = WebhookWorker(db=db, clock=SystemClock(), batch_size=500, concurrency=64)
        delivered = 0
        started = time.perf_counter()
        while delivered < events:
            stats = asyncio.run(worker.run_once(rounds=10**6))
            delivered += stats.delivered
            if stats.delivered == 0 and stats.retried == 0:
                break
        return delivered, time.perf_counter() - started
    finally:
        db.dispose()
        process.terminate()
        process.wait(timeout=20)


# -- the run -------------------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def run(backend: str, args: argparse.Namespace) -> Figures:
    figures = Figures(backend)
    parts = set(args.parts.split(","))
    with _database(backend, args.postgres_url) as url:
        key = _prepare(url)
        if "api" in parts:
            _api(figures, url, key, args)
        if "csv" in parts:
            _csv(figures, url, args.homes)
        if "events" in parts:
            delivered, seconds = _deliveries(url, args.events)
            figures.add(
                "webhook events delivered/s",
                f"{delivered / seconds:,.0f} ({delivered:,} in {seconds:.1f} s)",
            )
    return figures


def _api(figures: Figures, url: str, key: str, args: argparse.Namespace) -> None:
    with _server(url, _free_port(), args.workers) as base:
        bodies = _bodies(args.homes)
        total, first, counts = asyncio.run(_sync(base, key, bodies, args.concurrency, url))
        figures.add("API sync: records", f"{total:,} ({counts})")
        figures.add("API sync: records/s", f"{total / first:,.0f} ({first:.1f} s)")
        total, again, counts = asyncio.run(_sync(base, key, bodies, args.concurrency, url))
        del bodies
        figures.add(
            "API re-sync (unchanged): records/s",
            f"{total / again:,.0f} ({again:.1f} s, {counts})",
        )
        figures.add("API re-sync speed-up", f"{first / again:.1f}x")
        count, latencies = asyncio.run(
            _put_latency(base, key, args.homes, args.concurrency * 2, args.put_seconds)
        )
        figures.add(
            "single PUT under load: p50 / p99",
            f"{statistics.median(latencies):.1f} / {_percentile(latencies, 0.99):.1f} ms "
            f"({count / args.put_seconds:,.0f} req/s, {args.concurrency * 2} clients)",
        )


def _csv(figures: Figures, url: str, homes: int) -> None:
    with tempfile.TemporaryDirectory(prefix="doorstep-csv-") as folder:
        files = [_write_csv(Path(folder), kind, homes) for kind in KINDS]
        rows = homes * 5
        first, summaries = _import(url, files)
        figures.add("CSV import: rows/s", f"{rows / first:,.0f} ({first:.1f} s, 3 processes)")
        again, summaries = _import(url, files)
        figures.add("CSV re-import (unchanged): rows/s", f"{rows / again:,.0f} ({again:.1f} s)")
        figures.add("CSV re-import speed-up", f"{first / again:.1f}x")
        figures.add("CSV re-import report", " | ".join(s[:60] for s in summaries))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--homes", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--put-seconds", type=float, default=15.0)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument(
        "--parts",
        default="api,csv,events",
        help="which parts to run: api (sync, re-sync and PUT latency), csv, events",
    )
    parser.add_argument(
        "--postgres-url", default=os.environ.get("DOORSTEP_TEST_POSTGRES_URL", DEFAULT_PG)
    )
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print(
        f"integration API: {args.homes:,} homes, {args.homes:,} residents, "
        f"{3 * args.homes:,} jobs; {os.cpu_count()} CPUs",
        flush=True,
    )
    results = []
    for backend in backends:
        if backend == "postgresql" and not _postgres_reachable(args.postgres_url):
            print("  postgresql: not reachable, skipped")
            continue
        results.append(run(backend, args))
    print("\nside by side:")
    whats = [what for what, _ in results[0].rows] if results else []
    for what in whats:
        print(f"  {what:<44} " + "  |  ".join(dict(r.rows).get(what, "-") for r in results))


if __name__ == "__main__":
    main()

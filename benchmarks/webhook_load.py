"""Twilio webhook load: how many residents' texts the service takes, and how fast it answers.

    .venv/bin/python benchmarks/webhook_load.py [--rate 300] [--seconds 30]
        [--residents 150] [--workers 2] [--backend sqlite|postgresql|both]
        [--postgres-url URL]
    .venv/bin/python benchmarks/webhook_load.py --rate 0 [--messages 6000]   # saturation

For each database: a fresh database with the demo data plus `--residents` more
residents, the service started as in production (`doorstep serve` with `--workers`
uvicorn workers) on 127.0.0.1 with the real clock, SMS on and the scheduler off (so only
the webhook path is measured), then signed Twilio inbound forms from the residents in
turn.

- `--rate R` (default 300): open loop, as Twilio delivers: a text every 1/R s whether or
  not earlier ones were acknowledged, for `--seconds`. Acknowledgment latency counts
  from when a text was due, so a stall cannot hide by slowing the load down.
- `--rate 0`: closed loop, every resident texting again as soon as acknowledged: the
  most the service acknowledges, with the latency that a queue of 150 senders implies.

Printed per database: texts acknowledged and errors; throughput (acknowledged texts per
second, first due to last answered); webhook acknowledgment latency p50/p99 as Twilio
would see it; end-to-end latency p50/p99, inbound stored -> first reply queued in the
outbox, from the database's own timestamps (messages.created_at vs outbox.created_at of
`reply:<id>:0`) after the service has caught up; and texts left without a reply.

A benchmark, not a test: it prints figures and asserts nothing. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from benchmarks.loadgen import ConnectionPool, Outcome, closed_loop, encode_post, open_loop  # noqa: E402
from bot.cli.demo import load_demo  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Resident  # noqa: E402
from storage.repositories.people import primary_landlord  # noqa: E402

ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = secrets.token_hex(16)
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PATH = "/webhooks/twilio/sms"
#: What residents text: greetings, questions and menu numbers (nothing that books or
#: pauses a conversation, so every message gets a reply to time).
TEXTS = ("hello", "when is my visit", "2", "hi there", "thanks", "what can you do", "menu")


@dataclass(frozen=True)
class Result:
    backend: str
    load: Outcome
    e2e_ms: list[float]
    unanswered: int


def server_app() -> object:
    """uvicorn --factory entry: the app from DOORSTEP_* variables, as `doorstep serve`."""
    from bot.app import create_app
    from bot.settings import load_settings

    return create_app(load_settings())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _mobiles(count: int) -> list[str]:
    return [f"+4474009{i:05d}" for i in range(count)]


def _prepare(url: str, residents: int) -> list[str]:
    upgrade(url)
    db = Database(url)
    try:
        load_demo(db, now=datetime.now(UTC))
        mobiles = _mobiles(residents)
        with db.session() as session:
            landlord = primary_landlord(session)
            assert landlord is not None and landlord.id is not None
            for index, mobile in enumerate(mobiles):
                session.add(
                    Resident(
                        landlord_id=landlord.id,
                        name=f"Load Resident {index}",
                        mobile=mobile,
                        created_at=datetime.now(UTC),
                    )
                )
        return mobiles
    finally:
        db.dispose()


@contextmanager
def _database(backend: str, postgres_url: str) -> Iterator[str]:
    if backend == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="doorstep-bench-"))
        try:
            yield f"sqlite:///{folder / 'doorstep.sqlite3'}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    name = f"doorstep_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def _server(url: str, port: int, workers: int) -> Iterator[str]:
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DOORSTEP_DATABASE_URL": url,
        "DOORSTEP_SIMULATOR": "false",
        "DOORSTEP_SECRET_KEY": secrets.token_hex(32),
        "DOORSTEP_PUBLIC_BASE_URL": base,
        "DOORSTEP_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "DOORSTEP_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "DOORSTEP_TWILIO_FROM": "+447700900000",
        "DOORSTEP_TWILIO_API_BASE": "http://127.0.0.1:9",  # never called: scheduler off
        "DOORSTEP_SCHEDULER_IN_PROCESS": "false",
        # Each simulated resident texts far faster than a person: measure the service,
        # not the per-sender flood limit.
        "DOORSTEP_WEBHOOK_RATE_PER_MINUTE": "0",
        "DOORSTEP_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "benchmarks.webhook_load:server_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}")
            try:
                if httpx.get(base + "/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start within 120 s")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _requests(base: str, senders: list[str], rng: random.Random) -> list[bytes]:
    """Signed Twilio inbound forms, encoded before the clock starts (the load's CPU is
    the service's loss on a shared machine)."""
    validator = RequestValidator(AUTH_TOKEN)
    url = base + PATH
    host = base.removeprefix("http://")
    encoded = []
    for sender in senders:
        sid = "SM" + uuid.uuid4().hex
        form = {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": sender,
            "To": "+447700900000",
            "Body": rng.choice(TEXTS),
            "NumMedia": "0",
            "NumSegments": "1",
            "ApiVersion": "2010-04-01",
        }
        signature = validator.compute_signature(url, form)
        body = urlencode(form).encode()
        encoded.append(encode_post(host, PATH, body, {"X-Twilio-Signature": signature}))
    return encoded


async def _load(base: str, mobiles: list[str], args: argparse.Namespace) -> Outcome:
    rng = random.Random(5)
    host, port = base.removeprefix("http://").split(":")
    if args.rate > 0:
        total = int(args.rate * args.seconds)
        senders = [mobiles[i % len(mobiles)] for i in range(total)]
        requests = _requests(base, senders, rng)
        pool = ConnectionPool(host, int(port), args.connections)
        try:
            return await open_loop(pool, requests, args.rate, args.seconds)
        finally:
            await pool.close()
    per_resident = max(1, args.messages // len(mobiles))
    queues = [_requests(base, [m] * per_resident, rng) for m in mobiles]
    pool = ConnectionPool(host, int(port), len(mobiles))
    try:
        return await closed_loop(
            pool, lambda n: queues[n].pop() if queues[n] else None, len(mobiles), args.seconds
        )
    finally:
        await pool.close()


def _end_to_end(url: str, expected: int, wait_seconds: float = 120) -> tuple[list[float], int]:
    """Wait until every stored text was processed, then read both timestamps."""
    engine = create_engine(url)
    deadline = time.monotonic() + wait_seconds
    query_pending = text(
        "SELECT count(*) FROM messages WHERE direction = 'in' AND channel = 'sms' "
        "AND channel_message_id LIKE 'SM%' AND processed_at IS NULL"
    )
    query_pairs = text(
        "SELECT m.created_at, o.created_at FROM messages m "
        "LEFT JOIN outbox o ON o.idempotency_key = 'reply' || '\\:' || m.id || '\\:0' "
        "WHERE m.direction = 'in' AND m.channel = 'sms' AND m.channel_message_id LIKE 'SM%'"
    )
    try:
        with engine.connect() as connection:
            while connection.execute(query_pending).scalar_one() and time.monotonic() < deadline:
                connection.commit()
                time.sleep(0.2)
            rows = connection.execute(query_pairs).all()
    finally:
        engine.dispose()
    latencies: list[float] = []
    unanswered = 0
    for stored, queued in rows:
        if queued is None:
            unanswered += 1
            continue
        latencies.append((_aware(queued) - _aware(stored)).total_seconds() * 1000)
    unanswered += max(0, expected - len(rows))
    return latencies, unanswered


def _aware(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def run(backend: str, args: argparse.Namespace) -> Result:
    with _database(backend, args.postgres_url) as url:
        mobiles = _prepare(url, args.residents)
        with _server(url, _free_port(), args.workers) as base:
            load = asyncio.run(_load(base, mobiles, args))
            e2e_ms, unanswered = _end_to_end(url, load.ok)
    return Result(backend, load, e2e_ms, unanswered)


def _postgres_reachable(url: str) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect():
            return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=150, help="residents texting")
    parser.add_argument(
        "--rate", type=float, default=300.0, help="texts per second (0: as fast as acknowledged)"
    )
    parser.add_argument("--seconds", type=float, default=30.0, help="how long to send for")
    parser.add_argument(
        "--messages", type=int, default=6000, help="with --rate 0: texts to send in all"
    )
    parser.add_argument(
        "--connections", type=int, default=200, help="with --rate R: connections the load keeps"
    )
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("DOORSTEP_TEST_POSTGRES_URL", DEFAULT_PG),
        help="a server where the benchmark may create and drop a database",
    )
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    load = (
        f"{args.rate:g} texts/s for {args.seconds:g} s (open loop)"
        if args.rate > 0
        else f"as fast as acknowledged, up to {args.messages} texts or {args.seconds:g} s"
    )
    print(
        f"webhook load: {args.residents} residents, {load}, "
        f"{args.workers} uvicorn worker(s), {os.cpu_count()} CPUs"
    )
    print(
        f"{'database':<11} {'texts':>6} {'errors':>6} {'msgs/s':>7} "
        f"{'ack p50':>8} {'ack p99':>8} {'e2e p50':>8} {'e2e p99':>8} {'no reply':>8}"
    )
    for backend in backends:
        if backend == "postgresql" and not _postgres_reachable(args.postgres_url):
            print(f"{backend:<11} skipped: no server at {make_url(args.postgres_url)!r}")
            continue
        r = run(backend, args)
        print(
            f"{r.backend:<11} {r.load.ok:>6} {r.load.errors:>6} "
            f"{r.load.ok / r.load.seconds:>7.0f} "
            f"{_percentile(r.load.latencies_ms, 50):>6.1f}ms "
            f"{_percentile(r.load.latencies_ms, 99):>6.1f}ms "
            f"{_percentile(r.e2e_ms, 50):>6.1f}ms {_percentile(r.e2e_ms, 99):>6.1f}ms "
            f"{r.unanswered:>8}"
        )
    print("target on 2 CPUs: >= 300 msgs/s, ack p99 < 100 ms, e2e p99 < 500 ms")


if __name__ == "__main__":
    main()

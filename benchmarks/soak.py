"""Soak: a large landlord's busiest hour, compressed, on PostgreSQL with two web workers.

    .venv/bin/python benchmarks/soak.py [--minutes 4] [--peak 3] [--factor 15]
        [--residents 1500] [--extra-outbound 1000] [--postgres-url URL]

The yardstick (docs/reliability.md): a large UK landlord has ~50,000 homes; at its
busiest hour residents text in at 2-5 messages a second (we take `--peak` 3/s), and it
sends ~4,000 reminders a day, ~1,000 of them in the busiest hour. The soak sends
`peak x factor` texts a second (45/s by default) for `--minutes` (4), which is
peak x 3600 = 10,800 texts: one busiest hour's volume in four minutes, at fifteen
times its rate. Residents are many (1,500) so nobody passes the per-sender webhook
limit (30 a minute), as in life.

Processes, all on 127.0.0.1: uvicorn with two workers (the app as `doorstep serve`
builds it, SMS on), one `doorstep scheduler` (dispatcher and planner), a fake Twilio in
this process that the real twilio client talks to. Outbound is every reply plus
`--extra-outbound` texts enqueued over the run (purpose reply, so the contact policy
lets them go at any hour the soak is run: the reminder path through the planner and
the policy is measured by benchmarks/dispatch.py).

Printed: RSS of each process sampled every 5 s (flat is good), errors (webhook non-200,
broken connections, outbox rows failed), webhook ack and end-to-end (stored -> reply
queued) p50/p99, and outbound sent vs received by Twilio (each exactly once).
A benchmark, not a test: it asserts nothing and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "tests"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from sqlalchemy import create_engine, text  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from benchmarks.webhook_load import (  # noqa: E402
    ACCOUNT_SID,
    AUTH_TOKEN,
    DEFAULT_PG,
    PATH,
    TEXTS,
    _database,
    _end_to_end,
    _free_port,
    _percentile,
    _postgres_reachable,
    _prepare,
)
from fakes.fake_twilio import FakeTwilio  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.enums import Channel  # noqa: E402
from storage.repositories.outbox import enqueue  # noqa: E402

TWILIO_NUMBER = "+447700900000"
SAMPLE_EVERY = 5.0


def _env(url: str, port: int, twilio_base: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")},
        "DOORSTEP_DATABASE_URL": url,
        "DOORSTEP_SIMULATOR": "false",
        "DOORSTEP_SECRET_KEY": secrets.token_hex(32),
        "DOORSTEP_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "DOORSTEP_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "DOORSTEP_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "DOORSTEP_TWILIO_FROM": TWILIO_NUMBER,
        "DOORSTEP_TWILIO_API_BASE": twilio_base,
        "DOORSTEP_TWILIO_RATE_PER_SECOND": "200",
        "DOORSTEP_SCHEDULER_IN_PROCESS": "false",
        "DOORSTEP_DISPATCH_INTERVAL_SECONDS": "0.5",
        "DOORSTEP_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


@contextmanager
def _processes(url: str, port: int, twilio_base: str) -> Iterator[dict[str, int]]:
    env = _env(url, port, twilio_base)
    web = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "benchmarks.webhook_load:server_app",
         "--host", "127.0.0.1", "--port", str(port), "--workers", "2",
         "--no-access-log", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    jobs = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "doorstep"), "scheduler"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            if web.poll() is not None:
                raise RuntimeError(f"web server exited with {web.returncode}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("web server did not start within 120 s")
            time.sleep(0.2)
        time.sleep(2.0)  # both workers up
        pids = {"uvicorn-master": web.pid, "scheduler": jobs.pid}
        for index, child in enumerate(_children(web.pid)):
            pids[f"web-worker-{index + 1}"] = child
        yield pids
    finally:
        for process in (jobs, web):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    # uvicorn's workers are multiprocessing children; skip its resource tracker.
    return [p for p in found if "resource_tracker" not in _cmdline(p)]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


async def _inbound(
    base: str, mobiles: list[str], rate: float, seconds: float, counters: Counter[str]
) -> list[float]:
    """Open loop: a text every 1/rate s whatever the service does, as residents would."""
    validator = RequestValidator(AUTH_TOKEN)
    ack_ms: list[float] = []
    rng = random.Random(11)
    tasks: set[asyncio.Task[None]] = set()
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30.0) as client:

        async def one(mobile: str) -> None:
            sid = "SM" + uuid.uuid4().hex
            form = {
                "MessageSid": sid, "SmsSid": sid, "AccountSid": ACCOUNT_SID, "From": mobile,
                "To": TWILIO_NUMBER, "Body": rng.choice(TEXTS), "NumMedia": "0",
                "NumSegments": "1", "ApiVersion": "2010-04-01",
            }  # fmt: skip
            signature = validator.compute_signature(base + PATH, form)
            started = time.perf_counter()
            counters["sent"] += 1
            try:
                response = await client.post(
                    PATH, data=form, headers={"X-Twilio-Signature": signature}
                )
            except httpx.HTTPError:
                counters["broken"] += 1
                return
            ack_ms.append((time.perf_counter() - started) * 1000)
            status = response.status_code
            counters["acked" if status == 200 else f"http {status}"] += 1

        loop = asyncio.get_running_loop()
        start = loop.time()
        n = 0
        while (now := loop.time()) < start + seconds:
            due = start + n / rate
            if due > now:
                await asyncio.sleep(due - now)
            task = asyncio.create_task(one(mobiles[n % len(mobiles)]))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            n += 1
        await asyncio.gather(*tasks)
    return ack_ms


async def _extra_outbound(url: str, mobiles: list[str], total: int, seconds: float) -> None:
    db = Database(url)
    try:
        per_tick = max(1, round(total / max(seconds, 1)))
        done = 0
        while done < total:
            batch = min(per_tick, total - done)
            now = datetime.now(UTC)

            def add(first: int = done, count: int = batch, at: datetime = now) -> None:
                with db.session() as session:
                    for index in range(first, first + count):
                        enqueue(
                            session,
                            key=f"soak:{index}",
                            kind="notice",
                            purpose="reply",
                            text=f"Doorstep: your repair visit is tomorrow, 8am-12pm. Ref {index}",
                            not_before=at,
                            now=at,
                            channel=Channel.SMS,
                            address=mobiles[index % len(mobiles)],
                            expires_at=at + timedelta(hours=2),
                        )

            await asyncio.to_thread(add)
            done += batch
            await asyncio.sleep(1.0)
    finally:
        db.dispose()


async def _sample(pids: dict[str, int], stop: asyncio.Event, into: dict[str, list[float]]) -> None:
    while not stop.is_set():
        for name, pid in pids.items():
            into.setdefault(name, []).append(_rss_mb(pid))
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SAMPLE_EVERY)


Run = tuple[list[float], Counter[str], dict[str, list[float]]]


async def _run(
    args: argparse.Namespace, url: str, base: str, pids: dict[str, int], mobiles: list[str]
) -> Run:
    counters: Counter[str] = Counter()
    rss: dict[str, list[float]] = {}
    stop = asyncio.Event()
    sampler = asyncio.create_task(_sample(pids, stop, rss))
    seconds = args.minutes * 60
    outbound = asyncio.create_task(_extra_outbound(url, mobiles, args.extra_outbound, seconds))
    ack_ms = await _inbound(base, mobiles, args.peak * args.factor, seconds, counters)
    await outbound
    stop.set()
    await sampler
    return ack_ms, counters, rss


def _outbound_settled(url: str, fake: FakeTwilio, wait_seconds: float = 120) -> dict[str, int]:
    engine = create_engine(url)
    deadline = time.monotonic() + wait_seconds
    try:
        with engine.connect() as connection:
            while True:
                rows: dict[str, int] = {
                    str(status): int(count)
                    for status, count in connection.execute(
                        text("SELECT status, count(*) FROM outbox GROUP BY status")
                    ).all()
                }
                sids = {
                    str(row[0])
                    for row in connection.execute(
                        text(
                            "SELECT provider_message_id FROM outbox "
                            "WHERE provider_message_id IS NOT NULL"
                        )
                    )
                }
                connection.commit()
                if not rows.get("pending") and not rows.get("sending"):
                    break
                if time.monotonic() > deadline:
                    break
                time.sleep(0.5)
    finally:
        engine.dispose()
    # A text sent twice shows as a Twilio message no outbox row knows (the row keeps one sid).
    received = [str(m["sid"]) for m in fake.accepted()]
    return {
        **{f"outbox {k}": int(v) for k, v in rows.items()},
        "twilio received": len(received),
        "twilio messages without their outbox row": len(set(received) - sids),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=4.0, help="wall time of load")
    parser.add_argument("--peak", type=float, default=3.0, help="busiest-hour texts per second")
    parser.add_argument("--factor", type=float, default=15.0, help="times the peak rate")
    parser.add_argument("--residents", type=int, default=1500)
    parser.add_argument("--extra-outbound", type=int, default=1000)
    parser.add_argument(
        "--postgres-url", default=os.environ.get("DOORSTEP_TEST_POSTGRES_URL", DEFAULT_PG)
    )
    args = parser.parse_args()
    if not _postgres_reachable(args.postgres_url):
        sys.exit(f"no PostgreSQL at {args.postgres_url}")
    rate = args.peak * args.factor
    texts = rate * args.minutes * 60
    print(
        f"soak: {rate:g} texts/s ({args.factor:g} x a {args.peak:g}/s peak) for "
        f"{args.minutes:g} min = {texts:,.0f} texts = {texts / (args.peak * 3600):.2f} busiest "
        f"hours; +{args.extra_outbound} outbound; {args.residents} residents; "
        f"2 web workers + 1 scheduler on PostgreSQL; {os.cpu_count()} CPUs"
    )
    fake = FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN).start()
    try:
        with _database("postgresql", args.postgres_url) as url:
            mobiles = _prepare(url, args.residents)[: args.residents]
            port = _free_port()
            with _processes(url, port, fake.base_url) as pids:
                ack_ms, counters, rss = asyncio.run(
                    _run(args, url, f"http://127.0.0.1:{port}", pids, mobiles)
                )
                e2e_ms, unanswered = _end_to_end(url, counters["acked"])
                outbound = _outbound_settled(url, fake)
    finally:
        fake.stop()
    errors = sum(v for k, v in counters.items() if k not in ("sent", "acked"))
    print(f"inbound: sent {counters['sent']}, acknowledged {counters['acked']}, errors {errors} "
          f"{dict((k, v) for k, v in counters.items() if k not in ('sent', 'acked'))}; "
          f"unanswered {unanswered}")  # fmt: skip
    print(
        f"latency: ack p50 {_percentile(ack_ms, 50):.1f} ms, p99 {_percentile(ack_ms, 99):.1f} ms;"
        f" end-to-end p50 {_percentile(e2e_ms, 50):.1f} ms, p99 {_percentile(e2e_ms, 99):.1f} ms"
    )
    print("outbound: " + ", ".join(f"{k} {v}" for k, v in sorted(outbound.items())))
    print(f"RSS MB sampled every {SAMPLE_EVERY:g} s (first / after 1 min / last / max):")
    for name, values in rss.items():
        settled = values[min(len(values) - 1, int(60 / SAMPLE_EVERY))]
        print(
            f"  {name:<15} {values[0]:7.1f} {settled:7.1f} {values[-1]:7.1f} {max(values):7.1f}"
            f"   growth after warm-up {values[-1] - settled:+.1f} MB"
        )
    print("targets: no errors, ack p99 < 100 ms, e2e p99 < 500 ms, RSS flat after warm-up")


if __name__ == "__main__":
    main()

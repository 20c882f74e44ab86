"""Years of data, same speed: the demo database and a big one, side by side (issue 16).

    .venv/bin/python benchmarks/scale.py [--big-url URL | --<size> N ...] [--drop-big]
        [--rate 20] [--seconds 30] [--rounds 4] [--texts 100] [--dispatch 10000]
        [--dispatch-rounds 2] [--repeat 5] [--no-live-world] [--markdown]
        [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

PostgreSQL databases, measured the same way in one run (docs/scale.md has the figures):

- demo: a fresh database, `doorstep db upgrade` and the demo world (`doorstep demo load`),
  dropped afterwards;
- big: by default a fresh database `doorstep_scale_bench` (dropped first if it is there,
  kept afterwards for a look unless `--drop-big`) built by `benchmarks/scale_world.py`'s
  `build_world` with the sizes given here (each of its sizes is an option; the defaults
  are the issue's); or `--big-url URL`, an existing big world. The run writes to the
  database it measures (texts, outbox rows, planner runs), so never point `--big-url`
  at a database you want unchanged (`doorstep_scale` is never dropped or rebuilt);
- live-visits: `doorstep_scale_live_bench`, the big world's live visits and operatives
  with about a hundredth of its history (built in seconds, dropped afterwards). The demo
  has no live visits, so the planner's steady pass is set against this one instead.

The same people text in both worlds: the demo's residents, who in the big world have
years of history (scale_world gives them past visits and thousands of messages), so
every big/demo ratio is the cost of the bigger database alone. Extra rows set the big
world's 20 residents with the most messages and outbox rows against them.

In each world a staff administrator is made the way an administrator is (the product's
password hashing, a two-factor secret), then:

1. Both apps as `doorstep serve` builds them, each in ONE uvicorn process on 127.0.0.1
   (it is the worker; SMS on, Twilio faked in this process, the scheduler off so only
   the requests are measured). Signed in through the real login form and two-factor
   code, every staff page is fetched once to warm up and `--repeat` times to time
   (median, whole body read; an export twice, with its first byte timed too), its size
   noted, and the worker's resident memory (VmRSS) read after each page; then
   `/metrics`. Then signed Twilio texts at `--rate` a second, open loop
   (benchmarks/loadgen.py), after a few seconds' warm-up: `--seconds` in all per world,
   in `--rounds` windows alternating between the worlds. Webhook acknowledgment p50/p99,
   and end to end (stored -> first reply queued, from the database's own timestamps).
2. In this process, with the scheduler's own code, each measure in rounds alternating
   between the worlds (demo, big, big, demo, ...) so that a busy moment on a shared
   machine falls on both: `--texts` texts through the inbound pipeline (store,
   understand, answer) with SQLAlchemy's cursor events counting statements and their
   time; the planner (`bot.outbound.planning.plan`) steady pass at the real time (its
   first pass not counted); the scheduler's recover job (`process_pending(older_than=60
   s)`, several calls in one event loop); `--dispatch` due replies drained by the real
   Dispatcher with a RecordingSender, as benchmarks/dispatch.py does (whatever was due
   before is drained first, untimed); last, a planner pass with nothing live (ten years
   on: nothing booked, completed or cancelled is live then; its first pass not counted).

Printed: one table, measure | demo | big | big/demo | target | met?, then the statements
that cost the inbound pipeline most. Targets (issue 16): big/demo at most 1.5 for the
inbound path, dispatch, the planner and the recover job; every staff page under 300 ms
(an export: its first byte) and /metrics under 50 ms on the big database; the web worker
under 400 MB after every page. The exit status is 1 when a target is missed (after
everything was printed). Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import html
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "tests"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from sqlalchemy import create_engine, event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from benchmarks.loadgen import ConnectionPool, open_loop  # noqa: E402
from benchmarks.webhook_load import (  # noqa: E402
    ACCOUNT_SID,
    AUTH_TOKEN,
    DEFAULT_PG,
    TEXTS,
    _free_port,
    _percentile,
    _postgres_reachable,
    _requests,
)
from bot.app import build_runtime  # noqa: E402
from bot.cli.demo import DEMO_RESIDENTS, load_demo  # noqa: E402
from bot.common.clock import SystemClock  # noqa: E402
from bot.common.events import InboundMessage  # noqa: E402
from bot.outbound.dispatcher import Dispatcher  # noqa: E402
from bot.outbound.fake import RecordingSender  # noqa: E402
from bot.outbound.planning import plan  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.web.staff.passwords import hash_password  # noqa: E402
from bot.web.staff.totp import code_at, new_secret  # noqa: E402
from fakes.fake_twilio import FakeTwilio  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.enums import Channel, StaffRole  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import AuditEvent, StaffUser  # noqa: E402
from storage.phones import normalise_uk_mobile  # noqa: E402
from storage.repositories.outbox import enqueue  # noqa: E402
from storage.repositories.staff_users import staff_user_by_email  # noqa: E402

BIG_NAME = "doorstep_scale_bench"
#: The big world's live visits with a hundredth of its history: the planner's yardstick.
LIVE_NAME = "doorstep_scale_live_bench"
#: Never dropped or rebuilt by this benchmark: the team's shared big world.
SHARED_NAME = "doorstep_scale"
TWILIO_NUMBER = "+447700900000"
ADMIN_EMAIL = "scale-bench@landlord.example"
ADMIN_PASSWORD = "quince-lantern-harbour-" + secrets.token_hex(4)
HEAVY_RESIDENTS = 20
#: Suffix of the figures of the residents with the longest histories (big world only).
LONG = " (long histories)"
WARM_UP_SECONDS = 5.0
FAR_FUTURE = timedelta(days=3653)
#: Tables whose row counts are printed for each world.
COUNTED = (
    "residents", "repair_jobs", "appointments", "messages", "outbox", "contact_decisions",
    "feedback", "staff_tasks",
)  # fmt: skip

#: (label, path) of the staff pages; `{feedback}` etc. are found on earlier pages.
PAGES: tuple[tuple[str, str], ...] = (
    ("/staff", "/staff"),
    ("/staff/feedback", "/staff/feedback"),
    ("/staff/feedback (later page)", "{feedback_later}"),
    ("/staff/feedback.csv (unfiltered)", "/staff/feedback.csv"),
    ("/staff/feedback/{id}", "{feedback}"),
    ("/staff/contact-log (page 1)", "/staff/contact-log"),
    ("/staff/contact-log (later page)", "{contact_later}"),
    ("/staff/tasks", "/staff/tasks"),
    ("/staff/tasks/{id}", "{task}"),
    ("/staff/visits", "/staff/visits"),
    ("/staff/visits/{id}", "{visit}"),
    ("/staff/visits/{id}/timeline", "{visit}/timeline"),
    ("/staff/visits/{id}/timeline.json", "{visit}/timeline.json"),
    ("/staff/access-needs", "/staff/access-needs"),
    ("/staff/operatives", "/staff/operatives"),
    ("/staff/alerts", "/staff/alerts"),
    ("/staff/broadcasts", "/staff/broadcasts"),
    ("/staff/broadcasts/{id}", "{broadcast}"),
    ("/staff/broadcasts/preview (tomorrow's reminders)", "{preview}"),
    ("/staff/unbooked", "/staff/unbooked"),
    ("/staff/import", "/staff/import"),
    ("/staff/admin/staff", "/staff/admin/staff"),
    ("/staff/admin/api-keys", "/staff/admin/api-keys"),
    ("/staff/admin/webhooks", "/staff/admin/webhooks"),
    ("/staff/account", "/staff/account"),
)
#: Links looked for on each page, to the pages that need an id.
LINKS = {
    "feedback": re.compile(r'href="(/staff/feedback/\d+)"'),
    "task": re.compile(r'href="(/staff/tasks/\d+)"'),
    "visit": re.compile(r'href="(/staff/visits/\d+)"'),
    "broadcast": re.compile(r'href="(/staff/broadcasts/\d+)"'),
    # The reminders form's day (tomorrow): its preview lists that day's visits.
    "preview": re.compile(r'id="remind-day"[^>]*value="(\d{4}-\d\d-\d\d)"'),
}
#: Lists whose later page (their next link followed `--hops` times) is timed too.
LATER = {"/staff/contact-log": "contact_later", "/staff/feedback": "feedback_later"}
_NEXT = re.compile(
    r'<a\b[^>]*href="(/staff/[^"?]+\?[^"]+)"[^>]*>(?:(?!</a>).)*?'
    r"(?:next|older|earlier|more)",
    re.IGNORECASE | re.DOTALL,
)
_REL_NEXT = re.compile(
    r'<a\b[^>]*rel="next"[^>]*href="([^"]+)"|<a\b[^>]*href="([^"]+)"[^>]*rel="next"'
)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


# -- figures -----------------------------------------------------------------------------


@dataclass
class Page:
    label: str
    path: str
    status: int
    bytes: int
    ms: float
    first_byte_ms: float
    rss_mb: float


@dataclass
class World:
    """What one database measured; None where a figure could not be taken."""

    name: str
    url: str
    #: The demo's residents (the same people in both worlds): every ratio is theirs.
    residents: list[tuple[int, str]] = field(default_factory=list)
    #: Big world only: the residents with the longest histories, for the extra rows.
    longest: list[tuple[int, str]] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)
    figures: dict[str, float | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: The statements that took longest over the counted texts, for whoever tunes them.
    costliest: list[str] = field(default_factory=list)
    secret: str = ""
    rows: dict[str, int] = field(default_factory=dict)


# -- databases ---------------------------------------------------------------------------


def _url_for(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _recreate(admin_url: str, name: str) -> str:
    if name == SHARED_NAME:
        raise SystemExit(f"refusing to drop {SHARED_NAME}: pass it as --big-url to measure it")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return _url_for(admin_url, name)


def _drop(admin_url: str, name: str) -> None:
    if name == SHARED_NAME:
        return
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _demo_world(url: str) -> None:
    upgrade(url)
    db = Database(url)
    try:
        load_demo(db, now=datetime.now(UTC))
    finally:
        db.dispose()


def _sizes_type() -> Any:
    """`benchmarks.scale_world`'s sizes dataclass, if it has one (options come from it)."""
    try:
        from benchmarks import scale_world
    except ImportError:
        return None
    for name in ("Sizes", "WorldSizes", "ScaleSizes"):
        found = getattr(scale_world, name, None)
        if found is not None and dataclasses.is_dataclass(found):
            return found
    return None


def _build_big(url: str, sizes: Any) -> Any:
    """A fresh big world (benchmarks/scale_world.py: it creates, migrates and fills the
    database); its facts (rows per table, seconds)."""
    from benchmarks.scale_world import build_world

    if make_url(url).database == SHARED_NAME:
        raise SystemExit(f"refusing to rebuild {SHARED_NAME}: pass it as --big-url to measure it")
    return build_world(url, sizes, fresh=True, log=lambda line: print("  " + line, flush=True))


def _live_sizes(sizes_type: Any, args: argparse.Namespace) -> Any:
    """As many live visits (and operatives) as the big world, about a hundredth of its
    history: 12,000 residents, a few hundred past visits, three messages a visit."""
    live = int(getattr(args, "size_live_visits", None) or 10_800)
    wanted = {
        "residents": live + 1_200, "jobs": live + 700, "messages": 3 * live,
        "outbox": 3 * live, "decisions": 3 * live, "feedback": 100, "live_visits": live,
        "operatives": int(getattr(args, "size_operatives", None) or 600),
        "staff_tasks": 100, "open_tasks": 10, "audit_events": 100,
        "access_needs": max(1, live // 7), "complaints": 10, "open_jobs": 100,
        "heavy_residents": 0, "dead_deliveries": 5,
    }  # fmt: skip
    known = {f.name for f in dataclasses.fields(sizes_type)}
    return sizes_type(**{k: v for k, v in wanted.items() if k in known})


def _admin(url: str) -> str:
    """A staff administrator with two-factor sign-in, made as `doorstep staff create-user`
    makes one (the product's password hashing, an audit event); returns the TOTP secret."""
    secret = new_secret()
    now = datetime.now(UTC)
    db = Database(url)
    try:
        with db.session() as session:
            user = staff_user_by_email(session, email=ADMIN_EMAIL)
            if user is None:
                user = StaffUser(
                    email=ADMIN_EMAIL,
                    name="Scale Bench",
                    password_hash="",
                    role=StaffRole.ADMIN,
                    created_at=now,
                )
            user.password_hash = hash_password(ADMIN_PASSWORD)
            user.role = StaffRole.ADMIN
            user.active = True
            user.totp_secret = secret
            user.totp_last_step = None
            session.add(user)
            session.flush()
            session.add(
                AuditEvent(
                    at=now,
                    actor="cli",
                    action="staff.user_created",
                    subject_type="staff_user",
                    subject_id=user.id,
                    detail={"email": ADMIN_EMAIL, "role": StaffRole.ADMIN.value},
                )
            )
    finally:
        db.dispose()
    return secret


def _residents(url: str, *, heavy: int) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(id, mobile) of the demo's residents (in both worlds), and of the `heavy` residents
    with the longest histories (most messages, then most outbox rows), all reachable by SMS."""
    demo = [normalise_uk_mobile(r.mobile) for r in DEMO_RESIDENTS]
    reachable = "mobile IS NOT NULL AND sms_opted_out_at IS NULL AND sms_unreachable_at IS NULL"
    engine = create_engine(url)
    longest: list[tuple[int, str]] = []
    try:
        with engine.connect() as connection:
            found = [
                (int(i), str(m))
                for i, m in connection.execute(
                    text(f"SELECT id, mobile FROM residents WHERE mobile = ANY(:m) AND {reachable}"
                         " ORDER BY id"),
                    {"m": demo},
                )
            ]  # fmt: skip
            known = {i for i, _ in found}
            for table in ("messages", "outbox") if heavy else ():
                rows = connection.execute(
                    text(
                        "SELECT r.id, r.mobile FROM residents r JOIN ("
                        f" SELECT resident_id, count(*) AS n FROM {table}"
                        " WHERE resident_id IS NOT NULL GROUP BY resident_id"
                        " ORDER BY n DESC LIMIT :k) h ON h.resident_id = r.id"
                        " WHERE r.mobile IS NOT NULL AND r.sms_opted_out_at IS NULL"
                        " AND r.sms_unreachable_at IS NULL ORDER BY h.n DESC"
                    ),
                    {"k": heavy * 2},
                )
                more = [(int(i), str(m)) for i, m in rows if int(i) not in known][: heavy // 2]
                known |= {i for i, _ in more}
                longest += more
    finally:
        engine.dispose()
    return found, longest


# -- the served app: staff pages, /metrics, inbound texts ---------------------------------


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
        "DOORSTEP_SCHEDULER_IN_PROCESS": "false",
        # The demo world has eight residents texting far faster than a person: measure
        # the service, not the per-sender flood limit.
        "DOORSTEP_WEBHOOK_RATE_PER_MINUTE": "0",
        "DOORSTEP_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


@contextmanager
def _server(url: str, twilio_base: str) -> Iterator[tuple[str, int]]:
    """One uvicorn process serving the app (it is the worker): its base URL and pid."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "benchmarks.webhook_load:server_app",
         "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"],
        cwd=ROOT, env=_env(url, port, twilio_base),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"web server exited with {process.returncode}")
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("web server did not start within 180 s")
            time.sleep(0.2)
        yield base, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _csrf(page: str) -> str:
    found = _CSRF.search(page)
    if not found:
        raise RuntimeError("the page has no CSRF field")
    return found.group(1)


def _sign_in(client: httpx.Client, secret: str) -> None:
    form = client.get("/staff/login")
    response = client.post(
        "/staff/login",
        data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf_token": _csrf(form.text)},
    )
    if response.status_code != 303:
        raise RuntimeError(f"sign-in refused: HTTP {response.status_code}")
    if response.headers["location"].startswith("/staff/login/code"):
        page = client.get("/staff/login/code")
        response = client.post(
            "/staff/login/code",
            data={"code": code_at(secret, datetime.now(UTC)), "csrf_token": _csrf(page.text)},
        )
        if response.status_code != 303:
            raise RuntimeError(f"two-factor code refused: HTTP {response.status_code}")


def _fetch(
    client: httpx.Client, path: str, *, first_only: bool = False
) -> tuple[int, bytes, float, float]:
    """Status, body, ms to the first body byte and ms to the last (`first_only`: stop
    reading after the first chunk, for warming up before a long download)."""
    started = time.perf_counter()
    first = None
    chunks: list[bytes] = []
    try:
        with client.stream("GET", path) as response:
            status = response.status_code
            for chunk in response.iter_raw():
                if first is None:
                    first = time.perf_counter()
                chunks.append(chunk)
                if first_only:
                    break
    except httpx.HTTPError:  # the server broke the response off (e.g. an error mid-stream)
        status = 0
    done = time.perf_counter()
    return status, b"".join(chunks), ((first or done) - started) * 1000, (done - started) * 1000


def _timed(client: httpx.Client, pid: int, label: str, path: str, repeat: int) -> tuple[Page, str]:
    download = path.endswith(".csv")
    status, body, _, _ = _fetch(client, path, first_only=download)  # warm-up
    totals, firsts = [], []
    # A whole export can take seconds: fewer of them (its figure is for information).
    for _ in range(min(repeat, 2) if download else repeat):
        status, body, first, total = _fetch(client, path)
        firsts.append(first)
        totals.append(total)
    page = Page(
        label=label,
        path=path,
        status=status,
        bytes=len(body),
        ms=statistics.median(totals),
        first_byte_ms=statistics.median(firsts),
        rss_mb=_rss_mb(pid),
    )
    is_html = not path.endswith((".csv", ".json"))
    return page, body.decode("utf-8", "replace") if is_html else ""


def _later_page(client: httpx.Client, list_path: str, first_page: str, hops: int) -> str | None:
    """Follow a list's next link `hops` times (fewer if it ends); that page."""
    page, found = first_page, None
    for _ in range(hops):
        link = _next_link(page, list_path)
        if link is None:
            break
        found = link
        page = client.get(link).text
    return found


def _next_link(page: str, list_path: str) -> str | None:
    for match in _REL_NEXT.finditer(page):
        link = match.group(1) or match.group(2)
        if link.startswith(list_path + "?"):
            return html.unescape(link)
    for match in _NEXT.finditer(page):
        if match.group(1).startswith(list_path + "?"):
            return html.unescape(match.group(1))
    return None


def _staff_pages(base: str, pid: int, secret: str, repeat: int, hops: int, world: World) -> None:
    links: dict[str, str] = {}
    with httpx.Client(base_url=base, timeout=300, follow_redirects=False) as client:
        _sign_in(client, secret)
        world.figures["worker RSS after sign-in"] = _rss_mb(pid)
        for label, template in PAGES:
            path = template
            if template.startswith("{"):
                key = template[1 : template.index("}")]
                if key not in links:
                    world.notes.append(f"{label}: no link found on the pages before; skipped")
                    continue
                path = links[key] + template[template.index("}") + 1 :]
            page, body = _timed(client, pid, label, path, repeat)
            world.pages.append(page)
            for key, pattern in LINKS.items():
                if key not in links and (match := pattern.search(body)):
                    links[key] = match.group(1)
                    if key == "preview":
                        links[key] = (
                            f"/staff/broadcasts/preview?kind=reminders&day={match.group(1)}"
                        )
            if template in LATER:
                later = _later_page(client, template, body, hops)
                if later is not None:
                    links[LATER[template]] = later
        metrics = []
        for _ in range(repeat + 1):
            started = time.perf_counter()
            response = client.get("/metrics")
            metrics.append((time.perf_counter() - started) * 1000)
        world.figures["/metrics ms"] = statistics.median(metrics[1:])
        if response.status_code != 200:
            world.notes.append(f"/metrics answered HTTP {response.status_code}")
        world.figures["worker RSS after every page"] = _rss_mb(pid)


async def _texts(
    base: str, mobiles: list[str], rate: float, seconds: float
) -> tuple[list[float], int, int]:
    host, port = base.removeprefix("http://").split(":")
    total = int(rate * seconds)
    senders = [mobiles[i % len(mobiles)] for i in range(total)]
    requests = _requests(base, senders, random.Random(16))
    pool = ConnectionPool(host, int(port), 50)
    try:
        outcome = await open_loop(pool, requests, rate, seconds)
    finally:
        await pool.close()
    return outcome.latencies_ms, outcome.ok, outcome.errors


def _newest_message_id(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(text("SELECT coalesce(max(id), 0) FROM messages")).scalar_one()
            )
    finally:
        engine.dispose()


def _end_to_end(url: str, after_id: int, wait_seconds: float = 180) -> tuple[list[float], int]:
    """Stored -> first reply queued for the texts stored after `after_id`; and unanswered."""
    pending = text(
        "SELECT count(*) FROM messages WHERE id > :after AND direction = 'in' "
        "AND processed_at IS NULL"
    )
    pairs = text(
        "SELECT m.created_at, o.created_at FROM messages m "
        "LEFT JOIN outbox o ON o.idempotency_key = 'reply' || '\\:' || m.id || '\\:0' "
        "WHERE m.id > :after AND m.direction = 'in' AND m.channel = 'sms'"
    )
    engine = create_engine(url)
    deadline = time.monotonic() + wait_seconds
    try:
        with engine.connect() as connection:
            while connection.execute(pending, {"after": after_id}).scalar_one():
                connection.commit()
                if time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            rows = connection.execute(pairs, {"after": after_id}).all()
    finally:
        engine.dispose()
    latencies = [(q - s).total_seconds() * 1000 for s, q in rows if q is not None]
    return latencies, sum(1 for _, q in rows if q is None)


def _served(worlds: list[World], twilio_base: str, args: argparse.Namespace) -> None:
    """Both apps up at once: each world's staff pages, then the texts in alternating
    windows (demo, big, big, demo, ...), so a busy moment on the shared machine falls on
    both worlds alike rather than on whichever was measured then."""
    with (
        _server(worlds[0].url, twilio_base) as first,
        _server(worlds[1].url, twilio_base) as second,
    ):
        served = [(worlds[0], *first), (worlds[1], *second)]
        for world, base, pid in served:
            _attempt(
                world,
                "staff pages",
                lambda w=world, b=base, p=pid: _staff_pages(
                    b, p, w.secret, args.repeat, args.hops, w
                ),
            )
        # Warm-up, not counted: a few seconds of the same texts, answered before timing.
        for world, base, _ in served:
            mobiles = [m for _, m in world.residents]
            after = _newest_message_id(world.url)
            asyncio.run(_texts(base, mobiles, args.rate, WARM_UP_SECONDS))
            _end_to_end(world.url, after)
        samples: dict[str, dict[str, list[float]]] = {
            w.name: {"ack": [], "e2e": []} for w in worlds
        }
        window = args.seconds / args.rounds
        for round_ in range(args.rounds):
            for world, base, _ in served if round_ % 2 == 0 else served[::-1]:
                mobiles = [m for _, m in world.residents]
                after = _newest_message_id(world.url)
                ack, ok, errors = asyncio.run(_texts(base, mobiles, args.rate, window))
                e2e, unanswered = _end_to_end(world.url, after)
                samples[world.name]["ack"] += ack
                samples[world.name]["e2e"] += e2e
                figures = world.figures
                figures["texts acknowledged"] = (figures.get("texts acknowledged") or 0) + ok
                figures["texts failed or unanswered"] = (
                    (figures.get("texts failed or unanswered") or 0) + errors + unanswered
                )
        for world, _, pid in served:
            world.figures["worker RSS after the texts"] = _rss_mb(pid)
            ack, e2e = samples[world.name]["ack"], samples[world.name]["e2e"]
            world.figures["ack p50 ms"] = _percentile(ack, 50)
            world.figures["ack p99 ms"] = _percentile(ack, 99)
            world.figures["e2e p50 ms"] = _percentile(e2e, 50)
            world.figures["e2e p99 ms"] = _percentile(e2e, 99)


# -- in this process: SQL per text, planner, recover, dispatch -----------------------------


@dataclass
class SqlCount:
    """Statements executed on an engine and their time, in all and by statement text."""

    statements: int = 0
    seconds: float = 0.0
    by_text: dict[str, list[float]] = field(default_factory=dict)
    _started: list[float] = field(default_factory=list)

    def attach(self, engine: Any) -> Callable[[], None]:
        def before(*_: Any) -> None:
            self._started.append(time.perf_counter())

        def after(_conn: Any, _cursor: Any, statement: str, *__: Any) -> None:
            took = time.perf_counter() - self._started.pop()
            self.statements += 1
            self.seconds += took
            key = " ".join(statement.split())[:110]
            self.by_text.setdefault(key, []).append(took)

        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)

        def detach() -> None:
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)

        return detach

    def costliest(self, n: int) -> list[str]:
        ranked = sorted(self.by_text.items(), key=lambda item: -sum(item[1]))[:n]
        return [
            f"{sum(times) * 1000:8.1f} ms {len(times):5d}x  {statement}"
            for statement, times in ranked
        ]


def _timed_ms(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) * 1000


@dataclass
class Jobs:
    """One world's service, built as the scheduler builds it, in this process."""

    world: World
    runtime: Any
    samples: dict[str, list[float]] = field(default_factory=dict)
    #: By who texts ("" the demo's residents, LONG those with the longest histories).
    sql: dict[str, SqlCount] = field(default_factory=dict)
    sql_texts: dict[str, int] = field(default_factory=dict)
    sql_seconds: dict[str, float] = field(default_factory=dict)

    def sample(self, key: str, value: float) -> None:
        self.samples.setdefault(key, []).append(value)


def _alternating(jobs: list[Jobs], rounds: int) -> Iterator[Jobs]:
    """demo, big, big, demo, demo, big...: neither world always goes first."""
    for round_ in range(rounds):
        yield from jobs if round_ % 2 == 0 else jobs[::-1]


def _in_process(worlds: list[World], args: argparse.Namespace, live: World | None) -> None:
    """The scheduler's jobs and the inbound pipeline in this process, each measured in
    alternating rounds over the two worlds (and the planner's steady pass over the
    live-visits world too, when there is one)."""
    clock = SystemClock()
    jobs = []
    for world in [*worlds, *([live] if live else [])]:
        settings = load_settings(
            database_url=world.url,
            simulator=False,
            secret_key=secrets.token_hex(32),
            scheduler_in_process=False,
            log_level="WARNING",
        )
        jobs.append(Jobs(world, build_runtime(settings, clock=clock)))

    planners, jobs = jobs, jobs[: len(worlds)]

    def each(
        part: str, run: Callable[[Jobs], object], rounds: int, among: list[Jobs] | None = None
    ) -> None:
        for job in _alternating(among or jobs, rounds):
            _attempt(job.world, part, lambda j=job: run(j), quiet=True)

    def steady_first(job: Jobs) -> None:
        # At the real time the first pass plans what is new; the next ones are steady.
        db, zone = job.runtime.db, job.runtime.settings.zone
        job.world.figures["live visits"] = plan(db, now=clock.now(), zone=zone).appointments

    def steady(job: Jobs) -> None:
        db, zone = job.runtime.db, job.runtime.settings.zone
        job.sample("planner steady ms", _timed_ms(lambda: plan(db, now=clock.now(), zone=zone)))

    def recover_once(job: Jobs) -> None:
        asyncio.run(job.runtime.pipeline.process_pending(older_than=timedelta(seconds=60)))

    def recover(job: Jobs) -> None:
        # Several calls in one event loop, as the scheduler makes them (a fresh loop per
        # call would time the loop's and its thread pool's start, not the job).
        pipeline = job.runtime.pipeline

        async def calls() -> list[float]:
            times = []
            for _ in range(args.repeat + 1):
                started = time.perf_counter()
                await pipeline.process_pending(older_than=timedelta(seconds=60))
                times.append((time.perf_counter() - started) * 1000)
            return times[1:]

        for took in asyncio.run(calls()):
            job.sample("recover job ms", took)

    def texts(job: Jobs, n: int, *, counted: bool, group: str = "") -> None:
        senders = job.world.longest if group else job.world.residents
        if not senders:
            return
        first = job.sql_texts.get(group, 0)
        pipeline, rng = job.runtime.pipeline, random.Random(7 + first)
        mobiles = [m for _, m in senders]

        async def send() -> None:
            for i in range(n):
                await pipeline.receive(
                    InboundMessage(
                        channel=Channel.SMS,
                        address=mobiles[(first + i) % len(mobiles)],
                        text=rng.choice(TEXTS),
                        channel_message_id="SM" + uuid.uuid4().hex,
                        received_at=clock.now(),
                    )
                )

        if not counted:
            asyncio.run(send())
            return
        detach = job.sql.setdefault(group, SqlCount()).attach(job.runtime.db.engine)
        started = time.perf_counter()
        try:
            asyncio.run(send())
        finally:
            detach()
        job.sql_seconds[group] = job.sql_seconds.get(group, 0.0) + time.perf_counter() - started
        job.sql_texts[group] = first + n

    def dispatch_first(job: Jobs) -> None:
        due = _drain(job.runtime.db, job.runtime.settings.zone)[0]
        job.world.figures["due before (drained untimed)"] = due

    def dispatch(job: Jobs, group: str = "") -> None:
        senders = job.world.longest if group else job.world.residents
        if not senders:
            return
        handled, seconds = _dispatch(
            job.runtime.db, job.runtime.settings.zone, senders, args.dispatch
        )
        job.sample("dispatch s" + group, seconds)
        job.sample("dispatch rows handled" + group, handled)

    def nothing_live_first(job: Jobs) -> None:
        # Ten years on nothing is live; this first pass may take jobs a step: not counted.
        plan(job.runtime.db, now=clock.now() + FAR_FUTURE, zone=job.runtime.settings.zone)

    def nothing_live(job: Jobs) -> None:
        db, zone = job.runtime.db, job.runtime.settings.zone
        later = clock.now() + FAR_FUTURE
        job.sample("planner nothing live ms", _timed_ms(lambda: plan(db, now=later, zone=zone)))

    batch = max(1, args.texts // args.rounds)
    try:
        each("planner steady pass", steady_first, 1, planners)
        each("planner steady pass", steady, args.repeat, planners)
        each("recover job", recover_once, 1)  # anything really left unanswered, untimed
        each("recover job", recover, 2 * args.rounds)
        each("SQL per text", lambda j: texts(j, 20, counted=False), 1)
        each("SQL per text", lambda j: texts(j, batch, counted=True), args.rounds)
        each("SQL per text", lambda j: texts(j, 20, counted=False, group=LONG), 1)
        each("SQL per text", lambda j: texts(j, batch, counted=True, group=LONG), args.rounds)
        each("dispatch", dispatch_first, 1)
        each("dispatch", dispatch, args.dispatch_rounds)
        each("dispatch", lambda j: dispatch(j, LONG), args.dispatch_rounds)
        # Last: it moves jobs on as if ten years had passed.
        each("planner with nothing live", nothing_live_first, 1)
        each("planner with nothing live", nothing_live, 3 * args.repeat)
    finally:
        for job in planners:
            job.runtime.db.dispose()
    for job in planners:
        figures = job.world.figures
        for key, values in job.samples.items():
            figures[key] = statistics.median(values)
        live = figures.get("live visits")
        steady_ms = figures.get("planner steady ms")
        if live and steady_ms is not None:
            figures["planner steady ms per live visit"] = steady_ms / live
        for group, count in job.sql.items():
            n = job.sql_texts[group]
            figures["SQL statements per text" + group] = count.statements / n
            figures["SQL ms per text" + group] = count.seconds * 1000 / n
            figures["pipeline ms per text" + group] = job.sql_seconds[group] * 1000 / n
            job.world.costliest += [f"({'long histories' if group else 'demo residents'})"]
            job.world.costliest += count.costliest(6)


def _drain(db: Database, zone: Any) -> tuple[int, int]:
    """Run the real dispatcher (a RecordingSender for Twilio) until nothing is due:
    rows handled (sent, deferred, expired, blocked, failed, retried) and rows sent."""
    sender = RecordingSender()
    dispatcher = Dispatcher(
        db=db, senders={Channel.SMS: sender}, clock=SystemClock(), zone=zone,
        worker_id="scale-bench", batch_size=500, concurrency=500,
    )  # fmt: skip
    handled = 0
    while True:
        stats = asyncio.run(dispatcher.run_once())
        if stats.handled == 0:
            return handled, len(sender.sent)
        handled += stats.handled


def _dispatch(
    db: Database, zone: Any, residents: Sequence[tuple[int, str]], n: int
) -> tuple[int, float]:
    """Enqueue `n` due replies to these residents (untimed), then drain: rows handled, s."""
    now = datetime.now(UTC)
    run = uuid.uuid4().hex[:8]
    with db.session() as session:
        for index in range(n):
            resident_id, mobile = residents[index % len(residents)]
            enqueue(
                session,
                key=f"scale:{run}:{index}",
                kind="notice",
                purpose="reply",
                text=f"Doorstep: thank you, we have noted that. Ref {index}",
                not_before=now - timedelta(seconds=1),
                now=now,
                channel=Channel.SMS,
                address=mobile,
                resident_id=resident_id,
                expires_at=now + timedelta(hours=2),
            )
    started = time.perf_counter()
    handled, _ = _drain(db, zone)
    return handled, time.perf_counter() - started


# -- the table ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    label: str
    demo: float | None
    big: float | None
    unit: str
    #: "ratio" (big/demo <= limit), "below" (big < limit), or "" (for information).
    kind: str = ""
    limit: float = 0.0

    @property
    def ratio(self) -> float | None:
        if self.demo is None or self.big is None or self.demo == 0:
            return None
        return self.big / self.demo

    @property
    def target(self) -> str:
        if self.kind == "ratio":
            return f"big/demo <= {self.limit:g}"
        if self.kind == "below":
            return f"big < {self.limit:g} {self.unit}"
        if self.kind == "both below":
            return f"each < {self.limit:g} {self.unit}"
        return ""

    @property
    def met(self) -> bool | None:
        if self.kind == "ratio":
            return None if self.ratio is None else self.ratio <= self.limit
        if self.kind == "below":
            return None if self.big is None else self.big < self.limit
        if self.kind == "both below":
            if self.big is None or self.demo is None:
                return None
            return max(self.big, self.demo) < self.limit
        return None


def _rows(demo: World, big: World, live: World | None) -> list[Row]:
    def f(world: World, key: str) -> float | None:
        value = world.figures.get(key)
        return None if value is None else float(value)

    rows: list[Row] = []

    def add(label: str, key: str, unit: str, kind: str = "", limit: float = 0.0) -> None:
        rows.append(Row(label, f(demo, key), f(big, key), unit, kind, limit))

    add("inbound: webhook ack p50", "ack p50 ms", "ms", "ratio", 1.5)
    add("inbound: webhook ack p99", "ack p99 ms", "ms", "ratio", 1.5)
    add("inbound: stored -> reply queued p50", "e2e p50 ms", "ms", "ratio", 1.5)
    add("inbound: stored -> reply queued p99", "e2e p99 ms", "ms", "ratio", 1.5)
    add("inbound: texts failed or unanswered", "texts failed or unanswered", "")
    add("inbound: SQL statements per text", "SQL statements per text", "", "ratio", 1.5)
    add("inbound: SQL time per text", "SQL ms per text", "ms", "ratio", 1.5)
    add("inbound: pipeline time per text", "pipeline ms per text", "ms")

    def longest(label: str, key: str, unit: str, kind: str = "", limit: float = 0.0) -> None:
        # Big world's longest histories against the demo's residents in the demo world.
        rows.append(Row(label, f(demo, key), f(big, key + LONG), unit, kind, limit))

    longest(
        "inbound, longest histories: SQL statements per text",
        "SQL statements per text",
        "",
        "ratio",
        1.5,
    )
    longest("inbound, longest histories: SQL time per text", "SQL ms per text", "ms", "ratio", 1.5)
    longest("inbound, longest histories: pipeline time per text", "pipeline ms per text", "ms")
    add("planner: pass with nothing live", "planner nothing live ms", "ms", "ratio", 1.5)
    add("planner: live visits", "live visits", "")
    add("planner: steady pass", "planner steady ms", "ms")
    add("planner: steady pass per live visit", "planner steady ms per live visit", "ms")
    if live is not None:
        # The demo has no live visits: the steady pass is set against a world with the
        # big one's live visits and a hundredth of its history (the "demo" column here).
        rows.append(
            Row(
                "  live-visits world (demo column): live visits",
                f(live, "live visits"),
                f(big, "live visits"),
                "",
            )
        )
        rows.append(Row("  live-visits world (demo column): steady pass",
                        f(live, "planner steady ms"), f(big, "planner steady ms"), "ms",
                        "ratio", 1.5))  # fmt: skip
    add("recover job (nothing to recover)", "recover job ms", "ms", "ratio", 1.5)
    add("dispatch: rows drained", "dispatch rows handled", "")
    add("dispatch: time to drain them", "dispatch s", "s", "ratio", 1.5)
    longest("dispatch to longest histories: time to drain", "dispatch s", "s", "ratio", 1.5)
    demo_pages = {p.label: p for p in demo.pages}
    for page in big.pages:
        other = demo_pages.get(page.label)
        csv = page.path.endswith(".csv")
        rows.append(
            Row(
                f"{page.label} time" + (" (whole file)" if csv else ""),
                other.ms if other else None,
                page.ms,
                "ms",
                "" if csv else "below",
                300.0,
            )
        )
        if csv:
            rows.append(
                Row(
                    f"{page.label} first byte",
                    other.first_byte_ms if other else None,
                    page.first_byte_ms,
                    "ms",
                    "below",
                    300.0,
                )
            )
        rows.append(
            Row(
                f"{page.label} size", other.bytes / 1024 if other else None, page.bytes / 1024, "KB"
            )
        )
        if page.status != 200 or (other is not None and other.status != 200):
            rows.append(
                Row(f"{page.label} HTTP status", other.status if other else None, page.status, "",
                    "below", 300.0)
            )  # fmt: skip
        rows.append(
            Row("  worker RSS after it", other.rss_mb if other else None, page.rss_mb, "MB",
                "both below", 400.0)
        )  # fmt: skip
    add("/metrics", "/metrics ms", "ms", "below", 50.0)
    add("worker RSS after every page", "worker RSS after every page", "MB", "both below", 400.0)
    add("worker RSS after the texts too", "worker RSS after the texts", "MB")
    return rows


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value:.2f} s"
    if unit in ("ms",):
        return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"
    if unit == "KB":
        return f"{value:.1f} KB" if value < 1024 else f"{value / 1024:.1f} MB"
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value:,.1f}" if value != int(value) else f"{int(value):,}"


def _print_table(rows: list[Row], title: str, *, markdown: bool = False) -> None:
    header = ("measure", "demo", "big", "big/demo", "target", "met?")
    cells = [
        (
            r.label,
            _fmt(r.demo, r.unit),
            _fmt(r.big, r.unit),
            "-" if r.ratio is None else f"{r.ratio:.2f}",
            r.target,
            "" if not r.kind else ("-" if r.met is None else ("met" if r.met else "NOT MET")),
        )
        for r in rows
    ]
    try:
        from rich import box
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(c[i]) for c in [header, *cells]) for i in range(len(header))]
        print(title)
        for line in [header, *cells]:
            print(
                " | ".join(
                    v.ljust(w) if i == 0 else v.rjust(w)
                    for i, (v, w) in enumerate(zip(line, widths, strict=True))
                )
            )
        return
    table = Table(title=title, box=box.MARKDOWN if markdown else box.HEAVY_HEAD)
    for index, name in enumerate(header):
        table.add_column(name, justify="left" if index in (0, 4) else "right")
    for line, row in zip(cells, rows, strict=True):
        style = "bold red" if row.met is False else None
        table.add_row(*line, style=style)
    Console(width=160).print(table)


# -- main --------------------------------------------------------------------------------


def _arguments(sizes_type: Any) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("DOORSTEP_TEST_POSTGRES_URL", DEFAULT_PG),
        help="a server where the benchmark may create and drop databases",
    )
    parser.add_argument("--big-url", help="measure this existing big world instead of building one")
    parser.add_argument("--big-name", default=BIG_NAME, help="name of the database to build")
    parser.add_argument("--drop-big", action="store_true", help="drop the built big world after")
    parser.add_argument("--rate", type=float, default=20.0, help="texts a second")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long to text for")
    parser.add_argument("--texts", type=int, default=100, help="texts for the SQL count")
    parser.add_argument("--dispatch", type=int, default=10_000, help="due rows to dispatch")
    parser.add_argument("--repeat", type=int, default=5, help="timings per figure (median)")
    parser.add_argument(
        "--rounds", type=int, default=4, help="alternating windows of texts per world"
    )
    parser.add_argument(
        "--dispatch-rounds", type=int, default=2, help="dispatch runs per world (median)"
    )
    parser.add_argument("--hops", type=int, default=5, help="contact-log next links to follow")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument(
        "--no-live-world",
        action="store_true",
        help="skip the small world with the big one's live visits (the steady pass's yardstick)",
    )
    if sizes_type is not None:
        group = parser.add_argument_group("world sizes (benchmarks/scale_world.py)")
        for item in dataclasses.fields(sizes_type):
            default = item.default if item.default is not dataclasses.MISSING else None
            group.add_argument(
                "--" + item.name.replace("_", "-"), dest=f"size_{item.name}",
                type=type(default) if default is not None else int, default=default,
            )  # fmt: skip
    return parser.parse_args()


def _attempt(world: World, part: str, run: Callable[[], object], *, quiet: bool = False) -> None:
    """Run one part of the measurement; if it breaks, say so and carry on with the rest
    (a shared working tree can be mid-edit: the other figures are still worth printing)."""
    started = time.perf_counter()
    try:
        run()
    except Exception as exc:  # noqa: BLE001  (a benchmark reports a broken part, then goes on)
        world.notes.append(f"{part} broke off: {exc.__class__.__name__}: {exc}")
        traceback.print_exc()
    if not quiet:
        took = time.perf_counter() - started
        print(f"  {world.name}: {part} measured in {took:.0f} s", flush=True)


def _row_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table: int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
                for table in COUNTED
            }
    finally:
        engine.dispose()


def main() -> None:
    sizes_type = _sizes_type()
    args = _arguments(sizes_type)
    if not _postgres_reachable(args.postgres_url):
        sys.exit(f"no PostgreSQL at {make_url(args.postgres_url)!r}")
    started = datetime.now(UTC)
    demo_name = f"doorstep_scale_demo_{uuid.uuid4().hex[:8]}"
    demo = World("demo", _recreate(args.postgres_url, demo_name))
    built = ""
    if args.big_url:
        big = World("big", args.big_url)
        where = f"{make_url(args.big_url).database} (an existing world, --big-url)"
    else:
        if sizes_type is None:
            sys.exit("benchmarks/scale_world.py has no sizes: pass --big-url")
        big = World("big", _url_for(args.postgres_url, args.big_name))
        sizes = sizes_type(
            **{f.name: getattr(args, f"size_{f.name}") for f in dataclasses.fields(sizes_type)}
        )
        print(f"building the big world in {args.big_name}: {sizes}", flush=True)
        facts = _build_big(big.url, sizes)
        built = f"built in {facts.seconds:.0f} s, {facts.database_bytes / 2**30:.1f} GB"
        where = f"{args.big_name} ({built})"
        print(built, flush=True)
    live = None
    if not args.no_live_world and sizes_type is not None:
        live = World("live-visits", _url_for(args.postgres_url, LIVE_NAME))
        print(f"building the live-visits world in {LIVE_NAME}", flush=True)
        _build_big(live.url, _live_sizes(sizes_type, args))
    fake = FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN).start()
    try:
        _demo_world(demo.url)
        for world, heavy in ((demo, 0), (big, HEAVY_RESIDENTS)):
            counts = _row_counts(world.url)
            world.rows = counts
            print(f"{world.name}: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()),
                  flush=True)  # fmt: skip
            world.secret = _admin(world.url)
            world.residents, world.longest = _residents(world.url, heavy=heavy)
        _served([demo, big], fake.base_url, args)
        print("in-process jobs ...", flush=True)
        _in_process([demo, big], args, live)
    finally:
        fake.stop()
        _drop(args.postgres_url, demo_name)
        if live is not None:
            _drop(args.postgres_url, LIVE_NAME)
        if args.drop_big and not args.big_url:
            _drop(args.postgres_url, args.big_name)
    rows = _rows(demo, big, live)
    _print_table(
        rows,
        f"issue 16 scale benchmark, {started:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs; "
        f"big = {where}",
        markdown=args.markdown,
    )
    print(
        f"texts from the demo's {len(demo.residents)} residents in both worlds "
        f"({args.rate:g}/s for {args.seconds:g} s in {args.rounds} alternating windows, open "
        f"loop; {args.texts} through the pipeline for the SQL count); 'longest histories' rows: "
        f"the big world's {len(big.longest)} residents with the most messages and outbox rows "
        f"against the demo's residents in the demo world. Timings: medians of {args.repeat} "
        f"(pages) or of alternating rounds. Whole run "
        f"{(datetime.now(UTC) - started).total_seconds() / 60:.0f} min."
    )
    for world in (demo, big, *([live] if live else [])):
        for note in world.notes:
            print(f"{world.name}: {note}")
    for world in (demo, big):
        print(f"{world.name}: the inbound pipeline's costliest statements over {args.texts} texts")
        for line in world.costliest:
            print("  " + line)
    missed = [r.label for r in rows if r.met is False]
    print("every target met" if not missed else f"NOT MET: {', '.join(missed)}")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()

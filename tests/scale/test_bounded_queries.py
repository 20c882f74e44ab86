"""Every staff list page and the unfiltered export stay bounded however much history there is
(issue 16, item 4).

A generated world (benchmarks/scale_world.py at small sizes: several pages of every list)
is built once for this module on PostgreSQL, and each page is served by the real app,
signed in through the real login form, with a guard on the engine that records every
statement: the test fails if a statement carries more than MAX_PARAMETERS bind
parameters (PostgreSQL refuses more than 65,535; an IN list of every row is how a page
gets there), or if a SELECT returns more rows than the page shows (its page size plus one
row of look-ahead; for the streamed CSV export, its batch size). Rows returned are
psycopg's `cursor.rowcount`.

What a user notices is checked too: a page shows its page size of rows and a "next page"
link that leads to the following rows, none repeated; walking the feedback list and the
contact log page by page meets every row once; the unfiltered CSV holds every answer
exactly once.

Page sizes are read from the code (read_models.PAGE_SIZE and each page's own constant).
"""

from __future__ import annotations

import csv
import importlib.util
import io
import random
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import bindparam, create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from staff.helpers import sign_in

from bot.app import create_app
from bot.common.clock import FixedClock
from bot.settings import load_settings
from bot.web.staff import (
    feedback_views,
    read_models,
    routes_account,
    routes_api_keys,
    routes_broadcasts,
    routes_unbooked,
    routes_webhooks,
)
from nlu.builtin import BuiltinInterpreter
from storage.enums import StaffRole

pytestmark = pytest.mark.postgres

#: Bind parameters a statement may carry (PostgreSQL's hard limit is 65,535).
MAX_PARAMETERS = 1000
#: The world's clock: a Monday morning in winter, like the other tests'.
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _load_world_builder() -> Any:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "scale_world.py"
    spec = importlib.util.spec_from_file_location("scale_world", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("scale_world", module)
    spec.loader.exec_module(module)
    return module


scale_world = _load_world_builder()

#: Several pages of every list, small enough to build in a few seconds.
WORLD = scale_world.Sizes(
    residents=5_000,
    jobs=3_000,
    messages=12_000,
    outbox=6_000,
    decisions=1_200,
    feedback=1_500,
    live_visits=700,
    operatives=450,
    contractors=20,
    staff_users=250,
    staff_tasks=4_000,
    open_tasks=2_500,
    audit_events=2_000,
    access_needs=2_500,
    complaints=100,
    heavy_residents=5,
    open_jobs=400,
    api_keys=120,
    webhooks=120,
    dead_deliveries=120,
)
STAFF = "scale-staff-3@riverside.example"
ADMIN = "scale-admin-1@riverside.example"


# -- the guard ------------------------------------------------------------------------------


@dataclass
class Statement:
    sql: str
    parameters: int
    rows: int | None = None  # rows a SELECT returned; None for other statements


@dataclass
class StatementGuard:
    """Records every statement the engine runs while `watching`."""

    engine: Engine
    watching: bool = False
    seen: list[Statement] = field(default_factory=list)

    def __post_init__(self) -> None:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)

    def remove(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)

    def _before(
        self, _conn: Any, _cursor: Any, sql: str, parameters: Any, _ctx: Any, many: bool
    ) -> None:
        if self.watching:
            # Counted before running: a statement over PostgreSQL's limit never gets to after.
            self.seen.append(Statement(sql, _parameter_count(parameters, many)))

    def _after(
        self, _conn: Any, cursor: Any, sql: str, _params: Any, _ctx: Any, _many: bool
    ) -> None:
        if self.watching and self.seen and self.seen[-1].sql == sql and _is_select(sql):
            self.seen[-1].rows = cursor.rowcount

    @contextmanager
    def watch(self) -> Iterator[list[Statement]]:
        self.seen = []
        self.watching = True
        try:
            yield self.seen
        finally:
            self.watching = False


def _parameter_count(parameters: Any, many: bool) -> int:
    if many:
        return max((_parameter_count(p, False) for p in parameters), default=0)
    if parameters is None:
        return 0
    return len(parameters)


def _is_select(sql: str) -> bool:
    return sql.lstrip().split(None, 1)[0].upper() in ("SELECT", "WITH")


def violations(statements: list[Statement], *, max_rows: int) -> list[str]:
    """Each statement over the parameter limit or returning more than `max_rows` rows."""
    found = []
    for s in statements:
        one_line = " ".join(s.sql.split())[:160]
        if s.parameters > MAX_PARAMETERS:
            found.append(f"{s.parameters} parameters: {one_line}")
        if s.rows is not None and s.rows < 0:
            found.append(f"rows returned not countable (server-side cursor?): {one_line}")
        elif s.rows is not None and s.rows > max_rows:
            found.append(f"{s.rows} rows (at most {max_rows}): {one_line}")
    return found


# -- reading a page -------------------------------------------------------------------------


@dataclass
class ListView:
    """The rows of one table (by id) and the first "next page" link after it."""

    rows: list[str]
    next_href: str | None


class _ListParser(HTMLParser):
    NEXT_WORDS = ("next page", "next", "older")

    def __init__(self, table_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.table_id = table_id
        self.depth = 0  # table nesting inside ours; 0 = outside
        self.done = False
        self.in_body = False
        self.row: list[str] | None = None
        self.row_cells = 0
        self.row_spans = False
        self.rows: list[str] = []
        self.link: tuple[str, bool, list[str]] | None = None
        self.next_href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and not self.done:
            if self.depth:
                self.depth += 1
            elif a.get("id") == self.table_id:
                self.depth = 1
        elif self.depth == 1 and tag == "tbody":
            self.in_body = True
        elif self.depth == 1 and self.in_body and tag == "tr":
            self.row, self.row_cells, self.row_spans = [a.get("id") or ""], 0, False
        elif self.row is not None:
            if tag in ("td", "th"):
                self.row_cells += 1
                self.row_spans = self.row_spans or "colspan" in a
            for name in ("href", "action", "value"):
                if a.get(name):
                    self.row.append(str(a[name]))
        if tag == "a" and self.done and self.next_href is None and a.get("href"):
            self.link = (str(a["href"]), "next" in (a.get("rel") or "").split(), [])

    def handle_data(self, data: str) -> None:
        if self.row is not None:
            self.row.append(data.strip())
        if self.link is not None:
            self.link[2].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self.row is not None:
            empty_note = self.row_cells == 1 and self.row_spans
            if not empty_note:
                self.rows.append(" ".join(part for part in self.row if part))
            self.row = None
        elif tag == "tbody" and self.depth == 1:
            self.in_body = False
        elif tag == "table" and self.depth:
            self.depth -= 1
            if self.depth == 0:
                self.done = True
        elif tag == "a" and self.link is not None:
            href, rel_next, words = self.link
            if rel_next or " ".join("".join(words).split()).lower() in self.NEXT_WORDS:
                self.next_href = href
            self.link = None


def list_view(html: str, table_id: str) -> ListView:
    parser = _ListParser(table_id)
    parser.feed(html)
    assert parser.done, f"the page has no table #{table_id}"
    return ListView(parser.rows, parser.next_href)


# -- the world and the app ------------------------------------------------------------------


@pytest.fixture(scope="module")
def world_url(postgres_server_url: str) -> Iterator[str]:
    """The generated world in a database of its own (other tests empty theirs)."""
    name = f"doorstep_scale_test_{uuid.uuid4().hex[:10]}"
    url = make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)
    scale_world.build_world(url, WORLD, now=NOW, fresh=True, schema_from_models=True)
    yield url
    admin = create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def busy_day(world_url: str) -> str:
    """The day with the most booked visits (ISO); it has more than one preview page."""
    engine = create_engine(world_url)
    try:
        with engine.connect() as connection:
            day, visits = connection.execute(
                text(
                    "SELECT day, count(*) FROM appointments WHERE status = 'booked'"
                    " GROUP BY day ORDER BY count(*) DESC, day LIMIT 1"
                )
            ).one()
    finally:
        engine.dispose()
    assert visits > routes_broadcasts.PREVIEW_PAGE, "the world needs a busier day"
    return str(day.isoformat())


@dataclass
class App:
    client: TestClient
    guard: StatementGuard
    role: StaffRole | None = None

    def as_role(self, role: StaffRole) -> None:
        if self.role != role:
            self.client.cookies.clear()
            email = ADMIN if role == StaffRole.ADMIN else STAFF
            sign_in(self.client, email, scale_world.SCALE_PASSWORD)
            self.role = role

    def get(self, path: str) -> tuple[Any, list[Statement]]:
        with self.guard.watch() as seen:
            response = self.client.get(path)
            body = response.content  # a streamed response runs its statements while read
        assert response.status_code == 200, f"GET {path}: HTTP {response.status_code}"
        assert body is not None
        return response, list(seen)


@pytest.fixture(scope="module")
def app(world_url: str, interpreter: BuiltinInterpreter) -> Iterator[App]:
    settings = load_settings(database_url=world_url, simulator=True, scheduler_in_process=False)
    application = create_app(
        settings, clock=FixedClock(NOW), interpreter=interpreter, rng=random.Random(7)
    )
    guard = StatementGuard(application.state.runtime.db.engine)
    with TestClient(application) as client:
        yield App(client, guard)
    guard.remove()


# -- the pages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListPage:
    path: str
    table_id: str
    page_size: Callable[[], int]
    role: StaffRole = StaffRole.STAFF
    #: Other lists on the page, and their sizes: a statement may return one page of those.
    also_shows: Callable[[], int] = lambda: 0

    @property
    def max_rows(self) -> int:
        return max(self.page_size(), self.also_shows()) + 1


def _page_size() -> int:
    return read_models.PAGE_SIZE


LIST_PAGES = (
    ListPage(
        "/staff/feedback",
        "feedback-table",
        _page_size,  # feedback_views pages by read_models.PAGE_SIZE
        also_shows=lambda: feedback_views.CHART_WEEKS,
    ),
    ListPage("/staff/contact-log", "contact-table", _page_size),
    ListPage("/staff/tasks", "tasks-table", _page_size),
    ListPage("/staff/alerts", "tasks-table", _page_size),
    ListPage("/staff/visits", "visits-table", _page_size),
    ListPage("/staff/access-needs", "needs-table", _page_size),
    ListPage("/staff/operatives", "operatives-table", _page_size),
    ListPage(routes_unbooked.PATH, "unbooked-table", lambda: routes_unbooked.PAGE),
    ListPage(
        "/staff/admin/staff", "staff-table", lambda: routes_account.ADMIN_PAGE, StaffRole.ADMIN
    ),
    ListPage(routes_api_keys.PATH, "api-keys-table", lambda: routes_api_keys.PAGE, StaffRole.ADMIN),
    ListPage(routes_webhooks.PATH, "webhooks-table", lambda: routes_webhooks.PAGE, StaffRole.ADMIN),
    # A day's reminders, judged a page at a time; {busy_day}: the day with most booked visits.
    ListPage(
        "/staff/broadcasts/preview?kind=reminders&day={busy_day}",
        "broadcast-table",
        lambda: routes_broadcasts.PREVIEW_PAGE,
    ),
)
#: Pages without a list of their own to page through: bounded all the same.
OTHER_PAGES = (
    ("/staff", StaffRole.STAFF),
    ("/staff/broadcasts", StaffRole.STAFF),
    ("/staff/import", StaffRole.STAFF),
)


def _check_page(app: App, page: ListPage, path: str) -> ListView:
    response, seen = app.get(path)
    bad = violations(seen, max_rows=page.max_rows)
    assert not bad, f"GET {path} ({len(seen)} statements):\n" + "\n".join(bad)
    return list_view(response.text, page.table_id)


def test_the_guard_sees_long_in_lists_and_big_results(app: App) -> None:
    """The guard itself: what the pages must never do, it reports."""
    engine = app.guard.engine
    with app.guard.watch() as seen, engine.connect() as connection:
        ids = list(range(-MAX_PARAMETERS - 1, 0))  # no such rows: only the IN list counts
        connection.execute(
            text("SELECT id FROM feedback WHERE id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": ids},
        )
        connection.execute(text("SELECT id FROM feedback LIMIT 300"))
    found = violations(list(seen), max_rows=201)
    assert len(found) == 2, found
    assert found[0].startswith(f"{MAX_PARAMETERS + 1} parameters")
    assert found[1].startswith("300 rows (at most 201)")


@pytest.mark.parametrize("page", LIST_PAGES, ids=lambda p: p.path)
def test_list_page_loads_no_more_than_it_shows(app: App, page: ListPage, busy_day: str) -> None:
    app.as_role(page.role)
    path = page.path.format(busy_day=busy_day)
    first = _check_page(app, page, path)
    assert len(first.rows) == page.page_size(), (
        f"{path} shows {len(first.rows)} rows; the world has several pages of {page.page_size()}"
    )
    assert first.next_href, f"{path} has no link to the next page"
    following = urljoin(path, first.next_href)
    assert urlsplit(following).path == urlsplit(path).path
    second = _check_page(app, page, following)
    assert second.rows, f"{following} is empty"
    assert len(second.rows) <= page.page_size()
    repeated = set(first.rows) & set(second.rows)
    assert not repeated, f"{following} repeats rows of the first page: {sorted(repeated)[:3]}"


@pytest.mark.parametrize(("path", "role"), OTHER_PAGES, ids=[p for p, _ in OTHER_PAGES])
def test_other_pages_are_bounded(app: App, path: str, role: StaffRole) -> None:
    app.as_role(role)
    _, seen = app.get(path)
    bad = violations(seen, max_rows=_page_size() + 1)
    assert not bad, f"GET {path} ({len(seen)} statements):\n" + "\n".join(bad)


def _walk(app: App, page: ListPage) -> list[str]:
    """Every row of the list, page by page, following the "next page" links."""
    app.as_role(page.role)
    rows: list[str] = []
    path: str | None = page.path
    while path is not None:
        view = _check_page(app, page, path)
        rows += view.rows
        path = urljoin(page.path, view.next_href) if view.next_href else None
        assert len(rows) < 100_000, "the pages never end"
    return rows


def _ids(rows: list[str], prefix: str) -> list[int]:
    """The ids in the rows' links to `prefix`<id> (one a row)."""
    found = []
    for row in rows:
        ids = {
            int(w[len(prefix) :])
            for w in row.split()
            if w.startswith(prefix) and w[len(prefix) :].isdigit()
        }
        assert len(ids) == 1, f"a row without one link to {prefix}<id>: {row[:200]}"
        found.append(ids.pop())
    return found


def _scalar_ids(world_url: str, sql: str) -> list[int]:
    engine = create_engine(world_url)
    try:
        with engine.connect() as connection:
            return [int(v) for v in connection.execute(text(sql)).scalars()]
    finally:
        engine.dispose()


def test_feedback_pages_meet_every_answer_once(app: App, world_url: str) -> None:
    rows = _walk(app, LIST_PAGES[0])
    shown = _ids(rows, "/staff/feedback/")
    assert len(shown) == len(set(shown)), "an answer appears on two pages"
    assert sorted(shown) == _scalar_ids(world_url, "SELECT id FROM feedback ORDER BY id")


def test_contact_log_pages_meet_every_decision_once(app: App, world_url: str) -> None:
    rows = _walk(app, LIST_PAGES[1])
    assert len(rows) == len(set(rows)), "a decision appears on two pages"
    assert len(rows) == len(_scalar_ids(world_url, "SELECT id FROM contact_decisions ORDER BY id"))


def test_unfiltered_feedback_csv_has_every_answer_once(app: App, world_url: str) -> None:
    app.as_role(StaffRole.STAFF)
    response, seen = app.get("/staff/feedback.csv")
    bad = violations(seen, max_rows=feedback_views.CSV_BATCH)
    assert not bad, f"GET /staff/feedback.csv ({len(seen)} statements):\n" + "\n".join(bad)
    lines = list(csv.DictReader(io.StringIO(response.text)))
    ids = [int(line["feedback_id"]) for line in lines]
    assert len(ids) == len(set(ids)), "an answer is in the export twice"
    assert sorted(ids) == _scalar_ids(world_url, "SELECT id FROM feedback ORDER BY id")

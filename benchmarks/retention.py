# ruff: noqa: E501  (the SQL reads best unwrapped)
"""Measure retention (bot/outbound/retention.py) on a PostgreSQL world of its own.

    .venv/bin/python benchmarks/retention.py [--scale 0.1] [--years-later 3] [--keep]

Builds `benchmarks/scale_world.py`'s world at `--scale` of the issue's sizes (six years of
history) into a new database, `doorstep_retention_bench` (dropped afterwards unless
`--keep`; never doorstep_scale), marks a share of residents as having left (tenancy
ended seven years before the run, their repairs finished; some access needs withdrawn),
then runs retention `--years-later` years after the build: a dry run, then the real run,
then a second real run (a quiet day: what a daily run costs once the backlog is gone).
Prints each run's figures, rows changed per second and the longest batch (the longest
single transaction), and checks the dry run counted what the real run did.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.scale_world import Sizes, build_world
from bot.outbound.retention import RetentionFigures, RetentionPolicy, run_retention
from bot.settings import load_settings
from storage.db import Database

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
NAME = "doorstep_retention_bench"
LONDON = ZoneInfo("Europe/London")


def scaled(scale: float) -> Sizes:
    base = Sizes()
    counts = {
        f.name: max(1, round(getattr(base, f.name) * scale))
        for f in fields(Sizes)
        if isinstance(getattr(base, f.name), int)
        and f.name not in ("api_keys", "webhooks", "heavy_residents")
    }
    return replace(base, **counts)


def mark_leavers(url: str, *, build_now: datetime, run_at: datetime) -> None:
    """One resident in ten left seven years before the run, with every repair finished;
    one access need in five was withdrawn a year before the build."""
    ended = (run_at - timedelta(days=7 * 365)).date()
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(
            text("UPDATE residents SET tenancy_ended_on = :d WHERE id % 10 = 3 AND id > 8"),
            {"d": ended},
        )
        c.execute(
            text("UPDATE access_needs SET active = false, withdrawn_at = :w WHERE id % 5 = 1"),
            {"w": build_now - timedelta(days=365)},
        )
        c.execute(text("ANALYZE"))
    engine.dispose()


def report(label: str, figures: RetentionFigures) -> None:
    print(f"\n{label}: {figures.seconds:.1f} s, longest batch {figures.longest_batch_ms:.0f} ms")
    print(
        f"{'kind':<20}{'days':>6}{'examined':>10}{'deleted':>10}{'anonymised':>11}{'complaint':>10}{'active':>9}{'batches':>8}{'max ms':>8}"
    )
    for k in figures.kinds:
        print(
            f"{k.kind.value:<20}{k.days:>6}{k.examined:>10,}{k.deleted:>10,}{k.anonymised:>11,}"
            f"{k.kept_for_complaint:>10,}{k.kept_active:>9,}{k.batches:>8}{k.longest_batch_ms:>8.0f}"
        )
    examined = sum(k.examined for k in figures.kinds)
    print(
        f"examined {examined:,} rows ({examined / figures.seconds:,.0f}/s), "
        f"changed {figures.changed:,} ({figures.changed / figures.seconds:,.0f}/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=0.1, help="share of the issue's sizes")
    parser.add_argument(
        "--years-later", type=float, default=3.0, help="run this long after the build"
    )
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    url = make_url(SERVER).set(database=NAME).render_as_string(hide_password=False)
    build_now = datetime.now(UTC).replace(microsecond=0)
    run_at = build_now + timedelta(days=round(365.25 * args.years_later))
    started = time.perf_counter()
    facts = build_world(url, scaled(args.scale), now=build_now, fresh=True)
    print(
        f"built in {time.perf_counter() - started:.0f} s: "
        + ", ".join(f"{t} {n:,}" for t, n in sorted(facts.rows.items()) if n)
    )
    mark_leavers(url, build_now=build_now, run_at=run_at)
    policy = RetentionPolicy.from_settings(
        load_settings(database_url=url, retention_batch_size=args.batch_size)
    )
    db = Database(url)
    try:
        dry = run_retention(db, policy=policy, now=run_at, zone=LONDON, dry_run=True)
        report("dry run", dry)
        real = run_retention(db, policy=policy, now=run_at, zone=LONDON)
        report("real run", real)
        same = [
            (d.kind.value, d.examined, r.examined)
            for d, r in zip(dry.kinds, real.kinds, strict=True)
            if (d.examined, d.deleted, d.anonymised) != (r.examined, r.deleted, r.anonymised)
        ]
        print("dry run counted what the real run did" if not same else f"dry run differs: {same}")
        quiet = run_retention(db, policy=policy, now=run_at + timedelta(days=1), zone=LONDON)
        report("next day's run", quiet)
    finally:
        db.dispose()
        if not args.keep:
            admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()

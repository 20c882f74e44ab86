# ruff: noqa: E501, SIM905  (the SQL reads best unwrapped; the name lists are word lists)
"""Build a big landlord's world on PostgreSQL in minutes: years of history, bulk SQL.

    .venv/bin/python benchmarks/scale_world.py \\
        --url postgresql+psycopg://postgres@127.0.0.1:5432/doorstep_scale [--fresh] \\
        [--residents 210000 --jobs 300000 --messages 2060000 --outbox 1080000 \\
         --decisions 1060000 --feedback 95000 --live-visits 10800 ...] [--now ISO]

Creates the database if it is missing (`--fresh` drops and recreates it), migrates it to
head with the project's own migrations, loads the demo world (`bot.cli.demo.load_demo`:
the same demo residents, phones and operatives exist in the demo database and here), and
then adds, with INSERT ... SELECT generate_series statements, one big landlord's history
under the demo landlord: homes and residents (valid, unique UK mobiles; opt-outs,
unreachable numbers, Telegram users, nominees, narrowed contact hours, access needs),
contractors and operatives, about six years of repair jobs and visits (completed,
cancelled, no access) and the live ones booked in the next 14 days, the outbox of
everything the service sent (mostly sent, some expired, failed or blocked, the live
visits' reminders pending and a handful due now) with its contact decisions, the
transcripts (every sent outbox row's message, feedback conversations, general chats, and
a few residents with thousands of messages), feedback with flags, reviews and
complaints, staff users, staff tasks and audit events. Then ANALYZE.

Deterministic: every "random" choice is a hash of the row number and a salt
(`hashint8extended`), so the same sizes and `--now` give the same rows.

Staff accounts: `scale-admin-1@riverside.example` (administrator, two-factor secret
`SCALE_TOTP`), `scale-staff-N@riverside.example`, `scale-viewer-N@riverside.example`,
all with the password `SCALE_PASSWORD`.

Library use: `build_world(url, Sizes(...), now=...) -> WorldFacts`.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.cli.demo import load_demo
from bot.web.staff.passwords import hash_password
from flows.codes import CODE_LENGTH, _is_guessable
from flows.local_time import LONDON
from storage.db import Database
from storage.migrate import alembic_config, upgrade

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/doorstep_scale"
SCALE_PASSWORD = "scale-world-orchard-42"
SCALE_TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
#: How many years of history the past visits are spread over.
YEARS = 6


@dataclass(frozen=True, slots=True)
class Sizes:
    """Row counts to build (the issue's big landlord by default)."""

    residents: int = 210_000
    jobs: int = 300_000
    messages: int = 2_060_000
    outbox: int = 1_080_000
    decisions: int = 1_060_000
    feedback: int = 95_000
    live_visits: int = 10_800
    operatives: int = 600
    contractors: int = 40
    staff_users: int = 30
    staff_tasks: int = 24_000
    #: The newest tasks still open or claimed (the rest are closed): the staff queue.
    open_tasks: int = 400
    audit_events: int = 150_000
    access_needs: int = 26_000
    complaints: int = 2_000
    #: Repairs with no visit yet (open or in triage); about half on the unbooked list.
    open_jobs: int = 3_000
    api_keys: int = 6
    webhooks: int = 3
    #: Webhook deliveries given up on (each with its landlord event).
    dead_deliveries: int = 200
    #: Residents with thousands of messages each (long-standing, chatty, or in dispute).
    heavy_residents: int = 20
    #: Share of all messages that belong to the heavy residents.
    heavy_share: float = 0.05
    #: Outbox rows due now (pending, not_before in the last minutes): a realistic handful.
    due_now: int = 40


@dataclass(frozen=True, slots=True)
class WorldFacts:
    url: str
    now: datetime
    sizes: Sizes
    #: Rows per table after the build (demo rows included).
    rows: dict[str, int]
    seconds: float
    #: Seconds per build step.
    steps: dict[str, float]
    database_bytes: int

    def summary(self) -> str:
        lines = [
            f"world at {make_url(self.url).render_as_string()} (now={self.now.isoformat()})",
            f"built in {self.seconds:.1f} s; database size {self.database_bytes / 2**20:.0f} MB",
        ]
        lines += [f"  {table:<22} {count:>10,}" for table, count in sorted(self.rows.items())]
        return "\n".join(lines)


# -- SQL ------------------------------------------------------------------------------------

#: u(i, salt): a uniform number in [0, 1) from a row number and a salt; deterministic.
_HELPERS = """
CREATE OR REPLACE FUNCTION pg_temp.u(i bigint, salt bigint) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (hashint8extended(i, salt) & 9007199254740991)::float8 / 9007199254740992.0 $$;
CREATE OR REPLACE FUNCTION pg_temp.pick(i bigint, salt bigint, n bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT 1 + floor(pg_temp.u(i, salt) * n)::bigint $$;
CREATE OR REPLACE FUNCTION pg_temp.at_london(d date, t time) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (d + t) AT TIME ZONE 'Europe/London' $$;
"""

_TABLES = (
    "landlords",
    "contractors",
    "operatives",
    "availability",
    "properties",
    "residents",
    "access_needs",
    "repair_jobs",
    "appointments",
    "appointment_events",
    "conversations",
    "outbox",
    "contact_decisions",
    "messages",
    "feedback",
    "complaints",
    "staff_users",
    "staff_tasks",
    "audit_events",
    "disclosures",
    "api_keys",
    "webhook_subscriptions",
    "landlord_events",
    "webhook_deliveries",
)

_FIRST_NAMES = (
    "Amelia Olivia Isla Ava Mia Ivy Lily Freya Grace Sophia Noah Oliver George Arthur Leo "
    "Harry Oscar Jack Charlie Muhammad Fatima Zara Aisha Priya Tomasz Agnieszka Kwame Chloe "
    "Rhys Dylan Sian Megan Callum Ewan Niamh Aoife Connor Sean Ellie Ruby"
).split()
_SURNAMES = (
    "Smith Jones Williams Brown Taylor Davies Evans Wilson Thomas Johnson Roberts Robinson "
    "Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson "
    "Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan "
    "Khan Ali Begum Okafor Nowak Kowalski Murphy Kelly Campbell"
).split()
_STREETS = (
    "Aire Court, Kirkstall Road|Leeds|LS3|england",
    "Mill Lane|Bradford|BD1|england",
    "Station Road|Wakefield|WF1|england",
    "Church Street|Sheffield|S1|england",
    "Victoria Road|Hull|HU1|england",
    "Park Avenue|York|YO1|england",
    "High Street|Doncaster|DN1|england",
    "Heol y Castell|Cardiff|CF10|wales",
    "Mumbles Road|Swansea|SA3|wales",
    "Queen Street|Manchester|M1|england",
    "Canal Side|Leeds|LS11|england",
    "Oak Terrace|Huddersfield|HD1|england",
)
_JOB_TEXTS = (
    "Kitchen tap dripping constantly|plumbing",
    "Bathroom extractor fan not working|electrical",
    "Back door sticks and will not lock|carpentry",
    "Radiator in bedroom cold at the top|plumbing",
    "Loose socket in the living room|electrical",
    "Kitchen cupboard door hanging off|carpentry",
    "Toilet cistern keeps running|plumbing",
    "Damp patch on the bedroom ceiling|general",
    "Boiler losing pressure|gas",
    "Roof tiles slipped after the storm|roofing",
    "Crack in the hallway plaster|plastering",
    "Window will not close properly|carpentry",
    "Black mould in the bathroom|general",
    "No hot water|gas",
    "Leak under the kitchen sink|plumbing",
    "Light in the stairwell flickering|electrical",
)
_CHAT_IN = (
    "Hi is my repair still booked",
    "Can you change my appointment",
    "What time are they coming",
    "Thanks",
    "1",
    "2",
    "Yes",
    "No",
    "Nobody came today",
    "The leak is getting worse",
    "Can I have a morning slot",
    "I will be in all day",
    "STOP",
    "START",
    "Who is coming?",
    "ok thanks",
)
_CHAT_OUT = (
    "Thanks, your visit is booked. Your visit code is on its way.",
    "Reply 1 for a morning visit or 2 for an afternoon visit.",
    "Your operative is on the way.",
    "Sorry to hear that. A member of staff will call you back today.",
    "We have changed your visit. Reply 1 to confirm.",
    "You will get no more texts from us. Reply START to get them again.",
    "Thanks, we have noted that.",
    "Your visit is tomorrow, morning 8am-12pm.",
)
_OUTBOX_KINDS = (
    "reminder_evening",
    "reminder_morning",
    "on_the_way",
    "feedback_request",
    "arrived",
    "running_late",
    "needs_review",
    "cant_get_in",
)
#: Offset of each kind's not_before from the visit's start.
_OUTBOX_OFFSETS = (
    "-14 hours",
    "-1 hours",
    "30 minutes",
    "6 hours",
    "1 hour",
    "45 minutes",
    "-2 days",
    "1 hour 30 minutes",
)
_ACCESS_NEEDS = (
    "wheelchair|I use a wheelchair, please use the side ramp",
    "mobility|I am slow to get to the door, please wait",
    "hearing|I am deaf, please text me, do not ring",
    "sight|I am partially sighted, please say who you are",
    "interpreter|I need an interpreter for anything complicated",
    "language|Please text me in simple English",
    "pet|I have a big dog, I will shut him in the kitchen",
    "call_ahead|Please ring 30 minutes before you come",
    "carer|My carer is here on weekday mornings",
    "mental_health|I get anxious with visitors, please be patient",
    "sleep_hours|I work nights, no visits before 12 please",
    "children|Small children in the house, please close the gate",
    "key_safe|Key in the key safe, code from the office",
    "other|Please knock loudly",
)
_TASK_KINDS = ("callback", "handoff", "triage", "alert", "number_check", "unbooked")
_AUDIT_ACTIONS = (
    "staff.feedback.reviewed|feedback",
    "staff.task.claimed|staff_task",
    "staff.task.closed|staff_task",
    "staff.task.replied|staff_task",
    "staff.feedback.exported|feedback",
    "staff.login|staff_user",
    "staff.logout|staff_user",
    "staff.appointment.rebooked|appointment",
)


def _arr(values: tuple[str, ...] | list[str]) -> str:
    """A text[] literal (values are ours: no quotes inside)."""
    return "ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "]::text[]"


def _visit_codes() -> list[str]:
    return [
        f"{n:0{CODE_LENGTH}d}"
        for n in range(10**CODE_LENGTH)
        if not _is_guessable(f"{n:0{CODE_LENGTH}d}")
    ]


def _steps(p: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, SQL) in build order. Ids are explicit (base + row number) so rows can point
    at each other without reading ids back; the sequences are moved on at the end."""
    first = _arr(_FIRST_NAMES)
    last = _arr(_SURNAMES)
    streets = _arr(_STREETS)
    jobs = _arr(_JOB_TEXTS)
    chat_in = _arr(_CHAT_IN)
    chat_out = _arr(_CHAT_OUT)
    kinds = _arr(_OUTBOX_KINDS)
    offsets = _arr(_OUTBOX_OFFSETS)
    needs = _arr(_ACCESS_NEEDS)
    task_kinds = _arr(_TASK_KINDS)
    actions = _arr(_AUDIT_ACTIONS)
    codes = _arr(_visit_codes())
    span = YEARS * 365
    return [
        (
            "staff_users",
            """
INSERT INTO staff_users (id, email, name, password_hash, role, active, created_at, totp_secret)
SELECT %(staff_base)s + s,
       CASE WHEN s <= 2 THEN 'scale-admin-' || s WHEN s > %(staff_users)s - 4 THEN 'scale-viewer-' || s
            ELSE 'scale-staff-' || s END || '@riverside.example',
       'Scale Staff ' || s, %(password_hash)s,
       CASE WHEN s <= 2 THEN 'admin' WHEN s > %(staff_users)s - 4 THEN 'viewer' ELSE 'staff' END,
       s %% 10 <> 9, %(now)s - make_interval(days => 2000 - s),
       CASE WHEN s <= 2 THEN %(totp)s END
FROM generate_series(1, %(staff_users)s) s""",
        ),
        (
            "contractors",
            f"""
INSERT INTO contractors (id, landlord_id, name, phone)
SELECT %(contractor_base)s + c, %(landlord)s,
       ({last})[pg_temp.pick(c, 11, {len(_SURNAMES)})] || ' ' ||
       (ARRAY['Building Services','Plumbing Ltd','Electrical','Maintenance','Property Care'])
           [pg_temp.pick(c, 12, 5)] || ' ' || c,
       '0113 496 ' || lpad((1000 + c)::text, 4, '0')
FROM generate_series(1, %(contractors)s) c""",
        ),
        (
            "operatives",
            f"""
INSERT INTO operatives (id, landlord_id, reference, contractor_id, name, badge_number,
                        photo_path, trades, active)
SELECT %(operative_base)s + o, %(landlord)s, 'OP-S' || o,
       %(contractor_base)s + pg_temp.pick(o, 21, %(contractors)s),
       ({first})[pg_temp.pick(o, 22, {len(_FIRST_NAMES)})] || ' ' ||
           ({last})[pg_temp.pick(o, 23, {len(_SURNAMES)})],
       (700000 + o)::text, NULL,
       json_build_array(split_part(({jobs})[pg_temp.pick(o, 24, {len(_JOB_TEXTS)})], '|', 2),
                        split_part(({jobs})[pg_temp.pick(o, 25, {len(_JOB_TEXTS)})], '|', 2)),
       pg_temp.u(o, 26) >= 0.03
FROM generate_series(1, %(operatives)s) o""",
        ),
        (
            "availability",
            """
INSERT INTO availability (id, operative_id, day, "window", capacity, booked)
SELECT %(availability_base)s + row_number() OVER (ORDER BY d, o, w), %(operative_base)s + o,
       d, (ARRAY['morning', 'afternoon'])[w], %(capacity)s, 0
FROM generate_series(1, 14) k
CROSS JOIN LATERAL (SELECT (%(today)s::date + k) AS d) days
CROSS JOIN generate_series(1, %(operatives)s) o
CROSS JOIN generate_series(1, 2) w
WHERE extract(isodow FROM d) <> 7""",
        ),
        (
            "properties",
            f"""
INSERT INTO properties (id, landlord_id, reference, uprn, address, postcode, nation)
SELECT %(property_base)s + r, %(landlord)s, 'PR-S' || r, (100000000000 + r * 7)::text,
       (r %% 200 + 1) || ' ' || split_part(s, '|', 1) || ', ' || split_part(s, '|', 2),
       split_part(s, '|', 3) || ' ' || (r %% 9 + 1) || chr(65 + (r %% 26)) || chr(65 + (r / 26 %% 26)),
       split_part(s, '|', 4)
FROM generate_series(1, %(residents)s) r
CROSS JOIN LATERAL (SELECT ({streets})[pg_temp.pick(r, 31, {len(_STREETS)})] AS s) st""",
        ),
        (
            "residents",
            f"""
INSERT INTO residents (id, landlord_id, reference, property_id, name, mobile, telegram_id,
                       preferred_channel, language, contact_hours, nominee_name,
                       nominee_phone, nominee_relationship, sms_opted_out_at,
                       sms_unreachable_at, created_at)
SELECT %(resident_base)s + r, %(landlord)s, 'TN-S' || r, %(property_base)s + r,
       ({first})[pg_temp.pick(r, 41, {len(_FIRST_NAMES)})] || ' ' ||
           ({last})[pg_temp.pick(r, 42, {len(_SURNAMES)})],
       '+44781' || lpad(r::text, 7, '0'),
       CASE WHEN pg_temp.u(r, 43) < 0.02 THEN 800000000 + r END,
       CASE WHEN pg_temp.u(r, 43) < 0.02 THEN 'telegram' ELSE 'sms' END,
       CASE WHEN pg_temp.u(r, 44) < 0.03 THEN 'pl' WHEN pg_temp.u(r, 44) < 0.05 THEN 'cy'
            ELSE 'en' END,
       CASE WHEN pg_temp.u(r, 45) < 0.03 THEN '{{"weekday": ["12:00", "20:00"]}}'::json
            ELSE '{{}}'::json END,
       CASE WHEN pg_temp.u(r, 46) < 0.01 THEN 'Sam ' || ({last})[pg_temp.pick(r, 42, {len(_SURNAMES)})] END,
       CASE WHEN pg_temp.u(r, 46) < 0.01 THEN '+44782' || lpad(r::text, 7, '0') END,
       CASE WHEN pg_temp.u(r, 46) < 0.01 THEN 'son' END,
       CASE WHEN pg_temp.u(r, 47) < 0.03
            THEN %(now)s - make_interval(days => pg_temp.pick(r, 48, 700)::int) END,
       CASE WHEN pg_temp.u(r, 47) BETWEEN 0.03 AND 0.04
            THEN %(now)s - make_interval(days => pg_temp.pick(r, 49, 700)::int) END,
       %(now)s - make_interval(days => ({span} + 60 - floor(r::float8 * {span} / %(residents)s))::int)
FROM generate_series(1, %(residents)s) r""",
        ),
        (
            "access_needs",
            f"""
INSERT INTO access_needs (id, resident_id, category, own_words, consent_to_share, recorded_at,
                          review_by, source, active)
SELECT %(access_base)s + n, %(resident_base)s + pg_temp.pick(n, 51, %(residents)s),
       split_part(nd, '|', 1), split_part(nd, '|', 2), pg_temp.u(n, 53) < 0.7,
       %(now)s - make_interval(days => pg_temp.pick(n, 54, {span})::int),
       %(today)s::date + pg_temp.pick(n, 55, 400)::int - 60,
       CASE WHEN pg_temp.u(n, 56) < 0.5 THEN 'resident' ELSE 'staff (phone call)' END,
       pg_temp.u(n, 57) >= 0.1
FROM generate_series(1, %(access_needs)s) n
CROSS JOIN LATERAL (SELECT ({needs})[pg_temp.pick(n, 52, {len(_ACCESS_NEEDS)})] AS nd) x""",
        ),
        (
            # Jobs 1..past are visited in the past (id order = time order), past+1..visited
            # are the live visits, the rest are open (unbooked or in triage).
            "repair_jobs",
            f"""
INSERT INTO repair_jobs (id, landlord_id, reference, property_id, resident_id, description,
                         trade, priority, status, history, hazard_category, raised_at,
                         target_date, invited_at, invite_followed_up_at, unbooked_listed_at,
                         created_at)
SELECT %(job_base)s + j, %(landlord)s, 'RJ-S' || j, r.property_id, r.id,
       split_part(jt, '|', 1), split_part(jt, '|', 2),
       CASE WHEN pg_temp.u(j, 63) < 0.03 THEN 'emergency' WHEN pg_temp.u(j, 63) < 0.2 THEN 'urgent'
            ELSE 'routine' END,
       CASE WHEN j > %(visited)s THEN (CASE WHEN pg_temp.u(j, 64) < 0.1 THEN 'triage' ELSE 'open' END)
            WHEN j > %(past)s THEN 'booked'
            WHEN pg_temp.u(j, 71) < 0.85 THEN 'completed' ELSE 'cancelled' END,
       json_build_array(json_build_object('at', created, 'event', 'reported')),
       CASE WHEN pg_temp.u(j, 65) < 0.03 THEN 'damp_mould' WHEN pg_temp.u(j, 65) < 0.05 THEN 'leak' END,
       created, (created + interval '28 days')::date,
       CASE WHEN j > %(visited)s THEN created + interval '1 hour' END,
       CASE WHEN j > %(visited)s THEN created + interval '3 days' END,
       CASE WHEN j > %(visited)s AND pg_temp.u(j, 66) < 0.5 THEN created + interval '10 days' END,
       created
FROM generate_series(1, %(jobs)s) j
CROSS JOIN LATERAL (
    -- Past repairs: 3%% go to the first 200 residents (the demo's among them: long-standing
    -- residents with years of history); live and open ones only to generated residents, so
    -- the demo residents' conversations go as they do in the demo database.
    SELECT CASE WHEN j <= %(past)s AND pg_temp.u(j, 61) < 0.03
                THEN %(first_resident)s - 1 + pg_temp.pick(j, 62, 200)
                ELSE %(resident_base)s + pg_temp.pick(j, 60, %(residents)s) END AS rid,
           ({jobs})[pg_temp.pick(j, 67, {len(_JOB_TEXTS)})] AS jt,
           CASE WHEN j <= %(past)s
                THEN %(now)s - make_interval(days => 1 + ({span} - floor(j::float8 * {span} / %(past)s))::int)
                     - interval '9 days'
                WHEN j <= %(visited)s THEN %(now)s - make_interval(days => pg_temp.pick(j, 68, 10)::int)
                ELSE %(now)s - make_interval(days => 20 + pg_temp.pick(j, 69, 60)::int) END AS created
) x
JOIN residents r ON r.id = x.rid""",
        ),
        (
            "appointments_past",
            f"""
INSERT INTO appointments (id, job_id, operative_id, availability_id, day, "window", starts_at,
                          ends_at, status, version, visit_code, code_attempts, created_at, updated_at)
SELECT %(appointment_base)s + j, %(job_base)s + j, %(operative_base)s + pg_temp.pick(j, 72, %(operatives)s),
       NULL, d, w, pg_temp.at_london(d, ws), pg_temp.at_london(d, we), st,
       CASE WHEN st = 'cancelled' THEN 2 ELSE 1 END,
       ({codes})[pg_temp.pick(j, 73, {len(_visit_codes())})], 0,
       pg_temp.at_london(d, ws) - interval '7 days', pg_temp.at_london(d, we)
FROM generate_series(1, %(past)s) j
CROSS JOIN LATERAL (
    SELECT %(today)s::date - 1 - ({span} - floor(j::float8 * {span} / %(past)s))::int AS d0,
           CASE WHEN pg_temp.u(j, 74) < 0.55 THEN 'morning' ELSE 'afternoon' END AS w,
           CASE WHEN pg_temp.u(j, 71) < 0.85 THEN 'completed'
                WHEN pg_temp.u(j, 71) < 0.93 THEN 'cancelled'
                WHEN pg_temp.u(j, 71) < 0.98 THEN 'no_access' ELSE 'no_show' END AS st
) a
CROSS JOIN LATERAL (
    SELECT CASE WHEN extract(isodow FROM d0) = 7 THEN d0 - 1 ELSE d0 END AS d,
           CASE WHEN w = 'morning' THEN time '08:00' ELSE time '12:00' END AS ws,
           CASE WHEN w = 'morning' THEN time '12:00' ELSE time '17:00' END AS we
) b""",
        ),
        (
            # Live visit k takes availability slot k (a second lap fills each slot's second
            # place), so availability.booked stays true.
            "appointments_live",
            f"""
INSERT INTO appointments (id, job_id, operative_id, availability_id, day, "window", starts_at,
                          ends_at, status, version, visit_code, code_attempts, created_at, updated_at)
SELECT %(appointment_base)s + %(past)s + k, %(job_base)s + %(past)s + k, av.operative_id, av.id,
       av.day, av."window",
       pg_temp.at_london(av.day, CASE WHEN av."window" = 'morning' THEN time '08:00' ELSE time '12:00' END),
       pg_temp.at_london(av.day, CASE WHEN av."window" = 'morning' THEN time '12:00' ELSE time '17:00' END),
       'booked', 1, ({codes})[pg_temp.pick(k, 75, {len(_visit_codes())})], 0,
       %(now)s - make_interval(days => pg_temp.pick(k, 76, 9)::int),
       %(now)s - make_interval(days => pg_temp.pick(k, 76, 9)::int)
FROM generate_series(1, %(live)s) k
JOIN (SELECT *, row_number() OVER (ORDER BY pg_temp.u(id, 77)) AS rn FROM availability
      WHERE id > %(availability_base)s) av
  ON av.rn = 1 + ((k - 1) %% %(slots)s)""",
        ),
        (
            "availability_booked",
            """
UPDATE availability av SET booked = c.n
FROM (SELECT availability_id, count(*) AS n FROM appointments
      WHERE availability_id > %(availability_base)s GROUP BY availability_id) c
WHERE av.id = c.availability_id""",
        ),
        (
            "repair_jobs_history",
            """
UPDATE repair_jobs rj SET history = json_build_array(
        json_build_object('at', rj.created_at, 'event', 'reported'),
        json_build_object('at', a.updated_at, 'event', a.status)),
    updated_at = a.updated_at
FROM appointments a
WHERE a.job_id = rj.id AND rj.id > %(job_base)s AND rj.id <= %(job_base)s + %(past)s""",
        ),
        (
            "appointment_events",
            """
INSERT INTO appointment_events (id, appointment_id, kind, at, actor, data)
SELECT %(event_base)s + row_number() OVER (ORDER BY a.id, e.n), a.id, e.kind, e.at, e.actor, '{}'::json
FROM appointments a
CROSS JOIN LATERAL (VALUES
    (1, CASE a.status WHEN 'completed' THEN 'on_the_way' WHEN 'cancelled' THEN 'cancelled'
                      WHEN 'no_access' THEN 'cant_get_in' ELSE 'no_access' END,
        a.starts_at + interval '40 minutes', CASE WHEN a.status = 'cancelled' THEN 'resident'
                                                   ELSE 'operative:' || a.operative_id END),
    (2, CASE a.status WHEN 'completed' THEN 'done' END, a.starts_at + interval '2 hours',
        'operative:' || a.operative_id)
) e(n, kind, at, actor)
WHERE a.id > %(appointment_base)s AND a.status <> 'booked' AND e.kind IS NOT NULL""",
        ),
        (
            "conversations",
            """
INSERT INTO conversations (id, channel, address, resident_id, flow, state, data, paused,
                           updated_at, expires_at, version)
SELECT %(conversation_base)s + r, 'sms', '+44781' || lpad(r::text, 7, '0'), %(resident_base)s + r,
       'idle', 'start', '{}'::json, false,
       %(now)s - make_interval(days => pg_temp.pick(r, 81, 700)::int), NULL::timestamptz, 0
FROM generate_series(1, %(residents)s) r
UNION ALL
SELECT %(conversation_base)s + %(residents)s + row_number() OVER (ORDER BY id), 'sms', mobile, id,
       'idle', 'start', '{}'::json, false, %(now)s - interval '30 days', NULL::timestamptz, 0
FROM residents WHERE id <= %(resident_base)s AND mobile IS NOT NULL""",
        ),
        (
            # Past visits' rows first (id order = time order), then the live visits'.
            "outbox_past",
            f"""
INSERT INTO outbox (id, resident_id, appointment_id, appointment_version, kind, purpose,
                    channel, address, text, payload, idempotency_key, time_critical,
                    not_before, expires_at, status, attempts, last_error, provider_message_id,
                    created_at, sent_at)
SELECT %(outbox_base)s + i, rj.resident_id, a.id, a.version, kind, 'service',
       'sms', res.mobile, 'Reminder: your repair visit ' || a.day || ', ' || a."window" || '.',
       '{{}}'::json, a.id || ':' || a.version || ':' || kind, kind IN ('reminder_morning', 'on_the_way', 'arrived'),
       nb, nb + interval '1 day', st, CASE WHEN st IN ('sent', 'delivered', 'failed') THEN 1 ELSE 0 END,
       CASE WHEN st = 'failed' THEN 'provider: 30006 landline or unreachable carrier' END,
       CASE WHEN st IN ('sent', 'delivered', 'failed') THEN 'SM' || md5('o' || (%(outbox_base)s + i)) END,
       nb - interval '2 days', CASE WHEN st IN ('sent', 'delivered') THEN nb + interval '2 seconds' END
FROM (
    SELECT i, ap, row_number() OVER (PARTITION BY ap ORDER BY i) - 1 AS n
    FROM (SELECT i, 1 + floor((i - 1)::float8 * %(past)s / %(outbox_past)s)::bigint AS ap
          FROM generate_series(1, %(outbox_past)s) i) g
) o
JOIN appointments a ON a.id = %(appointment_base)s + o.ap
JOIN repair_jobs rj ON rj.id = a.job_id
JOIN residents res ON res.id = rj.resident_id
CROSS JOIN LATERAL (
    SELECT CASE WHEN o.n = 3 AND a.status <> 'completed' THEN 'change_confirmation'
                ELSE ({kinds})[1 + o.n %% {len(_OUTBOX_KINDS)}] END AS kind,
           a.starts_at + (({offsets})[1 + o.n %% {len(_OUTBOX_KINDS)}])::interval AS nb,
           CASE WHEN res.sms_opted_out_at IS NOT NULL OR res.sms_unreachable_at IS NOT NULL
                     OR pg_temp.u(o.i, 82) < 0.03 THEN 'blocked'
                WHEN pg_temp.u(o.i, 83) < 0.05 THEN 'expired'
                WHEN pg_temp.u(o.i, 83) < 0.08 THEN 'failed'
                WHEN pg_temp.u(o.i, 83) < 0.35 THEN 'sent' ELSE 'delivered' END AS st
) x""",
        ),
        (
            "outbox_live",
            """
INSERT INTO outbox (id, resident_id, appointment_id, appointment_version, kind, purpose,
                    channel, address, text, payload, idempotency_key, time_critical,
                    not_before, expires_at, status, attempts, provider_message_id, created_at,
                    sent_at)
SELECT %(outbox_base)s + %(outbox_past)s + row_number() OVER (ORDER BY a.id, n),
       rj.resident_id, a.id, a.version, kind, 'service',
       CASE WHEN n = 1 THEN 'sms' END, CASE WHEN n = 1 THEN res.mobile END,
       'Your repair visit ' || a.day || ', ' || a."window" || '.', '{}'::json,
       a.id || ':' || a.version || ':' || kind, n = 3,
       nb, a.starts_at, CASE WHEN n = 1 THEN 'delivered' ELSE 'pending' END,
       CASE WHEN n = 1 THEN 1 ELSE 0 END,
       CASE WHEN n = 1 THEN 'SM' || md5('l' || a.id) END, a.created_at,
       CASE WHEN n = 1 THEN a.created_at + interval '2 seconds' END
FROM appointments a
JOIN repair_jobs rj ON rj.id = a.job_id
JOIN residents res ON res.id = rj.resident_id
CROSS JOIN generate_series(1, 3) n
CROSS JOIN LATERAL (
    SELECT (ARRAY['booking_confirmation', 'reminder_evening', 'reminder_morning'])[n] AS kind,
           CASE n WHEN 1 THEN a.created_at
                  WHEN 2 THEN ((a.day - 1) + time '18:00') AT TIME ZONE 'Europe/London'
                  ELSE (a.day + time '08:00') AT TIME ZONE 'Europe/London' END AS nb
) x
WHERE a.id > %(appointment_base)s + %(past)s""",
        ),
        (
            # A realistic handful due now (the planner ran late, a deferral came due).
            "outbox_due",
            """
UPDATE outbox SET not_before = %(now)s - make_interval(mins => (id %% 30)::int)
WHERE id IN (SELECT id FROM outbox WHERE id > %(outbox_base)s AND status = 'pending'
             ORDER BY id LIMIT %(due_now)s)""",
        ),
        (
            # The newest rows get decisions (older rows predate decision records); a second
            # lap adds the earlier "defer" of rows that waited for contact hours.
            "contact_decisions",
            """
INSERT INTO contact_decisions (id, outbox_id, decision, reason_code, detail, at)
SELECT %(decision_base)s + row_number() OVER (ORDER BY o.id, lap), o.id,
       CASE WHEN lap = 2 THEN 'defer'
            WHEN o.status IN ('sent', 'delivered', 'failed') THEN 'send'
            WHEN o.status = 'expired' THEN 'expire'
            WHEN o.status = 'blocked' THEN 'block' ELSE 'defer' END,
       CASE WHEN lap = 2 THEN 'outside_hours'
            WHEN o.status IN ('sent', 'delivered', 'failed')
                 THEN (CASE WHEN o.time_critical AND pg_temp.u(o.id, 111) < 0.05
                            THEN 'visit_today_exception' ELSE 'within_policy' END)
            WHEN o.status = 'expired' THEN 'too_late_when_allowed'
            WHEN o.status = 'blocked' THEN
                 (CASE WHEN pg_temp.u(o.id, 112) < 0.7 THEN 'opted_out' ELSE 'unreachable' END)
            ELSE 'not_yet_due' END,
       CASE WHEN lap = 2 THEN 'at plan time' ELSE '' END,
       CASE WHEN lap = 2 THEN o.created_at ELSE coalesce(o.sent_at, o.not_before) END
FROM outbox o
CROSS JOIN generate_series(1, 2) lap
WHERE o.id > %(outbox_base)s
  AND ((lap = 1 AND o.id > %(outbox_base)s + %(outbox_total)s - %(decisions_first)s)
       OR (lap = 2 AND o.id > %(outbox_base)s + %(outbox_total)s - %(decisions_second)s))""",
        ),
        (
            "feedback",
            """
INSERT INTO feedback (id, appointment_id, resident_id, rating, showed_id,
                      asked_before_facilities, left_tidy, respectful, comment, flagged,
                      conversation_id, created_at, completed_at, reviewed_at, reviewed_by,
                      review_note)
SELECT %(feedback_base)s + row_number() OVER (ORDER BY a.id), a.id, rj.resident_id, rating,
       showed, asked, tidy, respectful,
       CASE WHEN pg_temp.u(a.id, 96) < 0.3 THEN
            (ARRAY['Very happy with the repair, thank you', 'Came on time and was polite',
                   'Left mud on the carpet', 'Did not show any ID', 'Used the toilet without asking',
                   'Great job', 'Had to come back twice'])[pg_temp.pick(a.id, 97, 7)] END,
       flagged, (SELECT c.id FROM conversations c WHERE c.resident_id = rj.resident_id LIMIT 1),
       a.ends_at + interval '2 hours',
       CASE WHEN pg_temp.u(a.id, 98) < 0.9 THEN a.ends_at + interval '2 hours 6 minutes' END,
       CASE WHEN flagged AND a.ends_at < %(now)s - interval '30 days'
                 AND pg_temp.u(a.id, 99) < 0.9 THEN a.ends_at + interval '3 days' END,
       CASE WHEN flagged AND a.ends_at < %(now)s - interval '30 days'
                 AND pg_temp.u(a.id, 99) < 0.9 THEN %(staff_base)s + pg_temp.pick(a.id, 100, %(staff_users)s) END,
       CASE WHEN flagged AND a.ends_at < %(now)s - interval '30 days'
                 AND pg_temp.u(a.id, 99) < 0.9 THEN 'Spoke to the contractor' END
FROM (SELECT id FROM appointments
      WHERE id > %(appointment_base)s AND status = 'completed'
      ORDER BY pg_temp.u(id, 90) LIMIT %(feedback)s) pick
JOIN appointments a ON a.id = pick.id
JOIN repair_jobs rj ON rj.id = a.job_id
CROSS JOIN LATERAL (
    SELECT (ARRAY[5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 4, 4, 4, 4, 4, 3, 3, 3, 2, 1])[pg_temp.pick(a.id, 91, 20)] AS rating,
           pg_temp.u(a.id, 101) >= 0.06 AS good
) x
CROSS JOIN LATERAL (
    SELECT good OR pg_temp.u(a.id, 92) >= 0.4 AS showed, good OR pg_temp.u(a.id, 93) >= 0.4 AS asked,
           good OR pg_temp.u(a.id, 94) >= 0.4 AS tidy, good OR pg_temp.u(a.id, 95) >= 0.6 AS respectful
) y
CROSS JOIN LATERAL (
    SELECT rating <= 2 OR NOT (showed AND asked AND tidy AND respectful) AS flagged
) z""",
        ),
        (
            "complaints",
            """
INSERT INTO complaints (id, resident_id, appointment_id, feedback_id, text, status, created_at,
                        respond_by)
SELECT %(complaint_base)s + row_number() OVER (ORDER BY f.id), f.resident_id, f.appointment_id,
       f.id, 'I want to complain about the visit',
       CASE WHEN f.created_at > %(now)s - interval '60 days' THEN 'open' ELSE 'closed' END,
       f.created_at + interval '1 hour', f.created_at + interval '10 days'
FROM (SELECT * FROM feedback WHERE id > %(feedback_base)s AND flagged
      ORDER BY pg_temp.u(id, 110) LIMIT %(complaints)s) f""",
        ),
        (
            # Every sent row's message, feedback conversations, heavy residents' histories
            # and general chats, in time order so message ids grow with time.
            "messages",
            f"""
INSERT INTO messages (id, direction, channel, address, text, channel_message_id, created_at,
                      processed_at, intent, intent_confidence, options, delivery_status,
                      conversation_id, appointment_id, resident_id, outbox_id)
SELECT %(message_base)s + row_number() OVER (ORDER BY m.created_at, m.seg, m.k),
       m.direction, 'sms', res.mobile, m.body,
       CASE WHEN m.direction = 'in' THEN 'SM' || md5('m' || m.seg || ':' || m.k) END,
       m.created_at, CASE WHEN m.direction = 'in' THEN m.created_at + interval '1 second' END,
       CASE WHEN m.direction = 'in' THEN 'other' END,
       CASE WHEN m.direction = 'in' THEN 0.9 END,
       '[]'::json, CASE WHEN m.direction = 'out' THEN 'delivered' END,
       c.id, m.appointment_id, m.resident_id,
       m.outbox_id
FROM (
    SELECT 1 AS seg, o.id AS k, 'out' AS direction, o.text AS body, o.sent_at AS created_at,
           o.resident_id, o.appointment_id, o.id AS outbox_id
    FROM outbox o
    WHERE o.id > %(outbox_base)s AND o.status IN ('sent', 'delivered')
    UNION ALL
    SELECT 2, f.id * 16 + n, CASE WHEN n %% 2 = 0 THEN 'out' ELSE 'in' END,
           CASE WHEN n %% 2 = 0 THEN
                (ARRAY['How did the repair visit go? Reply with a number from 1 (poor) to 5 (very good).',
                       'Did they show you their ID? 1 Yes 2 No',
                       'Anything else you want to tell us? Reply 0 to skip.'])[n / 2 + 1]
                ELSE (ARRAY[f.rating::text, CASE WHEN f.showed_id THEN '1' ELSE '2' END,
                            coalesce(f.comment, '0')])[n / 2 + 1] END,
           f.created_at + make_interval(mins => n), f.resident_id, f.appointment_id, NULL
    FROM feedback f CROSS JOIN generate_series(0, %(feedback_turns)s - 1) n
    WHERE f.id > %(feedback_base)s
    UNION ALL
    SELECT 3, h, CASE WHEN h %% 2 = 0 THEN 'in' ELSE 'out' END,
           CASE WHEN h %% 2 = 0 THEN ({chat_in})[pg_temp.pick(h, 121, {len(_CHAT_IN)})]
                ELSE ({chat_out})[pg_temp.pick(h, 122, {len(_CHAT_OUT)})] END,
           %(now)s - make_interval(secs => (floor(({span} * 86400.0) * (1 - h::float8 / %(heavy_messages)s)))::int),
           %(first_resident)s - 1 + pg_temp.pick(h / 2, 123, %(heavy_residents)s), NULL, NULL
    FROM generate_series(1, %(heavy_messages)s) h
    UNION ALL
    SELECT 4, c, CASE WHEN c %% 2 = 0 THEN 'in' ELSE 'out' END,
           CASE WHEN c %% 2 = 0 THEN ({chat_in})[pg_temp.pick(c, 131, {len(_CHAT_IN)})]
                ELSE ({chat_out})[pg_temp.pick(c, 132, {len(_CHAT_OUT)})] END,
           %(now)s - make_interval(secs => (floor(({span} * 86400.0) * (1 - (c / 2)::float8 / (%(chat_messages)s / 2 + 1))))::int)
               + make_interval(secs => (c %% 2) * 3),
           CASE WHEN pg_temp.u(c / 2, 133) < 0.05 THEN %(first_resident)s - 1 + pg_temp.pick(c / 2, 134, 200)
                ELSE %(resident_base)s + pg_temp.pick(c / 2, 135, %(residents)s) END,
           NULL, NULL
    FROM generate_series(1, %(chat_messages)s) c
) m
JOIN residents res ON res.id = m.resident_id
LEFT JOIN conversations c ON c.resident_id = m.resident_id AND c.channel = 'sms'""",
        ),
        (
            "conversations_updated",
            """
UPDATE conversations c SET updated_at = m.last
FROM (SELECT conversation_id, max(created_at) AS last FROM messages
      WHERE id > %(message_base)s GROUP BY conversation_id) m
WHERE c.id = m.conversation_id""",
        ),
        (
            "staff_tasks",
            f"""
INSERT INTO staff_tasks (id, kind, status, urgent, summary, resident_id, appointment_id,
                         conversation_id, claimed_by, created_at, closed_at)
SELECT %(task_base)s + t, kind, st, pg_temp.u(t, 143) < 0.1,
       (ARRAY['Resident asked for a call back', 'Resident said nobody came',
              'Triage: reported damp and mould', 'Number check: text bounced',
              'Unbooked repair: no reply to the invitation', 'Handoff: resident upset'])
           [pg_temp.pick(t, 144, 6)],
       %(resident_base)s + res, CASE WHEN pg_temp.u(t, 145) < 0.4 THEN %(appointment_base)s + pg_temp.pick(t, 146, %(past)s) END,
       %(conversation_base)s + res,
       CASE WHEN st <> 'open' THEN %(staff_base)s + pg_temp.pick(t, 147, %(staff_users)s) END,
       created, CASE WHEN st = 'closed' THEN created + interval '2 days' END
FROM generate_series(1, %(staff_tasks)s) t
CROSS JOIN LATERAL (
    SELECT ({task_kinds})[pg_temp.pick(t, 141, {len(_TASK_KINDS)})] AS kind,
           pg_temp.pick(t, 142, %(residents)s) AS res,
           %(now)s - make_interval(secs => (floor({span} * 86400.0 * (1 - t::float8 / %(staff_tasks)s)))::int) AS created
) a
CROSS JOIN LATERAL (
    SELECT CASE WHEN t > %(staff_tasks)s - %(open_tasks)s AND pg_temp.u(t, 148) < 0.8 THEN 'open'
                WHEN t > %(staff_tasks)s - %(open_tasks)s THEN 'claimed'
                ELSE 'closed' END AS st
) b""",
        ),
        (
            "audit_events",
            f"""
INSERT INTO audit_events (id, at, actor, action, subject_type, subject_id, detail)
SELECT %(audit_base)s + e,
       %(now)s - make_interval(secs => (floor({span} * 86400.0 * (1 - e::float8 / %(audit_events)s)))::int),
       'scale-staff-' || (2 + pg_temp.pick(e, 151, greatest(%(staff_users)s - 6, 1))) || '@riverside.example',
       split_part(ac, '|', 1), split_part(ac, '|', 2), pg_temp.pick(e, 153, 100000),
       json_build_object('role', 'staff')
FROM generate_series(1, %(audit_events)s) e
CROSS JOIN LATERAL (SELECT ({actions})[pg_temp.pick(e, 152, {len(_AUDIT_ACTIONS)})] AS ac) a""",
        ),
        (
            "api_keys",
            """
INSERT INTO api_keys (id, landlord_id, name, prefix, key_hash, scope, created_at, last_used_at,
                      revoked_at)
SELECT %(key_base)s + k, %(landlord)s, 'Repairs system ' || k, 'sk' || lpad(k::text, 8, '0'),
       md5('key' || k) || md5('hash' || k), CASE WHEN k %% 3 = 0 THEN 'read' ELSE 'write' END,
       %(now)s - make_interval(days => 1000 - (k %% 900)::int), %(now)s - interval '1 hour',
       CASE WHEN k %% 4 = 0 THEN %(now)s - interval '30 days' END
FROM generate_series(1, %(api_keys)s) k""",
        ),
        (
            "webhook_subscriptions",
            """
INSERT INTO webhook_subscriptions (id, landlord_id, url, secret, events, active, created_at)
SELECT %(subscription_base)s + w, %(landlord)s, 'https://repairs.riverside.example/hooks/' || w,
       md5('secret' || w), '[]'::json, w %% 5 <> 0,
       %(now)s - make_interval(days => 900 - (w %% 800)::int)
FROM generate_series(1, %(webhooks)s) w""",
        ),
        (
            "landlord_events",
            """
INSERT INTO landlord_events (id, landlord_id, kind, job_id, job_reference, occurred_at, data)
SELECT %(landlord_event_base)s + d, %(landlord)s, 'appointment.booked', rj.id, rj.reference,
       %(now)s - make_interval(hours => (%(dead_deliveries)s - d)::int), '{}'::json
FROM generate_series(1, %(dead_deliveries)s) d
JOIN repair_jobs rj ON rj.id = %(job_base)s + %(past)s + 1 + ((d - 1) %% greatest(%(live)s, 1))""",
        ),
        (
            "webhook_deliveries",
            """
INSERT INTO webhook_deliveries (id, subscription_id, event_id, ordering_key, status, attempts,
                                not_before, last_status_code, last_error, created_at)
SELECT %(delivery_base)s + d, %(subscription_base)s + 1 + ((d - 1) %% greatest(%(webhooks)s, 1)),
       e.id, coalesce(e.job_reference, '-'), 'dead', 12, e.occurred_at + interval '1 day', 503,
       'HTTP 503 from the receiver', e.occurred_at
FROM generate_series(1, %(dead_deliveries)s) d
JOIN landlord_events e ON e.id = %(landlord_event_base)s + d""",
        ),
        (
            "disclosures",
            """
INSERT INTO disclosures (id, appointment_id, operative_id, access_need_id, shared_at, wording)
SELECT %(disclosure_base)s + row_number() OVER (ORDER BY a.id, n.id), a.id, a.operative_id, n.id,
       a.created_at, n.own_words
FROM appointments a
JOIN repair_jobs rj ON rj.id = a.job_id
JOIN access_needs n ON n.resident_id = rj.resident_id AND n.consent_to_share AND n.active
WHERE a.id > %(appointment_base)s + %(past)s""",
        ),
    ]


# -- building -------------------------------------------------------------------------------


def ensure_database(url: str, *, fresh: bool) -> None:
    parsed = make_url(url)
    name = parsed.database
    assert name, "the URL must name a database"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).first()
            if exists and fresh:
                connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                exists = None
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def _params(connection: Connection, sizes: Sizes, now: datetime) -> dict[str, Any]:
    def base(table: str) -> int:
        return int(
            connection.execute(text(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar_one()
        )

    landlord = connection.execute(text("SELECT min(id) FROM landlords")).scalar_one()
    first_resident = connection.execute(text("SELECT min(id) FROM residents")).scalar_one()
    live = min(sizes.live_visits, sizes.jobs)
    open_jobs = min(sizes.open_jobs, max(sizes.jobs - live - 1, 0))
    past = max(sizes.jobs - live - open_jobs, 1)
    slots = 12 * 2 * sizes.operatives  # 12 working days in 14, two windows a day
    outbox_live = 3 * live
    # At most one row of each kind per visit (the idempotency key is visit:version:kind).
    outbox_past = min(max(sizes.outbox - outbox_live, 1), past * len(_OUTBOX_KINDS))
    outbox_total = outbox_past + outbox_live
    decisions_first = min(sizes.decisions, outbox_total)
    decisions_second = max(min(sizes.decisions - decisions_first, outbox_total), 0)
    today = now.astimezone(LONDON).date()
    return {
        "landlord": landlord,
        "now": now,
        "first_resident": first_resident or base("residents") + 1,
        "today": today,
        "residents": sizes.residents,
        "jobs": past + live + open_jobs,
        "past": past,
        "live": live,
        "visited": past + live,
        "slots": slots,
        "capacity": max(2, -(-live // max(slots, 1))),
        "operatives": sizes.operatives,
        "contractors": sizes.contractors,
        "access_needs": sizes.access_needs,
        "outbox_past": outbox_past,
        "outbox_total": outbox_total,
        "decisions_first": decisions_first,
        "decisions_second": decisions_second,
        "due_now": sizes.due_now,
        "feedback": sizes.feedback,
        "feedback_turns": 0,  # the message counts are settled before that step
        "complaints": sizes.complaints,
        "heavy_residents": max(sizes.heavy_residents, 1),
        "heavy_messages": 0,
        "chat_messages": 0,
        "staff_users": sizes.staff_users,
        "staff_tasks": sizes.staff_tasks,
        "open_tasks": min(sizes.open_tasks, sizes.staff_tasks),
        "api_keys": sizes.api_keys,
        "webhooks": sizes.webhooks,
        "dead_deliveries": sizes.dead_deliveries if sizes.webhooks else 0,
        "key_base": base("api_keys"),
        "subscription_base": base("webhook_subscriptions"),
        "landlord_event_base": base("landlord_events"),
        "delivery_base": base("webhook_deliveries"),
        "audit_events": sizes.audit_events,
        "password_hash": hash_password(SCALE_PASSWORD),
        "totp": SCALE_TOTP,
        "contractor_base": base("contractors"),
        "operative_base": base("operatives"),
        "availability_base": base("availability"),
        "property_base": base("properties"),
        "resident_base": base("residents"),
        "access_base": base("access_needs"),
        "job_base": base("repair_jobs"),
        "appointment_base": base("appointments"),
        "event_base": base("appointment_events"),
        "conversation_base": base("conversations"),
        "outbox_base": base("outbox"),
        "decision_base": base("contact_decisions"),
        "feedback_base": base("feedback"),
        "complaint_base": base("complaints"),
        "message_base": base("messages"),
        "staff_base": base("staff_users"),
        "task_base": base("staff_tasks"),
        "audit_base": base("audit_events"),
        "disclosure_base": base("disclosures"),
    }


def _message_split(connection: Connection, sizes: Sizes, p: dict[str, Any]) -> dict[str, int]:
    """How many messages each kind gets, so the total is exactly `sizes.messages`: one per
    sent outbox row, `feedback_turns` per feedback row, the heavy residents' share, and
    general chats for the rest (cut in that order if the total is small)."""
    sent = int(
        connection.exec_driver_sql(
            "SELECT count(*) FROM outbox WHERE id > %(outbox_base)s"
            " AND status IN ('sent', 'delivered')",
            p,
        ).scalar_one()
    )
    rest = max(sizes.messages - sent, 0)
    turns = 6 if sizes.feedback * 6 <= rest * 0.6 else (2 if sizes.feedback * 2 <= rest else 0)
    heavy = int(rest * sizes.heavy_share) if sizes.heavy_residents else 0
    chat = max(rest - heavy - sizes.feedback * turns, 0)
    return {"feedback_turns": turns, "heavy_messages": heavy, "chat_messages": chat}


def _create_from_models(url: str) -> None:
    engine = create_engine(url)
    try:
        SQLModel.metadata.create_all(engine)
    finally:
        engine.dispose()
    command.stamp(alembic_config(url), "head")


def build_world(
    url: str,
    sizes: Sizes | None = None,
    *,
    now: datetime | None = None,
    fresh: bool = False,
    schema_from_models: bool = False,
    log: Any = None,
) -> WorldFacts:
    """Build the big world into `url` (PostgreSQL; created if missing, emptied if `fresh`).

    The database must be new or `fresh`: the demo is loaded into an empty database.
    `schema_from_models` creates the tables from the models and stamps the head revision
    instead of running every migration (tests/storage/test_migrations.py holds the two
    equal): a few seconds less for tests that need the rows, not the migrations' timing."""
    sizes = sizes or Sizes()
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    say = log or (lambda _line: None)
    started = time.perf_counter()
    steps: dict[str, float] = {}

    t = time.perf_counter()
    ensure_database(url, fresh=fresh)
    if schema_from_models:
        _create_from_models(url)
    else:
        upgrade(url)
    db = Database(url)
    try:
        if not load_demo(db, now=now):
            raise SystemExit(f"{url} already holds a landlord: build into a new database (--fresh)")
    finally:
        db.dispose()
    steps["migrate+demo"] = time.perf_counter() - t
    say(f"migrated and demo loaded in {steps['migrate+demo']:.1f} s")

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SET synchronous_commit = off")
            connection.exec_driver_sql("SET work_mem = '256MB'")
            connection.exec_driver_sql("SET maintenance_work_mem = '512MB'")
            connection.exec_driver_sql(_HELPERS)
            params = _params(connection, sizes, now)
            connection.commit()
            for name, sql in _steps(params):
                t = time.perf_counter()
                if name == "messages":
                    params.update(_message_split(connection, sizes, params))
                try:
                    result = connection.exec_driver_sql(sql, params)
                except DBAPIError as exc:
                    raise SystemExit(f"step {name} failed: {exc.orig}") from None
                connection.commit()
                steps[name] = time.perf_counter() - t
                say(f"{name:<22} {result.rowcount:>10,} rows  {steps[name]:6.1f} s")
            t = time.perf_counter()
            for table in _TABLES:
                connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                )
            connection.commit()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
            steps["vacuum analyze"] = time.perf_counter() - t
            say(f"vacuum analyze in {steps['vacuum analyze']:.1f} s")
            rows = {
                table: int(connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())
                for table in _TABLES
            }
            size = int(
                connection.exec_driver_sql(
                    "SELECT pg_database_size(current_database())"
                ).scalar_one()
            )
    finally:
        engine.dispose()
    return WorldFacts(
        url=url,
        now=now,
        sizes=sizes,
        rows=rows,
        seconds=time.perf_counter() - started,
        steps=steps,
        database_bytes=size,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the database")
    parser.add_argument("--now", help="ISO time the world is built at (default: now)")
    defaults = Sizes()
    for f in fields(Sizes):
        parser.add_argument(
            "--" + f.name.replace("_", "-"),
            type=type(getattr(defaults, f.name)),
            default=getattr(defaults, f.name),
        )
    args = parser.parse_args(argv)
    sizes = Sizes(**{f.name: getattr(args, f.name) for f in fields(Sizes)})
    now = datetime.fromisoformat(args.now) if args.now else None
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    print(f"sizes: {asdict(sizes)}", flush=True)
    facts = build_world(
        args.url, sizes, now=now, fresh=args.fresh, log=lambda line: print(line, flush=True)
    )
    print(facts.summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

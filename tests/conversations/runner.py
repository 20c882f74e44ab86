"""Runs the messy-conversation set (tests/conversations/*.yml) through the real app.

A conversation is what a resident would text, turn by turn, with what they should notice
in the replies (`expect`, `reject`, `max_segments`) and what should have been stored
afterwards (`then`). It is played through the simulator's HTTP API on a real database with
the demo world, so every layer is exercised: channel adapter, interpreter, flows, the
actions' writes. The format is described in tests/conversations/README.md.

Used by tests/conversations/test_conversation_set.py and benchmarks/conversations.py.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.channels.sms.render import render_sms
from bot.outbound.planning import plan
from bot.runtime import Runtime
from flows.local_time import LONDON
from flows.messages import Option
from flows.sms import sms_cost
from flows.windows import DEFAULT_WINDOWS, window_named
from storage.enums import Channel, OutboxStatus, TaskStatus
from storage.models import (
    AccessNeed,
    Appointment,
    AppointmentEvent,
    OutboxMessage,
    RepairJob,
    Resident,
    StaffTask,
)
from storage.repositories.people import resident_by_address

HERE = Path(__file__).resolve().parent
DEFAULT_RESIDENT = "+447400123456"
CHANNELS = ("simulator",)
SETUP_KEYS = frozenset({"book", "clock", "visit_status", "plan"})
TURN_KEYS = frozenset(
    {"say", "option", "expect", "expect_any", "reject", "expect_no_reply", "max_segments"}
    | SETUP_KEYS
)
THEN_KEYS = frozenset(
    {
        "access_needs",
        "hazard_jobs",
        "tasks",
        "no_show_reported",
        "language",
        "live_reminders",
        "booked_visits",
    }
)


class ConversationError(ValueError):
    """A conversation file that does not follow the format (a test-data mistake)."""


@dataclass(frozen=True, slots=True)
class Turn:
    say: str | None = None
    option: str | None = None
    expect: tuple[str, ...] = ()
    expect_any: tuple[str, ...] = ()
    reject: tuple[str, ...] = ()
    expect_no_reply: bool = False
    max_segments: int | None = None
    #: A setup step played at this point instead of a message (clock, visit_status, ...).
    step: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Conversation:
    name: str
    source: str
    resident: str
    channel: str
    setup: tuple[Mapping[str, Any], ...]
    turns: tuple[Turn, ...]
    then: Mapping[str, Any]

    @property
    def key(self) -> str:
        return f"{self.source}: {self.name}"

    def resident_lines(self) -> Iterable[str]:
        return (t.say for t in self.turns if t.say)


@dataclass(frozen=True, slots=True)
class Sent:
    """One reply the resident got, with what it costs as SMS."""

    text: str
    segments: int
    encoding: str


@dataclass
class Result:
    conversation: Conversation
    failures: list[str] = field(default_factory=list)
    replies: list[Sent] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConversationError(f"{where}: expected a string or a list of strings")


def _turn(raw: Any, where: str) -> Turn:
    if not isinstance(raw, dict):
        raise ConversationError(f"{where}: a turn is a mapping")
    unknown = set(raw) - TURN_KEYS
    if unknown:
        raise ConversationError(f"{where}: unknown keys {sorted(unknown)}")
    steps = {k: raw[k] for k in raw if k in SETUP_KEYS}
    if steps and ("say" in raw or "option" in raw):
        raise ConversationError(f"{where}: a turn either says something or sets something up")
    if not steps and "say" not in raw and "option" not in raw:
        raise ConversationError(f"{where}: a turn needs `say` (or `option`, or a setup step)")
    say = raw.get("say")
    if say is not None and not isinstance(say, str):
        raise ConversationError(f"{where}: `say` is text")
    max_segments = raw.get("max_segments")
    if max_segments is not None and (not isinstance(max_segments, int) or max_segments < 1):
        raise ConversationError(f"{where}: `max_segments` is a positive whole number")
    return Turn(
        say=say,
        option=None if raw.get("option") is None else str(raw["option"]),
        expect=_strings(raw.get("expect"), where),
        expect_any=_strings(raw.get("expect_any"), where),
        reject=_strings(raw.get("reject"), where),
        expect_no_reply=bool(raw.get("expect_no_reply", False)),
        max_segments=max_segments,
        step=steps,
    )


def parse_file(path: Path) -> list[Conversation]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(data, list):
        raise ConversationError(f"{path.name}: the file is a list of conversations")
    found: list[Conversation] = []
    for i, raw in enumerate(data):
        where = f"{path.name}[{i}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise ConversationError(f"{where}: a conversation is a mapping with a `name`")
        where = f"{path.name}: {raw['name']}"
        unknown = set(raw) - {"name", "resident", "channel", "setup", "turns", "then"}
        if unknown:
            raise ConversationError(f"{where}: unknown keys {sorted(unknown)}")
        channel = str(raw.get("channel", "simulator"))
        if channel not in CHANNELS:
            raise ConversationError(f"{where}: channel must be one of {CHANNELS}")
        setup = raw.get("setup") or []
        if not isinstance(setup, list) or not all(isinstance(s, dict) for s in setup):
            raise ConversationError(f"{where}: `setup` is a list of mappings")
        for step in setup:
            if not set(step) <= SETUP_KEYS:
                raise ConversationError(f"{where}: unknown setup {sorted(set(step) - SETUP_KEYS)}")
        turns = raw.get("turns") or []
        if not isinstance(turns, list) or not turns:
            raise ConversationError(f"{where}: `turns` is a non-empty list")
        then = raw.get("then") or {}
        if not isinstance(then, dict) or not set(then) <= THEN_KEYS:
            raise ConversationError(f"{where}: `then` keys are {sorted(THEN_KEYS)}")
        found.append(
            Conversation(
                name=raw["name"],
                source=path.name,
                resident=str(raw.get("resident", DEFAULT_RESIDENT)),
                channel=channel,
                setup=tuple(setup),
                turns=tuple(_turn(t, f"{where} turn {n + 1}") for n, t in enumerate(turns)),
                then=then,
            )
        )
    return found


def load_set(directory: Path = HERE) -> list[Conversation]:
    conversations = [c for path in sorted(directory.glob("*.yml")) for c in parse_file(path)]
    seen: Counter[str] = Counter(c.key for c in conversations)
    repeated = [k for k, n in seen.items() if n > 1]
    if repeated:
        raise ConversationError(f"conversation names repeat: {repeated}")
    return conversations


class Player:
    """Plays one conversation against a running app (a TestClient on the demo world)."""

    def __init__(self, client: TestClient, conversation: Conversation) -> None:
        self.client = client
        self.conversation = conversation
        self.runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
        self.result = Result(conversation)

    # -- sending ---------------------------------------------------------------------------

    def _send(self, text: str, option: str | None = None) -> list[dict[str, Any]] | None:
        response = self.client.post(
            "/simulator/api/messages",
            json={"phone": self.conversation.resident, "text": text, "option_key": option},
        )
        if response.status_code != 200:
            self.result.failures.append(
                f"said {text!r}: HTTP {response.status_code} {response.text[:200]}"
            )
            return None
        replies: list[dict[str, Any]] = response.json()["replies"]
        for reply in replies:
            cost = sms_cost(_as_sent(reply))
            self.result.replies.append(Sent(reply["text"], cost.segments, cost.encoding))
        return replies

    # -- setup steps -------------------------------------------------------------------------

    def _visit(self) -> dict[str, Any] | None:
        visits = self.client.get(
            "/simulator/api/visits", params={"phone": self.conversation.resident}
        ).json()
        booked = [v for v in visits if v["status"] == "booked"]
        return booked[0] if booked else (visits[0] if visits else None)

    def _book(self) -> None:
        replies = self._send("I need a repair visit booked please") or []
        for _ in range(8):
            if any(r["text"].startswith("Booked") for r in replies):
                return
            if not replies:
                break
            last = replies[-1]
            labels = [o["label"].lower() for o in last.get("options") or []]
            text = last["text"].lower()
            if any("still right" in label for label in labels):
                answer = "1"
            elif "before they come" in text or "should know" in text:
                answer = "0"
            elif labels:
                answer = "1"
            else:
                break
            replies = self._send(answer) or []
        self.result.failures.append("setup `book`: the booking conversation did not finish")

    def _clock(self, value: str) -> None:
        moment = self._moment(value)
        if moment is None:
            return
        self.client.post("/simulator/api/clock", json={"set": moment.isoformat()})

    def _moment(self, value: str) -> datetime | None:
        """An ISO time, or visit_start/visit_end[+-offset], or "visit_day HH:MM" (London)."""
        match = re.fullmatch(r"(visit_start|visit_end)\s*(?:([+-])\s*(\d+)\s*([mhd]))?", value)
        day_match = re.fullmatch(r"visit_day(?:\s*([+-])\s*(\d+)d)?\s+(\d{1,2}):(\d{2})", value)
        if match is None and day_match is None:
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                self.result.failures.append(f"setup clock {value!r}: not a time")
                return None
        visit = self._visit()
        if visit is None:
            self.result.failures.append(f"setup clock {value!r}: the resident has no visit")
            return None
        day = datetime.fromisoformat(visit["day"]).date()
        if day_match is not None:
            sign, days, hour, minute = day_match.groups()
            shift = timedelta(days=int(days or 0)) * (-1 if sign == "-" else 1)
            local = datetime(day.year, day.month, day.day, int(hour), int(minute), tzinfo=LONDON)
            return local + shift
        assert match is not None
        which, sign, amount, unit = match.groups()
        window = window_named(visit["window"], DEFAULT_WINDOWS)
        edge = window.start if which == "visit_start" else window.end
        local = datetime(day.year, day.month, day.day, edge.hour, edge.minute, tzinfo=LONDON)
        if amount:
            size = {"m": "minutes", "h": "hours", "d": "days"}[unit]
            offset = timedelta(**{size: int(amount)})
            local = local - offset if sign == "-" else local + offset
        return local

    def _visit_status(self, body: Mapping[str, Any]) -> None:
        visit = self._visit()
        if visit is None:
            self.result.failures.append("setup visit_status: the resident has no visit")
            return
        response = self.client.post(f"/simulator/api/visits/{visit['id']}/status", json=body)
        if response.status_code != 200:
            self.result.failures.append(f"setup visit_status: HTTP {response.status_code}")

    def _step(self, step: Mapping[str, Any]) -> None:
        for key, value in step.items():
            match key:
                case "book":
                    if value:
                        self._book()
                case "clock":
                    self._clock(str(value))
                case "visit_status":
                    self._visit_status(dict(value))
                case "plan":
                    if value:
                        plan(self.runtime.db, now=self.runtime.clock.now())

    # -- playing ---------------------------------------------------------------------------

    def play(self) -> Result:
        for step in self.conversation.setup:
            self._step(step)
        for n, turn in enumerate(self.conversation.turns, start=1):
            if turn.step:
                self._step(turn.step)
                continue
            replies = self._send(turn.say or "", turn.option)
            if replies is not None:
                self._check_turn(n, turn, replies)
        self._check_then()
        return self.result

    def _check_turn(self, n: int, turn: Turn, replies: list[dict[str, Any]]) -> None:
        said = f"turn {n} ({turn.say!r})"
        texts = [_as_sent(r) for r in replies]
        joined = "\n".join(texts).lower()
        shown = " | ".join(texts)[:600] or "(no reply)"
        if turn.expect_no_reply:
            if replies:
                self.result.failures.append(f"{said}: expected no reply, got {shown}")
            return
        if not replies:
            self.result.failures.append(f"{said}: no reply")
            return
        missing = [e for e in turn.expect if e.lower() not in joined]
        if missing:
            self.result.failures.append(f"{said}: missing {missing} in: {shown}")
        if turn.expect_any and not any(e.lower() in joined for e in turn.expect_any):
            self.result.failures.append(f"{said}: none of {list(turn.expect_any)} in: {shown}")
        present = [r for r in turn.reject if r.lower() in joined]
        if present:
            self.result.failures.append(f"{said}: should not say {present}: {shown}")
        if turn.max_segments is not None:
            over = [t for t in texts if sms_cost(t).segments > turn.max_segments]
            if over:
                self.result.failures.append(
                    f"{said}: over {turn.max_segments} SMS segment(s): {over[0][:200]!r}"
                )

    def _check_then(self) -> None:
        then = self.conversation.then
        if not then:
            return
        with self.runtime.db.session() as session:
            resident = resident_by_address(
                session, channel=Channel.SMS, address=self.conversation.resident
            )
            if resident is None or resident.id is None:
                self.result.failures.append("then: the resident is not on record")
                return
            found = _stored(session, resident, then)
        for key, wanted in then.items():
            if not _matches(found[key], wanted):
                self.result.failures.append(
                    f"then {key}: expected {wanted!r}, found {found[key]!r}"
                )


def _matches(found: Any, wanted: Any) -> bool:
    """Equal, or for a count at least/at most N when written ">=N" / "<=N"."""
    if isinstance(wanted, str) and isinstance(found, int) and not isinstance(found, bool):
        bound = re.fullmatch(r"\s*(>=|<=)\s*(\d+)\s*", wanted)
        if bound is not None:
            n = int(bound.group(2))
            return found >= n if bound.group(1) == ">=" else found <= n
    if isinstance(wanted, dict) and isinstance(found, dict):
        wanted = {str(k): v for k, v in wanted.items()}
        return (
            set(wanted) <= set(found)
            and all(_matches(found[k], v) for k, v in wanted.items())
            and all(found[k] == 0 for k in set(found) - set(wanted))
        )
    return bool(found == wanted)


def _stored(session: Session, resident: Resident, then: Mapping[str, Any]) -> dict[str, Any]:
    """What the checks in `then` look at, read from the database."""
    rid = resident.id
    found: dict[str, Any] = {}
    for key, wanted in then.items():
        match key:
            case "access_needs":
                found[key] = session.exec(
                    select(func.count())
                    .select_from(AccessNeed)
                    .where(AccessNeed.resident_id == rid, col(AccessNeed.active).is_(True))
                ).one()
            case "hazard_jobs":
                rows = session.exec(
                    select(RepairJob.hazard_category, func.count())
                    .where(
                        RepairJob.resident_id == rid,
                        col(RepairJob.hazard_category).is_not(None),
                    )
                    .group_by(col(RepairJob.hazard_category))
                ).all()
                counts = {str(category): int(n) for category, n in rows}
                names = set(wanted) if isinstance(wanted, dict) else set()
                found[key] = {name: counts.get(name, 0) for name in names | set(counts)}
            case "tasks":
                rows = session.exec(
                    select(StaffTask.kind, func.count())
                    .where(StaffTask.resident_id == rid, StaffTask.status != TaskStatus.CLOSED)
                    .group_by(col(StaffTask.kind))
                ).all()
                counts = {str(kind): int(n) for kind, n in rows}
                names = set(wanted) if isinstance(wanted, dict) else set()
                found[key] = {name: counts.get(name, 0) for name in names}
            case "no_show_reported":
                found[key] = (
                    session.exec(
                        select(func.count())
                        .select_from(AppointmentEvent)
                        .join(Appointment, col(Appointment.id) == AppointmentEvent.appointment_id)
                        .join(RepairJob, col(RepairJob.id) == Appointment.job_id)
                        .where(
                            RepairJob.resident_id == rid,
                            AppointmentEvent.kind == "no_show_reported",
                        )
                    ).one()
                    > 0
                )
            case "language":
                found[key] = resident.language
            case "live_reminders":
                found[key] = session.exec(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(
                        OutboxMessage.resident_id == rid,
                        col(OutboxMessage.kind).like("reminder%"),
                        OutboxMessage.status == OutboxStatus.PENDING,
                    )
                ).one()
            case "booked_visits":
                found[key] = session.exec(
                    select(func.count())
                    .select_from(Appointment)
                    .join(RepairJob, col(RepairJob.id) == Appointment.job_id)
                    .where(RepairJob.resident_id == rid, Appointment.status == "booked")
                ).one()
    return found


def _as_sent(reply: Mapping[str, Any]) -> str:
    """The text as an SMS would carry it: the reply and its numbered options."""
    options = [Option(str(o["key"]), str(o["label"])) for o in reply.get("options") or []]
    return render_sms(str(reply.get("text") or ""), options).text


def segment_share(results: Iterable[Result]) -> dict[int, int]:
    """How many replies took 1, 2, 3... SMS segments."""
    counts: Counter[int] = Counter()
    for result in results:
        counts.update(sent.segments for sent in result.replies)
    return dict(sorted(counts.items()))

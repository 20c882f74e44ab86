"""Accuracy of the time resolver against Duckling's corpus and our own UK SMS-style set.

Run `python -m nlu.timeeval [--eval-dir DIR] [--corpus PATH]`. The UK set is in the
repository (nlu/data/time_test_uk.jsonl) and always scored. The Duckling corpora are not:
they are external data (../shared/eval/ on the development machine), scored only when named
with `--eval-dir` (both files in it) or `--corpus`. The Duckling main corpus is scored with
the DUCKLING conventions (US month/day dates, Duckling's day parts and holidays), the en_GB
file and the UK set with UK conventions; dateparser, when installed, is printed alongside as
a baseline. Figures are measured, never asserted here: tests/nlu/test_timeeval.py holds the
floors.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Protocol

from nlu.timeexpr import DUCKLING, UK, Conventions, TimeMatch, find_times

#: Duckling's test context: Tue 2013-02-12 04:30 at UTC-2 ("Etc/GMT+2" in tz database terms).
DUCKLING_NOW = datetime(2013, 2, 12, 4, 30, tzinfo=timezone(timedelta(hours=-2)))
DUCKLING_TZ = "Etc/GMT+2"
TARGET_KINDS = ("datetime", "datetimeInterval")
TARGET_GRAINS = ("day", "hour", "minute")
_CUT = {"day": 10, "hour": 13, "minute": 16, "second": 19}
#: The Duckling corpora's file names in an evaluation directory (`--eval-dir`).
DUCKLING_FILES = ("duckling_en_time.jsonl", "duckling_en_gb_time.jsonl")
UK_SET = Path(__file__).resolve().parent / "data" / "time_test_uk.jsonl"


class MatchLike(Protocol):
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def value(self) -> dict[str, str]: ...


ResolveFn = Callable[[str, datetime], Sequence[MatchLike]]


@dataclass(frozen=True, slots=True)
class Case:
    """One Duckling corpus line; `expected` is a value, or (from, to) for intervals."""

    text: str
    kind: str
    grain: str
    section: str
    expected: str | tuple[str | None, str | None]

    @property
    def subset(self) -> tuple[str, str]:
        return (self.kind, self.grain)

    @property
    def is_target(self) -> bool:
        return self.kind in TARGET_KINDS and self.grain in TARGET_GRAINS


@dataclass(frozen=True, slots=True)
class Report:
    """Correct / total per (kind, grain) subset, and the failures for inspection."""

    counts: dict[tuple[str, str], tuple[int, int]]
    failures: tuple[tuple[Case, str], ...] = field(default=())

    def accuracy(self, subset: tuple[str, str]) -> float:
        ok, n = self.counts.get(subset, (0, 0))
        return ok / n if n else 0.0

    @property
    def target(self) -> tuple[int, int]:
        ok = sum(c[0] for s, c in self.counts.items() if _is_target(s))
        n = sum(c[1] for s, c in self.counts.items() if _is_target(s))
        return ok, n

    @property
    def target_accuracy(self) -> float:
        ok, n = self.target
        return ok / n if n else 0.0


def _is_target(subset: tuple[str, str]) -> bool:
    return subset[0] in TARGET_KINDS and subset[1] in TARGET_GRAINS


def load_cases(path: str | Path) -> list[Case]:
    cases = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        expected: str | tuple[str | None, str | None] = (
            row["value"] if "value" in row else (row.get("from"), row.get("to"))
        )
        cases.append(Case(row["text"], row["kind"], row["grain"], row.get("section", ""), expected))
    return cases


def _wall(iso: str | None, grain: str) -> str | None:
    """The local wall-clock part of an ISO string, cut at the grain."""
    return None if iso is None else iso[: _CUT.get(grain, 10)]


def _matches(case: Case, value: dict[str, str]) -> bool:
    g = case.grain
    if isinstance(case.expected, tuple):
        if "from" not in value:
            return False
        exp_from, exp_to = case.expected
        return _wall(value["from"], g) == _wall(exp_from, g) and (
            exp_to is None or _wall(value.get("to"), g) == _wall(exp_to, g)
        )
    got = value.get("value", value.get("from"))
    return _wall(got, g) == _wall(case.expected, g)


def _candidates(text: str, matches: Sequence[MatchLike]) -> list[MatchLike]:
    """Matches covering the whole text, else the one covering most of it."""
    lo = len(text) - len(text.lstrip())
    hi = len(text.rstrip())
    whole = [m for m in matches if m.start <= lo and m.end >= hi]
    if whole:
        return whole
    return sorted(matches, key=lambda m: m.end - m.start, reverse=True)[:1]


def evaluate(cases: Sequence[Case], resolve_fn: ResolveFn, *, now: datetime) -> Report:
    counts: dict[tuple[str, str], tuple[int, int]] = {}
    failures: list[tuple[Case, str]] = []
    for case in cases:
        found = _candidates(case.text, resolve_fn(case.text, now))
        ok = any(_matches(case, m.value) for m in found)
        right, total = counts.get(case.subset, (0, 0))
        counts[case.subset] = (right + ok, total + 1)
        if not ok:
            failures.append((case, json.dumps([m.value for m in found])))
    return Report(counts, tuple(failures))


def doorstep_resolver(conventions: Conventions, tz: str = DUCKLING_TZ) -> ResolveFn:
    def resolve_fn(text: str, now: datetime) -> list[TimeMatch]:
        return find_times(text, now=now, tz=tz, conventions=conventions)

    return resolve_fn


def dateparser_resolver(text: str, now: datetime) -> list[TimeMatch]:
    """Baseline: dateparser on the whole text, future-preferring, relative to `now`."""
    import dateparser

    base = now.replace(tzinfo=None)
    settings = {"PREFER_DATES_FROM": "future", "RELATIVE_BASE": base}
    got = dateparser.parse(text, settings=settings)
    if got is None:
        return []
    iso = got.replace(tzinfo=now.tzinfo).isoformat() if got.tzinfo is None else got.isoformat()
    return [TimeMatch(0, len(text), text, {"value": iso, "grain": "minute"})]


# ---- the UK SMS-style set ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UkCase:
    text: str
    now: datetime
    expected: frozenset[tuple[str, str]]


def load_uk_cases(path: str | Path = UK_SET) -> list[UkCase]:
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            exp = frozenset(
                (e["text"], json.dumps(e["value"], sort_keys=True)) for e in row["expected"]
            )
            out.append(UkCase(row["text"], datetime.fromisoformat(row["now"]), exp))
    return out


@dataclass(frozen=True, slots=True)
class UkReport:
    correct: int
    total: int
    failures: tuple[tuple[UkCase, frozenset[tuple[str, str]]], ...]

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


def evaluate_uk(cases: Sequence[UkCase], resolve_fn: ResolveFn) -> UkReport:
    """A case is right when the set of (matched text, value) equals the expected set."""
    correct = 0
    failures = []
    for case in cases:
        got = frozenset(
            (case.text[m.start : m.end], json.dumps(m.value, sort_keys=True))
            for m in resolve_fn(case.text, case.now)
        )
        if got == case.expected:
            correct += 1
        else:
            failures.append((case, got))
    return UkReport(correct, len(cases), tuple(failures))


def _uk_resolver(text: str, now: datetime) -> list[TimeMatch]:
    return find_times(text, now=now)


# ---- printing -----------------------------------------------------------------------------


def _table(name: str, reports: dict[str, Report]) -> str:
    subsets = sorted(
        {s for r in reports.values() for s in r.counts}, key=lambda s: (not _is_target(s), s)
    )
    cols = list(reports)
    lines = [f"{name}", f"{'subset':<34}{'n':>5}" + "".join(f"{c:>12}" for c in cols)]
    for s in subsets:
        n = next(r.counts[s][1] for r in reports.values() if s in r.counts)
        mark = "*" if _is_target(s) else " "
        row = f"{mark}{s[0] + '/' + s[1]:<33}{n:>5}"
        lines.append(row + "".join(f"{reports[c].accuracy(s):>12.3f}" for c in cols))
    n_target = next(iter(reports.values())).target[1]
    lines.append(
        f"{'* union day/hour/minute':<34}{n_target:>5}"
        + "".join(f"{reports[c].target_accuracy:>12.3f}" for c in cols)
    )
    return "\n".join(lines)


def _dateparser_available() -> bool:
    try:
        import dateparser  # noqa: F401
    except ImportError:
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlu.timeeval")
    parser.add_argument("--corpus", type=Path, action="append", help="Duckling-format JSONL")
    parser.add_argument(
        "--eval-dir",
        type=Path,
        help=f"a directory holding {' and '.join(DUCKLING_FILES)} (e.g. ../shared/eval)",
    )
    parser.add_argument("--uk-set", type=Path, default=UK_SET)
    parser.add_argument("--show-failures", action="store_true")
    args = parser.parse_args(argv)
    corpora: list[Path] = list(args.corpus or [])
    if args.eval_dir is not None:
        corpora += [args.eval_dir / name for name in DUCKLING_FILES]
    if not corpora:
        print("Duckling corpora: none named (--eval-dir DIR or --corpus PATH), skipped\n")
    has_dp = _dateparser_available()
    for path in corpora:
        if not path.exists():
            print(f"{path}: not found, skipped")
            continue
        conv = UK if "_gb_" in path.name else DUCKLING
        cases = load_cases(path)
        reports = {"doorstep": evaluate(cases, doorstep_resolver(conv), now=DUCKLING_NOW)}
        if has_dp:
            reports["dateparser"] = evaluate(cases, dateparser_resolver, now=DUCKLING_NOW)
        print(
            _table(
                f"{path.name} (conventions={conv.name}, now={DUCKLING_NOW.isoformat()})", reports
            )
        )
        if args.show_failures:
            for case, found in reports["doorstep"].failures:
                if case.is_target:
                    want = case.expected
                    print(f"  FAIL {case.kind}/{case.grain} {case.text!r}: want {want} got {found}")
        print()
    uk = load_uk_cases(args.uk_set)
    ours = evaluate_uk(uk, _uk_resolver)
    line = f"{args.uk_set.name} (conventions=uk): doorstep {ours.correct}/{ours.total}"
    line += f" = {ours.accuracy:.3f}"
    if has_dp:
        dp = evaluate_uk(uk, dateparser_resolver)
        line += f"; dateparser {dp.correct}/{dp.total} = {dp.accuracy:.3f}"
    else:
        line += "; dateparser not installed, baseline skipped"
    print(line)
    if args.show_failures:
        for uk_case, got in ours.failures:
            print(f"  FAIL {uk_case.text!r} @ {uk_case.now.isoformat()}")
            print(f"       want {sorted(uk_case.expected)}\n       got  {sorted(got)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

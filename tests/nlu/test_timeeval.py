"""Accuracy floors for the time resolver (figures, not timings; the benchmark prints them)."""

from __future__ import annotations

from pathlib import Path

from mandatory import unavailable
from nlu.timeeval import (
    DUCKLING_NOW,
    TARGET_GRAINS,
    TARGET_KINDS,
    UK_SET,
    Case,
    doorstep_resolver,
    evaluate,
    evaluate_uk,
    load_cases,
    load_uk_cases,
)
from nlu.timeexpr import DUCKLING, TimeMatch, find_times

# Outside the repository: the external Duckling corpus in ../shared/eval (see its README).
# Without it the Duckling test skips, saying so; in CI it fails (mandatory there).
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "eval" / "duckling_en_time.jsonl"


def test_uk_sms_set_is_big_enough_and_scores_at_least_95_percent() -> None:
    cases = load_uk_cases(UK_SET)
    assert len(cases) >= 120
    assert sum(1 for c in cases if not c.expected) >= 10  # messages with no time at all
    report = evaluate_uk(cases, lambda text, now: find_times(text, now=now))
    assert report.accuracy >= 0.95, [c.text for c, _ in report.failures]


def test_duckling_day_hour_minute_union_scores_at_least_85_percent() -> None:
    if not CORPUS.exists():
        unavailable(f"the Duckling corpus is not at {CORPUS} (it lives in ../shared/eval)")
    cases = [c for c in load_cases(CORPUS) if c.is_target]
    assert len(cases) > 500
    report = evaluate(cases, doorstep_resolver(DUCKLING), now=DUCKLING_NOW)
    assert {s for s in report.counts} == {(k, g) for k in TARGET_KINDS for g in TARGET_GRAINS}
    assert report.target_accuracy >= 0.85


def test_a_case_is_scored_at_its_grain_on_the_best_covering_match() -> None:
    case = Case("at 3pm", "datetime", "hour", "t", "2013-02-12T15:00:00")
    right = TimeMatch(0, 6, "at 3pm", {"value": "2013-02-12T15:00:00-02:00", "grain": "minute"})
    short_wrong = TimeMatch(3, 6, "3pm", {"value": "2013-02-13T15:00:00-02:00", "grain": "hour"})
    assert (
        evaluate([case], lambda t, n: [short_wrong, right], now=DUCKLING_NOW).target_accuracy == 1
    )
    assert evaluate([case], lambda t, n: [short_wrong], now=DUCKLING_NOW).target_accuracy == 0


def test_intervals_compare_both_ends() -> None:
    case = Case(
        "3-4pm", "datetimeInterval", "hour", "t", ("2013-02-12T15:00:00", "2013-02-12T17:00:00")
    )
    good = {"from": "2013-02-12T15:00:00-02:00", "to": "2013-02-12T17:00:00-02:00", "grain": "hour"}
    bad = {**good, "to": "2013-02-12T16:00:00-02:00"}
    ok = evaluate([case], lambda t, n: [TimeMatch(0, 5, t, good)], now=DUCKLING_NOW)
    ko = evaluate([case], lambda t, n: [TimeMatch(0, 5, t, bad)], now=DUCKLING_NOW)
    assert (ok.target_accuracy, ko.target_accuracy) == (1.0, 0.0)


def test_other_kinds_are_reported_apart_from_the_target() -> None:
    cases = [
        Case("today", "datetime", "day", "t", "2013-02-12T00:00:00"),
        Case("this year", "datetime", "year", "t", "2013-01-01T00:00:00"),
    ]
    report = evaluate(cases, doorstep_resolver(DUCKLING), now=DUCKLING_NOW)
    assert report.target == (1, 1)
    assert ("datetime", "year") in report.counts

"""The evaluator's figures on a tiny file whose right answers were worked out by hand."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nlu.evaluate import EvaluationReport, evaluate, percentile, score
from nlu.training_data import Example, load_training_data, parse_training_data
from nlu.types import FALLBACK_INTENT, Entity, IntentScore, ParseResult

NOW = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)

TEST_FILE = """\
version: "3.1"
nlu:
- intent: greet
  examples: |
    - hi
    - hello
- intent: deny
  examples: |
    - no
- intent: verify_operative
  examples: |
    - code [4821](code)
    - badge [55102](code) please
"""

# text -> (intent the fake interpreter answers, entities it finds)
ANSWERS: dict[str, tuple[str, tuple[Entity, ...]]] = {
    "hi": ("greet", ()),
    "hello": ("deny", ()),
    "no": ("deny", ()),
    "code 4821": ("verify_operative", (Entity("code", "4821", 5, 9, "RegexEntityExtractor"),)),
    "badge 55102 please": (
        "greet",
        (
            Entity("code", "badge", 0, 5, "RegexEntityExtractor"),
            # A kind the file never annotates: not scored at all.
            Entity("rating", 5, 6, 7, "RatingExtractor"),
        ),
    ),
}


class FakeInterpreter:
    name = "fake"

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def parse(self, text: str, *, now: datetime, tz: str = "Europe/London") -> ParseResult:
        self.seen.append(text)
        intent, entities = ANSWERS[text]
        score = IntentScore(intent, 0.9)
        return ParseResult(text=text, intent=score, intent_ranking=(score,), entities=entities)


def fake_timer(durations_ms: list[float]) -> Iterator[float]:
    """start/stop readings giving exactly these parse durations."""
    for i, ms in enumerate(durations_ms):
        yield float(i)
        yield i + ms / 1000


@pytest.fixture
def report(tmp_path: Path) -> EvaluationReport:
    path = tmp_path / "test_nlu.yml"
    path.write_text(TEST_FILE, encoding="utf-8")
    readings = fake_timer([1, 3, 2, 10, 4])
    examples = load_training_data(path).examples
    return asyncio.run(evaluate(FakeInterpreter(), examples, now=NOW, timer=lambda: next(readings)))


def test_accuracy_and_macro_f1(report: EvaluationReport) -> None:
    assert report.examples == 5
    assert report.accuracy == pytest.approx(3 / 5)
    # greet P=1/2 R=1/2 F1=1/2; deny P=1/2 R=1 F1=2/3; verify_operative P=1 R=1/2 F1=2/3
    assert report.macro_f1 == pytest.approx((1 / 2 + 2 / 3 + 2 / 3) / 3)


def test_per_intent_figures(report: EvaluationReport) -> None:
    deny = report.intent("deny")
    assert (deny.precision, deny.recall, deny.support) == (0.5, 1.0, 1)
    assert deny.f1 == pytest.approx(2 / 3)
    verify = report.intent("verify_operative")
    assert (verify.precision, verify.recall, verify.support) == (1.0, 0.5, 2)
    assert [name for name, _ in report.per_intent] == ["deny", "greet", "verify_operative"]


def test_confused_pairs(report: EvaluationReport) -> None:
    pairs = [(c.true, c.predicted, c.count) for c in report.confusions]
    assert pairs == [("greet", "deny", 1), ("verify_operative", "greet", 1)]
    assert {m.text for m in report.misclassified} == {"hello", "badge 55102 please"}


def test_entities_need_span_and_value(report: EvaluationReport) -> None:
    assert [name for name, _ in report.entities] == ["code"]
    code = report.entity("code")
    assert (code.support, code.predicted, code.correct) == (2, 2, 1)
    assert code.f1 == pytest.approx(0.5)


def test_latency_percentiles(report: EvaluationReport) -> None:
    assert report.latency.count == 5
    assert report.latency.p50 == pytest.approx(0.003)
    # sorted 1,2,3,4,10 ms; rank 3.96 -> 4 + 0.96 * (10 - 4)
    assert report.latency.p99 == pytest.approx(0.00976)


def test_to_dict_has_the_headline_numbers(report: EvaluationReport) -> None:
    data = report.to_dict()
    assert data["intent"]["accuracy"] == pytest.approx(0.6)
    assert data["intent"]["macro_f1"] == pytest.approx(0.6111, abs=1e-4)
    assert data["intent"]["per_intent"]["greet"]["f1"] == pytest.approx(0.5)
    assert data["intent"]["confusions"][0] == {"true": "greet", "predicted": "deny", "count": 1}
    assert data["entities"]["code"]["precision"] == pytest.approx(0.5)
    assert data["latency"]["p50_ms"] == pytest.approx(3.0)


def test_fallback_counts_as_a_miss_but_is_not_an_intent_class() -> None:
    examples = [Example("hi", "greet"), Example("bye", "goodbye")]
    results = [
        ParseResult("hi", IntentScore("greet", 0.9)),
        ParseResult("bye", IntentScore(FALLBACK_INTENT, 0.4)),
    ]
    report = score("fake", examples, results)
    assert report.accuracy == 0.5
    assert [name for name, _ in report.per_intent] == ["goodbye", "greet"]
    assert report.macro_f1 == pytest.approx((0.0 + 1.0) / 2)


def test_equivalent_values_match_and_times_match_on_span() -> None:
    data = parse_training_data(
        "nlu:\n- intent: request_human\n  examples: |\n"
        "    - call me on [07700900123](phone_number) [tomorrow](time)\n"
    )
    example = data.examples[0]
    found = (
        Entity("phone_number", "+447700900123", 11, 22, "PhoneNumberExtractor"),
        Entity("time", {"value": "2025-06-03T00:00:00+01:00", "grain": "day"}, 23, 31, "T"),
    )
    report = score("fake", [example], [ParseResult(example.text, IntentScore("x", 1), (), found)])
    assert report.entity("phone_number").f1 == 1.0
    assert report.entity("time").f1 == 1.0


def test_percentile_interpolates() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([7.0], 99) == 7.0

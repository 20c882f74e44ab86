"""Score any Interpreter against a Rasa-format test file, the way `rasa test nlu` does.

The same report serves the CLI, the accuracy-floor test and the benchmark, so the
built-in interpreter and Rasa are always measured by one yardstick: intent accuracy,
macro F1 over the intents the test file contains, per-intent precision/recall/F1, the
most frequent confusions, entity precision/recall/F1 per entity type, and parse latency.

Entity matching is strict: same type, same character span, same value. Values are
compared in canonical form so equivalent spellings agree (a phone number written
"07700900123" equals "+447700900123"; rating "4" equals 4). A `time` entity needs only
its span to match, because its resolved value depends on the reference time. Only
entity types that the test file annotates are scored; an interpreter that finds extra
kinds of entity is not penalised for kinds nobody labelled.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import phonenumbers

from nlu.interpreter import DEFAULT_TIMEZONE, Interpreter
from nlu.training_data import AnnotatedEntity, Example
from nlu.types import Entity, ParseResult

SPAN_ONLY_ENTITIES = frozenset({"time"})


@dataclass(frozen=True, slots=True)
class PRF:
    """Precision, recall and F1 with the counts behind them."""

    precision: float
    recall: float
    f1: float
    support: int
    predicted: int
    correct: int

    @classmethod
    def from_counts(cls, correct: int, predicted: int, support: int) -> PRF:
        precision = correct / predicted if predicted else 0.0
        recall = correct / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return cls(precision, recall, f1, support, predicted, correct)

    def to_dict(self) -> dict[str, Any]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "support": self.support,
            "predicted": self.predicted,
            "correct": self.correct,
        }


@dataclass(frozen=True, slots=True)
class Confusion:
    true: str
    predicted: str
    count: int


@dataclass(frozen=True, slots=True)
class Misclassified:
    text: str
    true: str
    predicted: str
    confidence: float


@dataclass(frozen=True, slots=True)
class Latency:
    """Seconds per parse, as the caller of `parse` experiences it."""

    count: int
    p50: float
    p99: float
    mean: float

    @classmethod
    def of(cls, samples: Sequence[float]) -> Latency:
        if not samples:
            return cls(0, 0.0, 0.0, 0.0)
        return cls(
            len(samples),
            percentile(samples, 50),
            percentile(samples, 99),
            math.fsum(samples) / len(samples),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "p50_ms": round(self.p50 * 1000, 3),
            "p99_ms": round(self.p99 * 1000, 3),
            "mean_ms": round(self.mean * 1000, 3),
        }


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    interpreter: str
    examples: int
    accuracy: float
    macro_f1: float
    per_intent: tuple[tuple[str, PRF], ...]
    confusions: tuple[Confusion, ...]
    entities: tuple[tuple[str, PRF], ...]
    latency: Latency
    misclassified: tuple[Misclassified, ...]

    def intent(self, name: str) -> PRF:
        return dict(self.per_intent)[name]

    def entity(self, name: str) -> PRF:
        return dict(self.entities)[name]

    def to_dict(self) -> dict[str, Any]:
        return {
            "interpreter": self.interpreter,
            "examples": self.examples,
            "intent": {
                "accuracy": round(self.accuracy, 4),
                "macro_f1": round(self.macro_f1, 4),
                "per_intent": {name: prf.to_dict() for name, prf in self.per_intent},
                "confusions": [
                    {"true": c.true, "predicted": c.predicted, "count": c.count}
                    for c in self.confusions
                ],
                "misclassified": [
                    {
                        "text": m.text,
                        "true": m.true,
                        "predicted": m.predicted,
                        "confidence": round(m.confidence, 4),
                    }
                    for m in self.misclassified
                ],
            },
            "entities": {name: prf.to_dict() for name, prf in self.entities},
            "latency": self.latency.to_dict(),
        }


def percentile(samples: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default method), without numpy."""
    if not samples:
        raise ValueError("percentile of no samples")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


async def evaluate(
    interpreter: Interpreter,
    examples: Sequence[Example],
    *,
    now: datetime,
    tz: str = DEFAULT_TIMEZONE,
    timer: Callable[[], float] = time.perf_counter,
) -> EvaluationReport:
    """Parse every example in order (one at a time, so latencies do not overlap) and score."""
    results: list[ParseResult] = []
    durations: list[float] = []
    for example in examples:
        started = timer()
        results.append(await interpreter.parse(example.text, now=now, tz=tz))
        durations.append(timer() - started)
    return score(interpreter.name, examples, results, durations)


def score(
    name: str,
    examples: Sequence[Example],
    results: Sequence[ParseResult],
    durations: Sequence[float] = (),
) -> EvaluationReport:
    """Metrics for parses already made; `results[i]` answers `examples[i]`."""
    if len(examples) != len(results):
        raise ValueError("one parse result is needed per example")
    pairs = [(ex.intent, res.intent.name) for ex, res in zip(examples, results, strict=True)]
    gold = Counter(t for t, _ in pairs)
    predicted = Counter(p for _, p in pairs)
    correct = Counter(t for t, p in pairs if t == p)
    per_intent = tuple(
        (intent, PRF.from_counts(correct[intent], predicted[intent], gold[intent]))
        for intent in sorted(gold)
    )
    confused = Counter((t, p) for t, p in pairs if t != p)
    confusions = tuple(
        Confusion(t, p, n) for (t, p), n in sorted(confused.items(), key=lambda i: (-i[1], i[0]))
    )
    misclassified = tuple(
        Misclassified(ex.text, ex.intent, res.intent.name, res.intent.confidence)
        for ex, res in zip(examples, results, strict=True)
        if ex.intent != res.intent.name
    )
    return EvaluationReport(
        interpreter=name,
        examples=len(examples),
        accuracy=sum(correct.values()) / len(pairs) if pairs else 0.0,
        macro_f1=math.fsum(prf.f1 for _, prf in per_intent) / len(per_intent)
        if per_intent
        else 0.0,
        per_intent=per_intent,
        confusions=confusions,
        entities=_entity_scores(examples, results),
        latency=Latency.of(durations),
        misclassified=misclassified,
    )


def _entity_scores(
    examples: Sequence[Example], results: Sequence[ParseResult]
) -> tuple[tuple[str, PRF], ...]:
    kinds = sorted({e.entity for ex in examples for e in ex.entities})
    support: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    for example, result in zip(examples, results, strict=True):
        found = [e for e in result.entities if e.entity in kinds]
        predicted.update(e.entity for e in found)
        support.update(e.entity for e in example.entities)
        unused = list(found)
        for want in example.entities:
            hit = next((got for got in unused if _same(want, got)), None)
            if hit is not None:
                unused.remove(hit)
                correct[want.entity] += 1
    return tuple(
        (kind, PRF.from_counts(correct[kind], predicted[kind], support[kind])) for kind in kinds
    )


def _same(want: AnnotatedEntity, got: Entity) -> bool:
    if want.entity != got.entity or want.start != got.start or want.end != got.end:
        return False
    if want.entity in SPAN_ONLY_ENTITIES:
        return True
    return canonical_value(want.entity, want.value) == canonical_value(got.entity, got.value)


def canonical_value(entity: str, value: Any) -> str:
    """The comparable form of an entity value (see the module docstring)."""
    text = str(value).strip()
    if entity == "phone_number":
        try:
            number = phonenumbers.parse(text, "GB")
        except phonenumbers.NumberParseException:
            return text
        return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    if entity == "rating" and text.isdigit():
        return str(int(text))
    return text

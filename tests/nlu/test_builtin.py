"""The built-in interpreter as the flows see it: intents, entities, fallback, caching."""

from __future__ import annotations

import asyncio
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from nlu.builtin import DEFAULT_TRAINING_FILE, BuiltinInterpreter
from nlu.builtin.cache import ModelCache
from nlu.evaluate import evaluate
from nlu.training_data import load_training_data
from nlu.types import FALLBACK_INTENT, ParseResult

TEST_FILE = DEFAULT_TRAINING_FILE.parent / "test_nlu.yml"
ACCURACY_FLOOR = 0.92


def parse(interpreter: BuiltinInterpreter, text: str, now: datetime) -> ParseResult:
    return interpreter.parse_sync(text, now=now)


def entities(result: ParseResult, name: str) -> list[tuple[object, str]]:
    return [(e.value, result.text[e.start : e.end]) for e in result.entities if e.entity == name]


def test_greeting(builtin_interpreter: BuiltinInterpreter, now: datetime) -> None:
    result = parse(builtin_interpreter, "hello there", now)
    assert result.intent.name == "greet"
    assert result.intent_ranking[0] == result.intent


def test_checking_a_visit_code(builtin_interpreter: BuiltinInterpreter, now: datetime) -> None:
    result = parse(builtin_interpreter, "check code 4821", now)
    assert result.intent.name == "verify_operative"
    assert entities(result, "code") == [("4821", "4821")]
    assert entities(result, "rating") == []


def test_prefixed_badge_code_is_kept_whole(
    builtin_interpreter: BuiltinInterpreter, now: datetime
) -> None:
    result = parse(builtin_interpreter, "the man at the door says his badge is CX-4821", now)
    assert entities(result, "code") == [("CX-4821", "CX-4821")]


def test_phone_numbers_and_times_are_not_codes(
    builtin_interpreter: BuiltinInterpreter, now: datetime
) -> None:
    result = parse(builtin_interpreter, "ring me on 07700 900123 tomorrow after 1430", now)
    assert entities(result, "code") == []
    assert entities(result, "phone_number") == [("+447700900123", "07700 900123")]
    assert [e.text for e in result.entities if e.entity == "time"]


def test_deaf_resident_states_a_hearing_need(
    builtin_interpreter: BuiltinInterpreter, now: datetime
) -> None:
    result = parse(builtin_interpreter, "im deaf", now)
    assert result.intent.name == "inform_access_needs"
    assert entities(result, "access_need") == [("hearing", "deaf")]


def test_language_and_interpreter_need(
    builtin_interpreter: BuiltinInterpreter, now: datetime
) -> None:
    result = parse(builtin_interpreter, "I need a Polish interpreter please", now)
    assert entities(result, "language") == [("Polish", "Polish")]
    assert entities(result, "access_need") == [("interpreter", "interpreter")]


@pytest.mark.parametrize(
    ("text", "rating", "span"),
    [
        ("4 out of 5, he was a bit late", 4, "4"),
        ("five stars", 5, "five"),
        ("2/5 not impressed", 2, "2/5"),
    ],
)
def test_ratings(
    builtin_interpreter: BuiltinInterpreter, now: datetime, text: str, rating: int, span: str
) -> None:
    result = parse(builtin_interpreter, text, now)
    assert result.intent.name == "give_feedback"
    assert entities(result, "rating") == [(rating, span)]


def test_gibberish_falls_back_with_the_ranking_attached(
    builtin_interpreter: BuiltinInterpreter, now: datetime
) -> None:
    result = parse(builtin_interpreter, "qzxv jjkw", now)
    assert result.intent.name == FALLBACK_INTENT
    assert result.intent.confidence == builtin_interpreter.threshold
    assert result.intent_ranking[0].name == FALLBACK_INTENT
    assert len(result.intent_ranking) > 1
    assert result.intent_ranking[1].confidence < builtin_interpreter.threshold


def test_threshold_is_configurable(nlu_cache_dir: Path, now: datetime) -> None:
    strict = BuiltinInterpreter.load(cache_dir=nlu_cache_dir, threshold=1.0)
    assert strict.parse_sync("hello there", now=now).intent.name == FALLBACK_INTENT


def test_async_parse_matches_sync(builtin_interpreter: BuiltinInterpreter, now: datetime) -> None:
    text = "can we move it to friday afternoon"
    result = asyncio.run(builtin_interpreter.parse(text, now=now))
    assert result == builtin_interpreter.parse_sync(text, now=now)


def test_two_trainings_rank_identically(tmp_path: Path, now: datetime) -> None:
    first = BuiltinInterpreter.load(cache_dir=tmp_path / "a")
    second = BuiltinInterpreter.load(cache_dir=tmp_path / "b")
    assert first.model_origin == second.model_origin == "trained"
    for text in ("hi", "cant do tuesday", "he never turned up", "stop texting me"):
        assert first.parse_sync(text, now=now) == second.parse_sync(text, now=now)


def _copy_training_file(tmp_path: Path) -> Path:
    target = tmp_path / "nlu.yml"
    shutil.copyfile(DEFAULT_TRAINING_FILE, target)
    return target


def test_cache_is_reused_and_invalidated_when_the_file_changes(tmp_path: Path) -> None:
    training = _copy_training_file(tmp_path)
    cache = tmp_path / "cache"
    assert BuiltinInterpreter.load(training, cache_dir=cache).model_origin == "trained"
    assert BuiltinInterpreter.load(training, cache_dir=cache).model_origin == "cache"

    with training.open("a", encoding="utf-8") as handle:
        handle.write("\n- intent: greet\n  examples: |\n    - howdy partner\n")
    changed = BuiltinInterpreter.load(training, cache_dir=cache)
    assert changed.model_origin == "trained"
    assert BuiltinInterpreter.load(training, cache_dir=cache).model_origin == "cache"


def test_corrupt_cache_is_retrained(tmp_path: Path, now: datetime) -> None:
    training = _copy_training_file(tmp_path)
    cache = tmp_path / "cache"
    BuiltinInterpreter.load(training, cache_dir=cache)
    for entry in ModelCache(cache).directory.glob("*.pkl"):
        entry.write_bytes(b"not a pickle")
    again = BuiltinInterpreter.load(training, cache_dir=cache)
    assert again.model_origin == "trained"
    assert again.parse_sync("hello", now=now).intent.name == "greet"


def test_fast_path_scores_equal_scikit_learn(builtin_interpreter: BuiltinInterpreter) -> None:
    import numpy as np

    from nlu.builtin.features import Featuriser

    model = builtin_interpreter.model()
    featuriser = Featuriser(model.rules)
    for text in ("check code 4821", "Im deaf!!", "can u come 2moro after 3pm", "zzz"):
        doc = featuriser.prepare(text)
        assert np.allclose(model.classifier.margins(doc), model.classifier.sklearn_margins(doc))


def test_held_out_accuracy_floor(builtin_interpreter: BuiltinInterpreter, now: datetime) -> None:
    if not TEST_FILE.exists():
        pytest.skip(f"held-out set {TEST_FILE} is not in this checkout")
    examples = load_training_data(TEST_FILE).examples
    report = asyncio.run(evaluate(builtin_interpreter, examples, now=now))
    assert report.accuracy >= ACCURACY_FLOOR, report.confusions[:5]

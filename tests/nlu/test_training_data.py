"""Checks on the NLU training data (`nlu/data/nlu.yml`, Rasa 3.x YAML format).

The file trains both the built-in interpreter and the Rasa model, so it has to be right for
both: every interface intent present and well populated, no example claimed by two intents,
entity annotations well formed with canonical values, and carrier opt-out keywords kept out
of every intent but `opt_out`.
"""

from __future__ import annotations

import json
import re
import string
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from nlu.types import ACCESS_NEED_VALUES, ENTITY_TYPES, INTENTS

ROOT = Path(__file__).resolve().parents[2]
NLU_FILE = ROOT / "nlu" / "data" / "nlu.yml"

MIN_EXAMPLES = 40
#: Carrier opt-out keywords that, sent alone, must only ever train `opt_out`.
CARRIER_OPT_OUT = ("STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "REVOKE", "OPTOUT")
BLOCK_KEYS = ("intent", "synonym", "regex", "lookup")

# [text](entity) or [text]{"entity": ..., "value": ...}
ANNOTATION = re.compile(r"\[(?P<text>[^\[\]]+)\](?:\((?P<name>[^()]+)\)|(?P<json>\{[^{}]*\}))")


@cache
def _document() -> dict[str, Any]:
    with NLU_FILE.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict)
    return data


def _lines(block: dict[str, Any]) -> list[str]:
    """The list items of a block's `examples: |` scalar, the way Rasa reads them."""
    raw = block["examples"]
    assert isinstance(raw, str), f"examples of {block} must be a block scalar"
    items = []
    for line in raw.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        assert stripped.startswith("- "), f"not a list item: {line!r}"
        items.append(stripped[2:].strip())
    return items


def _blocks(kind: str) -> list[dict[str, Any]]:
    return [b for b in _document()["nlu"] if kind in b]


@cache
def _intent_examples() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for block in _blocks("intent"):
        name = block["intent"]
        assert name not in out, f"intent {name} declared twice"
        out[name] = _lines(block)
    return out


def _plain(example: str) -> str:
    """The example as the resident typed it: annotations replaced by their text."""
    return ANNOTATION.sub(lambda m: m.group("text"), example)


def _normalise(example: str) -> str:
    """Lower case, punctuation dropped, whitespace collapsed: the duplicate-detection key."""
    text = _plain(example).lower()
    text = text.translate(str.maketrans(string.punctuation, " " * len(string.punctuation)))
    return " ".join(text.split())


def _annotations(example: str) -> list[tuple[str, str, str | None]]:
    """(text, entity, value-or-None) for every annotation in an example."""
    found: list[tuple[str, str, str | None]] = []
    for match in ANNOTATION.finditer(example):
        text = match.group("text")
        if match.group("name") is not None:
            found.append((text, match.group("name"), None))
        else:
            spec = json.loads(match.group("json"))
            assert isinstance(spec, dict)
            value = spec.get("value")
            found.append((text, str(spec["entity"]), None if value is None else str(value)))
    return found


def _all_annotations() -> list[tuple[str, str, str, str | None]]:
    """(intent, text, entity, value) over the whole file."""
    return [
        (intent, text, entity, value)
        for intent, examples in _intent_examples().items()
        for example in examples
        for text, entity, value in _annotations(example)
    ]


@cache
def _synonyms() -> dict[str, str]:
    """Lower-cased synonym text -> canonical value, from `synonym:` blocks."""
    table: dict[str, str] = {}
    for block in _blocks("synonym"):
        for text in _lines(block):
            table[text.lower()] = str(block["synonym"])
    return table


def _resolved(text: str, value: str | None) -> str:
    """The value Rasa's EntitySynonymMapper would hand back for an annotation."""
    if value is not None:
        return value
    return _synonyms().get(text.lower(), text)


# --- structure --------------------------------------------------------------------------------


def test_file_is_rasa_3_nlu_yaml() -> None:
    doc = _document()
    assert doc["version"] == "3.1"
    assert set(doc) == {"version", "nlu"}
    assert isinstance(doc["nlu"], list)
    assert doc["nlu"]
    for block in doc["nlu"]:
        kinds = [k for k in BLOCK_KEYS if k in block]
        assert len(kinds) == 1, f"block needs exactly one of {BLOCK_KEYS}: {block}"
        assert set(block) == {kinds[0], "examples"}, f"unexpected keys in {block}"
        assert _lines(block), f"empty block {block}"


def test_intents_are_exactly_the_interface_intents() -> None:
    assert set(_intent_examples()) == set(INTENTS)


@pytest.mark.parametrize("intent", INTENTS)
def test_every_intent_has_enough_examples(intent: str) -> None:
    examples = _intent_examples().get(intent, [])
    assert len(examples) >= MIN_EXAMPLES, f"{intent}: {len(examples)} examples"


@pytest.mark.parametrize("intent", INTENTS)
def test_no_exact_duplicates_within_an_intent(intent: str) -> None:
    seen = [_plain(e).lower() for e in _intent_examples()[intent]]
    dupes = sorted({e for e in seen if seen.count(e) > 1})
    assert dupes == []


def test_no_example_is_claimed_by_two_intents() -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for intent, examples in _intent_examples().items():
        for example in examples:
            owners[_normalise(example)].add(intent)
    clashes = {text: sorted(intents) for text, intents in owners.items() if len(intents) > 1}
    assert clashes == {}


# --- annotations ------------------------------------------------------------------------------


def test_brackets_are_balanced_and_every_bracket_is_an_annotation() -> None:
    for intent, examples in _intent_examples().items():
        for example in examples:
            for open_, close in ("[]", "()", "{}"):
                depth = 0
                for char in example:
                    depth += (char == open_) - (char == close)
                    assert depth >= 0, f"{intent}: stray {close!r} in {example!r}"
                assert depth == 0, f"{intent}: unclosed {open_!r} in {example!r}"
            # Once annotations are removed, no markup may be left over.
            leftover = ANNOTATION.sub("", example)
            assert not set("[]{}") & set(leftover), f"{intent}: malformed {example!r}"
            assert "](" not in leftover


def test_annotations_parse_and_use_known_entities() -> None:
    annotations = _all_annotations()
    assert annotations, "expected some entity annotations"
    for intent, text, entity, _value in annotations:
        assert entity in ENTITY_TYPES, f"{intent}: unknown entity {entity!r}"
        assert entity != "time", "time comes from the rule-based resolver; do not annotate it"
        assert text == text.strip(), f"{intent}: annotation {text!r} has edge whitespace"


def test_json_annotations_only_use_rasa_keys() -> None:
    for examples in _intent_examples().values():
        for example in examples:
            for match in ANNOTATION.finditer(example):
                if match.group("json"):
                    spec = json.loads(match.group("json"))
                    assert "entity" in spec
                    assert set(spec) <= {"entity", "value", "role", "group"}


def test_access_need_values_are_canonical() -> None:
    access = [(i, t, v) for i, t, e, v in _all_annotations() if e == "access_need"]
    assert len(access) >= 40
    for intent, text, value in access:
        resolved = _resolved(text, value)
        assert resolved in ACCESS_NEED_VALUES, f"{intent}: {text!r} -> {resolved!r}"


def test_every_canonical_access_need_is_taught() -> None:
    taught = {_resolved(t, v) for _i, t, e, v in _all_annotations() if e == "access_need"}
    assert taught == set(ACCESS_NEED_VALUES)


def test_ratings_resolve_to_one_to_five() -> None:
    ratings = [(i, t, v) for i, t, e, v in _all_annotations() if e == "rating"]
    assert len(ratings) >= 15
    for intent, text, value in ratings:
        assert intent == "give_feedback"
        assert _resolved(text, value) in {"1", "2", "3", "4", "5"}, f"{text!r} -> {value!r}"


def test_code_annotations_look_like_codes() -> None:
    codes = [(i, t) for i, t, e, _v in _all_annotations() if e == "code"]
    assert len(codes) >= 15
    code_pattern = re.compile(r"^(?:\d{4,6}|[A-Za-z]{2}-\d{4,6})$")
    for intent, text in codes:
        assert intent == "verify_operative"
        assert code_pattern.match(text), text


def test_synonym_values_are_consistent() -> None:
    """No text may map to two values; annotation values and synonym blocks must agree."""
    mapping: dict[str, set[str]] = defaultdict(set)
    for block in _blocks("synonym"):
        for text in _lines(block):
            mapping[text.lower()].add(str(block["synonym"]))
    for _intent, text, _entity, value in _all_annotations():
        if value is not None and value.lower() != text.lower():
            mapping[text.lower()].add(value)
    conflicts = {text: values for text, values in mapping.items() if len(values) > 1}
    assert conflicts == {}


def test_access_need_synonym_blocks_target_canonical_values() -> None:
    entity_words = set(ACCESS_NEED_VALUES)
    synonym_targets = {str(b["synonym"]) for b in _blocks("synonym")}
    # Every canonical value except the self-describing ones has free wording mapped onto it.
    assert {"wheelchair", "hearing", "sight", "pet", "mobility"} <= synonym_targets
    lowercase_targets = {t for t in synonym_targets if t.islower() and not t.isdigit()}
    assert lowercase_targets <= entity_words


# --- regex and lookup -------------------------------------------------------------------------


def test_regexes_compile_and_match_what_they_are_for() -> None:
    patterns = {b["regex"]: [re.compile(p) for p in _lines(b)] for b in _blocks("regex")}
    assert set(patterns) <= set(ENTITY_TYPES)

    def hits(name: str, text: str) -> bool:
        return any(p.search(text) for p in patterns[name])

    assert hits("code", "check code 4821")
    assert hits("code", "is CX-4821 yours")
    assert hits("code", "badge 55102?")
    assert not hits("code", "call me on 07700900123")
    assert hits("rating", "4 out of 5")
    assert hits("rating", "5 stars")
    assert hits("rating", "4/5")
    assert not hits("rating", "6 out of 5")


def test_lookup_tables_are_named_after_entities() -> None:
    lookups = {b["lookup"]: _lines(b) for b in _blocks("lookup")}
    assert set(lookups) == {"language", "access_need"}
    assert {"Polish", "Urdu", "Welsh"} <= set(lookups["language"])


# --- carrier keywords -------------------------------------------------------------------------


def test_bare_carrier_keywords_only_train_opt_out() -> None:
    found: dict[str, set[str]] = defaultdict(set)
    for intent, examples in _intent_examples().items():
        for example in examples:
            bare = _normalise(example).upper()
            if bare in CARRIER_OPT_OUT:
                found[bare].add(intent)
    assert set(found) == set(CARRIER_OPT_OUT), "each carrier keyword should teach opt_out"
    assert all(intents == {"opt_out"} for intents in found.values()), dict(found)


def test_bare_cancel_is_not_taught() -> None:
    """Alone, CANCEL unsubscribes on SMS but means the visit on Telegram: the flows decide."""
    for intent, examples in _intent_examples().items():
        for example in examples:
            assert _normalise(example) != "cancel", intent


def test_opt_in_keywords_train_opt_in() -> None:
    bare = {_normalise(e) for e in _intent_examples()["opt_in"]}
    assert {"start", "unstop"} <= bare


def test_cancel_my_visit_is_not_an_opt_out() -> None:
    examples = _intent_examples()
    cancel_visit = {_normalise(e) for e in examples["cancel_visit"]}
    opt_out = {_normalise(e) for e in examples["opt_out"]}
    assert "cancel my visit" in cancel_visit
    assert {"stop", "unsubscribe"} <= opt_out
    assert all("visit" not in e and "appointment" not in e for e in opt_out)

"""Reading Rasa 3 NLU training and test files (YAML, `version: "3.1"`).

One file feeds both interpreters: Rasa trains on it directly, and the built-in
interpreter and the evaluator read it through this module. Keeping the parser faithful to
Rasa's own rules (the same three annotation forms, synonyms learnt from annotated values)
means a file that trains Rasa trains the built-in model the same way, and an evaluation
scores both against the same gold spans.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# `[text](entity)`, `[text](entity:value)`, `[text]{"entity": ...}` and
# `[text][{"entity": ...}, {"entity": ...}]` (several labels on one span), as Rasa 3 reads them.
_ANNOTATION = re.compile(
    r"\[(?P<text>[^\]]+?)\]"
    r"(?:\((?P<entity>[^:)]+?)(?::(?P<value>[^)]+))?\)"
    r"|\{(?P<dict>[^}]+?)\}"
    r"|\[(?P<dicts>.*?)\])"
)
_ONE_DICT = re.compile(r"\{(?P<dict>[^}]+?)\}")


class TrainingDataError(ValueError):
    """The file is missing, is not YAML, or is not in Rasa's NLU shape."""


@dataclass(frozen=True, slots=True)
class AnnotatedEntity:
    """A gold entity: character span in the plain text plus the annotated value."""

    entity: str
    value: str
    start: int
    end: int
    text: str
    role: str | None = None
    group: str | None = None


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    intent: str
    entities: tuple[AnnotatedEntity, ...] = ()


@dataclass(frozen=True, slots=True)
class RegexFeature:
    name: str
    pattern: str


@dataclass(frozen=True, slots=True)
class LookupTable:
    name: str
    elements: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TrainingData:
    examples: tuple[Example, ...]
    #: lower-cased surface form -> canonical value (explicit `synonym:` blocks plus annotated
    #: values that differ from their text, as Rasa's EntitySynonymMapper learns them).
    synonyms: Mapping[str, str]
    regexes: tuple[RegexFeature, ...]
    lookups: tuple[LookupTable, ...]

    @property
    def intents(self) -> tuple[str, ...]:
        """Intents in first-seen order, so anything derived from them is deterministic."""
        return tuple(dict.fromkeys(e.intent for e in self.examples))

    def lookup(self, name: str) -> tuple[str, ...]:
        return tuple(x for t in self.lookups if t.name == name for x in t.elements)

    def regexes_for(self, name: str) -> tuple[str, ...]:
        return tuple(r.pattern for r in self.regexes if r.name == name)


def parse_annotated(example: str) -> tuple[str, tuple[AnnotatedEntity, ...]]:
    """Strip annotations from one example, returning plain text and spans within it."""
    entities: list[AnnotatedEntity] = []
    plain: list[str] = []
    last = 0
    offset = 0
    for match in _ANNOTATION.finditer(example):
        plain.append(example[last : match.start()])
        last = match.end()
        text = match.group("text")
        start = match.start() - offset
        end = start + len(text)
        offset += len(match.group(0)) - len(text)
        plain.append(text)
        if match.group("entity"):
            value = match.group("value") or text
            entities.append(AnnotatedEntity(match.group("entity").strip(), value, start, end, text))
        elif match.group("dict"):
            entities.append(_from_dict(match.group("dict"), text, start, end))
        else:
            for inner in _ONE_DICT.finditer(match.group("dicts") or ""):
                entities.append(_from_dict(inner.group("dict"), text, start, end))
    plain.append(example[last:])
    return "".join(plain), tuple(entities)


def _from_dict(body: str, text: str, start: int, end: int) -> AnnotatedEntity:
    try:
        data = json.loads("{" + body + "}")
    except json.JSONDecodeError as exc:
        raise TrainingDataError(f"bad entity annotation {{{body}}}: {exc.msg}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("entity"), str):
        raise TrainingDataError(f"entity annotation {{{body}}} has no 'entity' name")
    value = data.get("value", text)
    role, group = data.get("role"), data.get("group")
    return AnnotatedEntity(
        entity=data["entity"],
        value=str(value),
        start=start,
        end=end,
        text=text,
        role=str(role) if role is not None else None,
        group=str(group) if group is not None else None,
    )


def _items(block: Mapping[str, Any], source: str) -> list[str]:
    """The `examples` of a block: Rasa's `|` bullet string, or a list of `text:` mappings."""
    raw = block.get("examples")
    if raw is None:
        return []
    if isinstance(raw, str):
        lines = (line.strip() for line in raw.splitlines())
        return [line[1:].strip() for line in lines if line.startswith("-") and line[1:].strip()]
    if isinstance(raw, list):
        out: list[str] = []
        for item in raw:
            if isinstance(item, Mapping) and isinstance(item.get("text"), str):
                out.append(item["text"].strip())
            elif isinstance(item, str):
                out.append(item.strip())
            else:
                raise TrainingDataError(f"{source}: unreadable example {item!r}")
        return out
    raise TrainingDataError(f"{source}: 'examples' must be a string or a list")


def parse_training_data(content: str, *, source: str = "<string>") -> TrainingData:
    """Parse the text of a Rasa NLU YAML file; raise TrainingDataError on anything malformed."""
    try:
        doc = yaml.safe_load(content)
    except yaml.YAMLError as exc:
        raise TrainingDataError(f"{source}: not valid YAML ({exc.__class__.__name__})") from exc
    if not isinstance(doc, Mapping) or not isinstance(doc.get("nlu", []), list):
        raise TrainingDataError(f"{source}: expected a mapping with an 'nlu' list")
    examples: list[Example] = []
    synonyms: dict[str, str] = {}
    regexes: list[RegexFeature] = []
    lookups: list[LookupTable] = []
    for block in doc.get("nlu") or []:
        if not isinstance(block, Mapping):
            raise TrainingDataError(f"{source}: every 'nlu' entry must be a mapping")
        if "intent" in block:
            intent = str(block["intent"])
            for raw in _items(block, source):
                text, entities = parse_annotated(raw)
                examples.append(Example(text=text, intent=intent, entities=entities))
        elif "synonym" in block:
            for raw in _items(block, source):
                synonyms[raw.lower()] = str(block["synonym"])
        elif "regex" in block:
            for raw in _items(block, source):
                _check_regex(raw, source)
                regexes.append(RegexFeature(str(block["regex"]), raw))
        elif "lookup" in block:
            lookups.append(LookupTable(str(block["lookup"]), tuple(_items(block, source))))
        else:
            raise TrainingDataError(f"{source}: unknown nlu entry with keys {sorted(block)}")
    for example in examples:
        for ent in example.entities:
            if ent.value != ent.text:
                synonyms.setdefault(ent.text.lower(), ent.value)
    return TrainingData(tuple(examples), synonyms, tuple(regexes), tuple(lookups))


def _check_regex(pattern: str, source: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise TrainingDataError(f"{source}: bad regex {pattern!r}: {exc}") from exc


def load_training_data(path: Path | str) -> TrainingData:
    """Read one Rasa NLU YAML file from disk."""
    file = Path(path)
    try:
        content = file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise TrainingDataError(f"{file}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise TrainingDataError(f"{file}: cannot read ({exc.__class__.__name__})") from exc
    return parse_training_data(content, source=str(file))

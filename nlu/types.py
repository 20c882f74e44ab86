"""The parse result every interpreter returns, in Rasa's `/model/parse` shape.

Frozen value objects so a parse can be cached, logged and compared safely; `to_dict`
and `from_dict` are the only places that know the wire shape, so the Rasa client and
the built-in interpreter cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FALLBACK_INTENT = "nlu_fallback"

#: The intent names are part of the interface (DESIGN.md, "Intents").
INTENTS: tuple[str, ...] = (
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "book_visit",
    "rebook_visit",
    "cancel_visit",
    "inform_time",
    "inform_access_needs",
    "ask_appointment",
    "verify_operative",
    "give_feedback",
    "make_complaint",
    "ask_code_of_conduct",
    "request_human",
    "help",
    "opt_out",
    "opt_in",
    "report_no_show",
    "out_of_scope",
)

ENTITY_TYPES: tuple[str, ...] = (
    "time",
    "code",
    "rating",
    "access_need",
    "language",
    "phone_number",
)

ACCESS_NEED_VALUES: tuple[str, ...] = (
    "wheelchair",
    "mobility",
    "hearing",
    "sight",
    "interpreter",
    "language",
    "pet",
    "call_ahead",
    "carer",
    "mental_health",
    "sleep_hours",
    "children",
    "key_safe",
    "other",
)


@dataclass(frozen=True, slots=True)
class IntentScore:
    name: str
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "confidence": round(float(self.confidence), 6)}


@dataclass(frozen=True, slots=True)
class Entity:
    """One extracted entity. `value` is a str, an int (rating) or a Duckling-like dict (time)."""

    entity: str
    value: Any
    start: int
    end: int
    extractor: str
    confidence: float = 1.0
    text: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "value": self.value,
            "start": self.start,
            "end": self.end,
            "extractor": self.extractor,
            "confidence": round(float(self.confidence), 6),
        }


@dataclass(frozen=True, slots=True)
class ParseResult:
    text: str
    intent: IntentScore
    intent_ranking: tuple[IntentScore, ...] = ()
    entities: tuple[Entity, ...] = field(default=())

    def entity_values(self, name: str) -> list[Any]:
        return [e.value for e in self.entities if e.entity == name]

    def first(self, name: str) -> Any | None:
        values = self.entity_values(name)
        return values[0] if values else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "intent": self.intent.to_dict(),
            "intent_ranking": [i.to_dict() for i in self.intent_ranking],
            "entities": [e.to_dict() for e in self.entities],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ParseResult:
        """Build from Rasa's JSON; tolerant of missing optional members, strict on intent."""
        raw_intent = data.get("intent") or {}
        name = raw_intent.get("name") or FALLBACK_INTENT
        intent = IntentScore(str(name), float(raw_intent.get("confidence") or 0.0))
        ranking = tuple(
            IntentScore(str(r.get("name")), float(r.get("confidence") or 0.0))
            for r in data.get("intent_ranking") or []
            if r.get("name")
        )
        entities = tuple(
            Entity(
                entity=str(e["entity"]),
                value=e.get("value"),
                start=int(e.get("start", 0)),
                end=int(e.get("end", 0)),
                extractor=str(e.get("extractor") or "unknown"),
                confidence=float(e.get("confidence_entity", e.get("confidence", 1.0)) or 1.0),
                text=str(data.get("text", ""))[int(e.get("start", 0)) : int(e.get("end", 0))],
            )
            for e in data.get("entities") or []
            if "entity" in e
        )
        return cls(
            text=str(data.get("text", "")), intent=intent, intent_ranking=ranking, entities=entities
        )

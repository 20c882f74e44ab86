"""The trained built-in model: intent classifier plus the entity rules, as one picklable unit.

`MODEL_VERSION` is part of the cache key. Bump it whenever normalisation, features,
hyper-parameters or entity rules change, so a stale cached model is never loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

from nlu.builtin.classifier import ClassifierConfig, IntentClassifier, train_classifier
from nlu.builtin.entities import EntityRules
from nlu.builtin.features import Featuriser
from nlu.training_data import TrainingData

MODEL_VERSION = "builtin-2"


@dataclass(frozen=True, slots=True)
class BuiltinModel:
    version: str
    training_sha256: str
    classifier: IntentClassifier
    rules: EntityRules


def train_model(
    data: TrainingData, *, training_sha256: str, config: ClassifierConfig | None = None
) -> BuiltinModel:
    """Fit the classifier and gather the entity rules from one training file."""
    if not data.examples:
        raise ValueError("training data has no intent examples")
    rules = EntityRules.from_training_data(data)
    featuriser = Featuriser(rules)
    classifier = train_classifier(
        [featuriser.prepare(e.text) for e in data.examples],
        [e.intent for e in data.examples],
        config or ClassifierConfig(),
    )
    return BuiltinModel(
        version=MODEL_VERSION,
        training_sha256=training_sha256,
        classifier=classifier,
        rules=rules,
    )

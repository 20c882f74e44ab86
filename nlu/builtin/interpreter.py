"""The embedded default interpreter: no server, trained from nlu.yml on first use.

It answers in Rasa's parse shape, including Rasa's FallbackClassifier behaviour (below
the threshold the intent is `nlu_fallback`, placed first in the ranking with the
threshold as its confidence), so flows cannot tell which interpreter answered.
"""

from __future__ import annotations

import contextlib
import threading
from datetime import datetime
from pathlib import Path

from nlu.builtin.cache import DEFAULT_CACHE_DIR, ModelCache, cache_key, training_sha256
from nlu.builtin.entities import EntityExtractor, TimeFinder
from nlu.builtin.features import Featuriser
from nlu.builtin.model import BuiltinModel, train_model
from nlu.interpreter import DEFAULT_TIMEZONE
from nlu.timeexpr import find_times
from nlu.training_data import TrainingDataError, parse_training_data
from nlu.types import FALLBACK_INTENT, Entity, IntentScore, ParseResult

DEFAULT_TRAINING_FILE = Path(__file__).resolve().parent.parent / "data" / "nlu.yml"
DEFAULT_THRESHOLD = 0.4
#: Rasa's default `ranking_length`.
RANKING_LENGTH = 10


class BuiltinInterpreter:
    """`Interpreter` backed by a local scikit-learn model and rule-based entities."""

    name = "builtin"

    def __init__(
        self,
        training_file: Path | str = DEFAULT_TRAINING_FILE,
        *,
        cache_dir: Path | str = DEFAULT_CACHE_DIR,
        threshold: float = DEFAULT_THRESHOLD,
        time_finder: TimeFinder | None = None,
    ) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be between 0 and 1, got {threshold!r}")
        self.training_file = Path(training_file)
        self.cache = ModelCache(Path(cache_dir))
        self.threshold = threshold
        self._time_finder = time_finder
        self._lock = threading.Lock()
        self._model: BuiltinModel | None = None
        self._extractor: EntityExtractor | None = None
        self._featuriser: Featuriser | None = None
        #: "cache" or "trained" once the model is ready; lets callers and tests see reuse.
        self.model_origin: str | None = None

    @classmethod
    def load(
        cls,
        training_file: Path | str = DEFAULT_TRAINING_FILE,
        *,
        cache_dir: Path | str = DEFAULT_CACHE_DIR,
        threshold: float = DEFAULT_THRESHOLD,
        time_finder: TimeFinder | None = None,
    ) -> BuiltinInterpreter:
        """Build and make ready now (from the cache or by training); raises TrainingDataError."""
        interpreter = cls(
            training_file, cache_dir=cache_dir, threshold=threshold, time_finder=time_finder
        )
        interpreter.model()
        return interpreter

    def model(self) -> BuiltinModel:
        """The model, loading or training it on first call."""
        with self._lock:
            if self._model is None:
                self._model = self._load_or_train()
                finder = self._time_finder or find_times
                self._extractor = EntityExtractor(self._model.rules, finder)
                self._featuriser = Featuriser(self._model.rules)
            return self._model

    def _load_or_train(self) -> BuiltinModel:
        try:
            content = self.training_file.read_bytes()
        except OSError as exc:
            raise TrainingDataError(f"{self.training_file}: cannot read training data") from exc
        digest = training_sha256(content)
        key = cache_key(digest)
        cached = self.cache.load(key, training_digest=digest)
        if cached is not None:
            self.model_origin = "cache"
            return cached
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TrainingDataError(f"{self.training_file}: not UTF-8 text") from exc
        data = parse_training_data(text, source=str(self.training_file))
        model = train_model(data, training_sha256=digest)
        # A read-only disk costs a retrain at the next start, never a failed parse.
        with contextlib.suppress(OSError):
            self.cache.store(key, model)
        self.model_origin = "trained"
        return model

    def parse_sync(self, text: str, *, now: datetime, tz: str = DEFAULT_TIMEZONE) -> ParseResult:
        model = self.model()
        extractor, featuriser = self._extractor, self._featuriser
        assert extractor is not None
        assert featuriser is not None
        if not text.strip():
            return ParseResult(text=text, intent=IntentScore(FALLBACK_INTENT, 0.0))
        probabilities = model.classifier.probabilities(featuriser.prepare(text))
        order = sorted(range(len(probabilities)), key=lambda i: (-float(probabilities[i]), i))[
            :RANKING_LENGTH
        ]
        ranking = [IntentScore(model.classifier.labels[i], float(probabilities[i])) for i in order]
        intent = ranking[0]
        if intent.confidence < self.threshold:
            intent = IntentScore(FALLBACK_INTENT, self.threshold)
            ranking.insert(0, intent)
        entities: list[Entity] = extractor.extract(text, now=now, tz=tz)
        # Rating context comes from the classifier's best guess even when it is unsure.
        ratings = extractor.ratings(text, model.classifier.labels[order[0]], entities)
        if ratings:
            entities = [
                e
                for e in entities
                if e.entity != "time"
                or not any(r.start < e.end and e.start < r.end for r in ratings)
            ]
            entities += ratings
        entities.sort(key=lambda e: (e.start, e.end, e.entity))
        return ParseResult(
            text=text, intent=intent, intent_ranking=tuple(ranking), entities=tuple(entities)
        )

    async def parse(self, text: str, *, now: datetime, tz: str = DEFAULT_TIMEZONE) -> ParseResult:
        return self.parse_sync(text, now=now, tz=tz)

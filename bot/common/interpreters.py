"""Choose the interpreter the settings ask for."""

from __future__ import annotations

from bot.settings import Settings
from nlu.interpreter import Interpreter
from nlu.keyword import KeywordInterpreter


def interpreter_from_settings(settings: Settings) -> Interpreter:
    if settings.nlu == "keyword":
        return KeywordInterpreter()
    from nlu.factory import build_interpreter

    return build_interpreter(
        settings.nlu,
        rasa_url=settings.rasa_url,
        rasa_token=settings.rasa_token.get_secret_value() if settings.rasa_token else None,
        timeout=settings.rasa_timeout_seconds,
        cache_dir=settings.nlu_cache_dir,
        threshold=settings.nlu_threshold,
    )

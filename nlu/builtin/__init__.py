"""The built-in interpreter: scikit-learn intents plus rule-based entities, no server."""

from nlu.builtin.interpreter import DEFAULT_THRESHOLD, DEFAULT_TRAINING_FILE, BuiltinInterpreter

__all__ = ["DEFAULT_THRESHOLD", "DEFAULT_TRAINING_FILE", "BuiltinInterpreter"]

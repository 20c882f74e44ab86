"""Build the interpreter the deployment asks for (DOORSTEP_NLU) from plain values.

Takes values rather than the settings object so `nlu/` stays free of `bot/`; the service's
settings layer unpacks its fields into this call. Mistakes in configuration are reported here,
at start-up, naming the variable to fix, instead of as a failing first message.
"""

from __future__ import annotations

from pathlib import Path

from nlu.builtin import DEFAULT_TRAINING_FILE, BuiltinInterpreter
from nlu.interpreter import Interpreter
from nlu.rasa_client import RasaInterpreter

KINDS: tuple[str, ...] = ("builtin", "rasa")


def build_interpreter(
    kind: str,
    *,
    rasa_url: str | None,
    rasa_token: str | None,
    timeout: float,
    cache_dir: Path,
    training_file: Path | None = None,
    threshold: float = 0.4,
) -> Interpreter:
    """`builtin`: the local model. `rasa`: the Rasa server, falling back to the local model.

    The built-in interpreter is loaded (trained or read from `cache_dir`) even for `rasa`, so
    the fall-back is ready before Rasa first fails rather than adding a training pause to the
    message that found Rasa down.
    """
    choice = kind.strip().lower()
    if choice not in KINDS:
        raise ValueError(
            f"unknown NLU interpreter {kind!r}: set DOORSTEP_NLU to one of {', '.join(KINDS)}"
        )
    url = (rasa_url or "").strip()
    if choice == "rasa" and not url:
        raise ValueError(
            "DOORSTEP_NLU=rasa needs the Rasa server's address in DOORSTEP_RASA_URL"
            " (e.g. http://127.0.0.1:5005)"
        )
    if choice == "rasa" and not url.startswith(("http://", "https://")):
        raise ValueError(f"DOORSTEP_RASA_URL must be an http(s) URL, got {rasa_url!r}")
    builtin = BuiltinInterpreter.load(
        training_file or DEFAULT_TRAINING_FILE, cache_dir=cache_dir, threshold=threshold
    )
    if choice == "builtin":
        return builtin
    return RasaInterpreter(url, token=rasa_token, timeout=timeout, fallback=builtin)

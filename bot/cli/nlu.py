"""`doorstep nlu ...`: parse messages and evaluate interpreters from the command line.

The CLI is an edge of the system, so it is the one place here that reads the wall clock
(`_wall_clock`) and the environment. Every mistake a user can make (a missing file, bad
YAML, an unreadable --now) ends in one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from bot.common.interpreters import interpreter_from_settings
from bot.settings import SettingsError, load_settings
from nlu.evaluate import EvaluationReport, evaluate
from nlu.interpreter import DEFAULT_TIMEZONE, Interpreter
from nlu.training_data import TrainingDataError, load_training_data

app = typer.Typer(
    help="Understand resident messages: parse text, evaluate an interpreter on a test file.",
    no_args_is_help=True,
    add_completion=False,
)

#: Evaluation resolves times against a fixed moment so runs are comparable.
EVALUATION_NOW = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
USAGE_ERROR = 2
INTERPRETERS = ("builtin", "rasa", "keyword")


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(USAGE_ERROR)


def _interpreter_for(kind: str | None) -> Interpreter:
    """Build the interpreter named on the command line, configured like the service
    (the same settings class, so `DOORSTEP_RASA_URL` and friends mean the same here)."""
    overrides: dict[str, object] = {"nlu": kind} if kind else {}
    try:
        settings = load_settings(**overrides)
    except SettingsError as exc:
        raise _fail(" ".join(str(exc).split())) from None
    return interpreter_from_settings(settings)


def _load_interpreter(kind: str | None) -> Interpreter:
    if kind is not None and kind not in INTERPRETERS:
        raise _fail(f"unknown interpreter {kind!r}; choose one of {', '.join(INTERPRETERS)}")
    try:
        return _interpreter_for(kind)
    except TrainingDataError as exc:
        raise _fail(f"cannot train the built-in interpreter: {exc}") from None
    except ValueError as exc:
        raise _fail(str(exc)) from None


def _parse_now(raw: str | None, tz: str) -> datetime:
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail(f"unknown time zone {tz!r}") from None
    if raw is None:
        return _wall_clock()
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise _fail(f"--now must be an ISO 8601 date-time, got {raw!r}") from None
    # A time without an offset is read as local time in --tz, as a resident would mean it.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


async def _close(engine: Interpreter) -> None:
    """Release the Rasa client's connections; the built-in interpreter has none."""
    close = getattr(engine, "aclose", None)
    if close is not None:
        await close()


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)


InterpreterOption = Annotated[
    str | None,
    typer.Option(
        "--interpreter", "-i", help="builtin or rasa (default: $DOORSTEP_NLU or builtin)."
    ),
]


@app.command()
def parse(
    text: Annotated[str | None, typer.Argument(help="The message to understand.")] = None,
    now: Annotated[
        str | None, typer.Option(help="When the message was written (ISO 8601); default: now.")
    ] = None,
    tz: Annotated[str, typer.Option(help="Time zone for resolving times.")] = DEFAULT_TIMEZONE,
    interpreter: InterpreterOption = None,
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help="Read one message per line from stdin.")
    ] = False,
) -> None:
    """Print the parse of TEXT as one JSON object in Rasa's shape."""
    if jsonl == (text is not None):
        raise _fail("give either TEXT or --jsonl (messages on stdin), not both or neither")
    moment = _parse_now(now, tz)
    engine = _load_interpreter(interpreter)

    async def run() -> None:
        if text is not None:
            typer.echo(_dumps((await engine.parse(text, now=moment, tz=tz)).to_dict()))
            return
        for line in sys.stdin:
            message = line.rstrip("\r\n")
            typer.echo(_dumps((await engine.parse(message, now=moment, tz=tz)).to_dict()))

    async def run_and_close() -> None:
        try:
            await run()
        finally:
            await _close(engine)

    asyncio.run(run_and_close())


@app.command("evaluate")
def evaluate_command(
    file: Annotated[Path, typer.Argument(help="A Rasa NLU YAML test file.")],
    interpreter: InterpreterOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    now: Annotated[
        str | None,
        typer.Option(help="Reference time for time entities (ISO 8601); default: a fixed date."),
    ] = None,
    tz: Annotated[str, typer.Option(help="Time zone for resolving times.")] = DEFAULT_TIMEZONE,
) -> None:
    """Score an interpreter on FILE: accuracy, macro F1, per intent, confusions, entities."""
    try:
        examples = load_training_data(file).examples
    except TrainingDataError as exc:
        raise _fail(str(exc)) from None
    if not examples:
        raise _fail(f"{file}: no intent examples to evaluate")
    moment = EVALUATION_NOW if now is None else _parse_now(now, tz)
    engine = _load_interpreter(interpreter)

    async def run() -> EvaluationReport:
        try:
            return await evaluate(engine, examples, now=moment, tz=tz)
        finally:
            await _close(engine)

    report = asyncio.run(run())
    typer.echo(_dumps(report.to_dict()) if as_json else render_report(report))


def render_report(report: EvaluationReport, *, confusions: int = 10) -> str:
    """A plain-text table for people; `--json` is the machine form."""
    lines = [
        f"interpreter: {report.interpreter}    examples: {report.examples}",
        f"intent accuracy: {report.accuracy:.3f}    macro F1: {report.macro_f1:.3f}",
        f"parse latency: p50 {report.latency.p50 * 1000:.2f} ms, "
        f"p99 {report.latency.p99 * 1000:.2f} ms",
        "",
        f"{'intent':<22} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>7}",
    ]
    for name, prf in report.per_intent:
        lines.append(
            f"{name:<22} {prf.precision:>9.3f} {prf.recall:>7.3f} {prf.f1:>6.3f} {prf.support:>7}"
        )
    if report.confusions:
        lines += ["", "most confused (true -> predicted):"]
        lines += [f"  {c.true} -> {c.predicted}: {c.count}" for c in report.confusions[:confusions]]
    if report.entities:
        lines += ["", f"{'entity':<22} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>7}"]
        for name, prf in report.entities:
            lines.append(
                f"{name:<22} {prf.precision:>9.3f} {prf.recall:>7.3f} {prf.f1:>6.3f} "
                f"{prf.support:>7}"
            )
    return "\n".join(lines)


@app.command("train-rasa")
def train_rasa(
    rasa: Annotated[
        str | None,
        typer.Option(
            help="Rasa 3.6 executable (default: $DOORSTEP_RASA_BIN, else `rasa` on PATH)."
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Directory for the model archive.")] = Path(
        "var/rasa/models"
    ),
    force: Annotated[bool, typer.Option(help="Retrain even if this data has a model.")] = False,
) -> None:
    """Train a Rasa NLU model from nlu/data/nlu.yml and nlu/rasa/; print the model's path."""
    from nlu.rasa_train import RasaTrainingError, train_rasa_model

    typer.echo("training the Rasa NLU model (minutes, unless the data is unchanged)...", err=True)
    try:
        model = train_rasa_model(rasa_bin=rasa, out_dir=out, force=force)
    except RasaTrainingError as exc:
        raise _fail(str(exc)) from None
    if model.reused:
        typer.echo("unchanged training data: reusing the existing model", err=True)
    typer.echo(str(model.path))

"""NLU benchmark: Doorstep's own parts beside their peers, in one table.

    .venv/bin/python benchmarks/nlu.py [--rasa-url URL] [--test-file FILE] [--eval-dir DIR]

- Intents on the held-out set (nlu/data/test_nlu.yml): the built-in interpreter vs a
  Rasa server (when one answers at --rasa-url / $DOORSTEP_RASA_URL): accuracy, macro F1,
  parse latency p50/p99 as the caller of `parse` sees it (one message at a time, after
  one warm-up parse, so training and connection set-up are not counted).
- Time expressions: Doorstep's resolver vs plain dateparser on the Duckling corpora
  (the day/hour/minute subsets residents use, and all cases) and on the UK SMS-style set.

A benchmark, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from nlu import timeeval  # noqa: E402
from nlu.builtin import DEFAULT_TRAINING_FILE, BuiltinInterpreter  # noqa: E402
from nlu.evaluate import EvaluationReport, evaluate  # noqa: E402
from nlu.interpreter import Interpreter  # noqa: E402
from nlu.rasa_client import RasaInterpreter  # noqa: E402
from nlu.timeexpr import DUCKLING, UK, find_times  # noqa: E402
from nlu.training_data import Example, load_training_data  # noqa: E402

NOW = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
DEFAULT_TEST_FILE = ROOT / "nlu" / "data" / "test_nlu.yml"
DEFAULT_EVAL_DIR = ROOT.parent / "shared" / "eval"


@dataclass(frozen=True)
class Row:
    measure: str
    n: int
    ours: str
    peer: str


async def _nlu_run(interpreter: Interpreter, examples: list[Example]) -> EvaluationReport:
    await interpreter.parse("hello", now=NOW)  # warm-up: model load, connection pool
    return await evaluate(interpreter, examples, now=NOW)


def _rasa_reachable(url: str, token: str | None) -> bool:
    try:
        params = {"token": token} if token else None
        return httpx.get(url.rstrip("/") + "/status", params=params, timeout=3.0).status_code < 500
    except httpx.HTTPError:
        return False


def nlu_rows(test_file: Path, rasa_url: str | None, cache_dir: Path) -> tuple[list[Row], list[str]]:
    examples = list(load_training_data(test_file).examples)
    builtin = BuiltinInterpreter.load(DEFAULT_TRAINING_FILE, cache_dir=cache_dir)
    ours = asyncio.run(_nlu_run(builtin, examples))
    peer: EvaluationReport | None = None
    notes: list[str] = []
    token = os.environ.get("DOORSTEP_RASA_TOKEN")
    if rasa_url and _rasa_reachable(rasa_url, token):
        rasa = RasaInterpreter(rasa_url, token=token, fallback=builtin, timeout=10.0)

        async def run_rasa() -> EvaluationReport:
            try:
                return await _nlu_run(rasa, examples)
            finally:
                await rasa.aclose()

        peer = asyncio.run(run_rasa())
        if rasa.fallback_answers:
            notes.append(f"rasa: {rasa.fallback_answers} answers came from the built-in fall-back")
    else:
        notes.append(f"rasa: not reachable at {rasa_url or '(no --rasa-url given)'}")

    def cell(report: EvaluationReport | None, value: str) -> str:
        return "-" if report is None else value

    n = len(examples)
    name = test_file.name
    rows = [
        Row(
            f"intent accuracy ({name})",
            n,
            f"{ours.accuracy:.3f}",
            cell(peer, f"{peer.accuracy:.3f}" if peer else ""),
        ),
        Row(
            f"intent macro F1 ({name})",
            n,
            f"{ours.macro_f1:.3f}",
            cell(peer, f"{peer.macro_f1:.3f}" if peer else ""),
        ),
        Row(
            "parse latency p50 (ms)",
            n,
            f"{ours.latency.p50 * 1000:.2f}",
            cell(peer, f"{peer.latency.p50 * 1000:.2f}" if peer else ""),
        ),
        Row(
            "parse latency p99 (ms)",
            n,
            f"{ours.latency.p99 * 1000:.2f}",
            cell(peer, f"{peer.latency.p99 * 1000:.2f}" if peer else ""),
        ),
    ]
    for kind, prf in ours.entities:
        other = dict(peer.entities).get(kind) if peer else None
        rows.append(
            Row(
                f"entity F1: {kind}",
                prf.support,
                f"{prf.f1:.3f}",
                "-" if other is None else f"{other.f1:.3f}",
            )
        )
    return rows, notes


def _all_accuracy(report: timeeval.Report) -> tuple[int, int]:
    return (
        sum(ok for ok, _ in report.counts.values()),
        sum(n for _, n in report.counts.values()),
    )


def time_rows(eval_dir: Path) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    notes: list[str] = []
    for file_name, conventions in (
        ("duckling_en_time.jsonl", DUCKLING),
        ("duckling_en_gb_time.jsonl", UK),
    ):
        path = eval_dir / file_name
        if not path.exists():
            notes.append(f"{path}: not found, skipped")
            continue
        cases = timeeval.load_cases(path)
        ours = timeeval.evaluate(
            cases, timeeval.doorstep_resolver(conventions), now=timeeval.DUCKLING_NOW
        )
        peer = timeeval.evaluate(cases, timeeval.dateparser_resolver, now=timeeval.DUCKLING_NOW)
        _, n = ours.target
        rows.append(
            Row(
                f"time: {file_name} day/hour/minute",
                n,
                f"{ours.target_accuracy:.3f}",
                f"{peer.target_accuracy:.3f}",
            )
        )
        (ok_ours, n_all), (ok_peer, _) = _all_accuracy(ours), _all_accuracy(peer)
        rows.append(
            Row(
                f"time: {file_name} all cases",
                n_all,
                f"{ok_ours / n_all:.3f}",
                f"{ok_peer / n_all:.3f}",
            )
        )
    uk_cases = timeeval.load_uk_cases(timeeval.UK_SET)
    uk_ours = timeeval.evaluate_uk(uk_cases, lambda text, now: find_times(text, now=now))
    uk_peer = timeeval.evaluate_uk(uk_cases, timeeval.dateparser_resolver)
    rows.append(
        Row(
            f"time: {timeeval.UK_SET.name}",
            uk_ours.total,
            f"{uk_ours.accuracy:.3f}",
            f"{uk_peer.accuracy:.3f}",
        )
    )
    return rows, notes


def render(nlu: list[Row], times: list[Row], notes: list[str]) -> str:
    width = max(len(r.measure) for r in nlu + times) + 2
    header = f"{'measure':<{width}}{'n':>6}{'doorstep':>11}{'peer':>11}  peer"
    lines = [header, "-" * len(header)]
    lines += [f"{r.measure:<{width}}{r.n:>6}{r.ours:>11}{r.peer:>11}  rasa" for r in nlu]
    lines += [f"{r.measure:<{width}}{r.n:>6}{r.ours:>11}{r.peer:>11}  dateparser" for r in times]
    lines += [f"note: {note}" for note in notes]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rasa-url", default=os.environ.get("DOORSTEP_RASA_URL"))
    parser.add_argument("--test-file", type=Path, default=DEFAULT_TEST_FILE)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--cache-dir", type=Path, default=ROOT / "var" / "cache" / "nlu")
    args = parser.parse_args(argv)
    nlu, nlu_notes = nlu_rows(args.test_file, args.rasa_url, args.cache_dir)
    times, time_notes = time_rows(args.eval_dir)
    print(f"NLU benchmark, {os.cpu_count()} CPUs, reference time {NOW.isoformat()}")
    print(render(nlu, times, nlu_notes + time_notes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

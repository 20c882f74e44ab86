"""The messy-conversation set as figures: how many conversations pass, and what the
replies cost as SMS (the share of replies by segment count, and how many switch to UCS-2).

    .venv/bin/python benchmarks/conversations.py [--baseline PATH] [--longest N]

Every conversation in tests/conversations/*.yml is played through the real app (built-in
interpreter, SQLite, the demo world, a fresh database each) exactly as the test suite
plays it. With `--baseline PATH` (a checkout of an earlier commit, e.g. made with
`git worktree add /tmp/before <commit>`) the same set is also played against that code in
a second process and both are printed side by side: the "before and after" of a change.

A benchmark, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MONDAY_9AM = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # as tests/conftest.py


def _code_path(code: Path) -> None:
    """Import Doorstep from `code`, the runner and the set from this checkout's tests.
    This script's own folder leaves the path: its name would hide tests/conversations."""
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(here)]
    for path in (str(ROOT / "tests"), str(code)):
        if path in sys.path:
            sys.path.remove(path)
        sys.path.insert(0, path)


def measure(code: Path, longest: int) -> dict[str, Any]:
    _code_path(code)
    warnings.simplefilter("ignore")
    from conversations.runner import Player, Result, load_set, segment_share
    from fastapi.testclient import TestClient

    from bot.app import create_app
    from bot.cli.demo import load_demo
    from bot.common.clock import FixedClock
    from bot.settings import load_settings
    from nlu.builtin import BuiltinInterpreter
    from storage.db import Database
    from storage.migrate import upgrade

    conversations = load_set()
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp) / "template.sqlite3"
        upgrade(f"sqlite:///{template}")
        interpreter = BuiltinInterpreter.load(cache_dir=Path(tmp) / "nlu")
        for n, conversation in enumerate(conversations):
            path = Path(tmp) / f"c{n}.sqlite3"
            shutil.copyfile(template, path)
            clock = FixedClock(MONDAY_9AM)
            db = Database(f"sqlite:///{path}")
            load_demo(db, now=clock.now())
            settings = load_settings(
                database_url=db.url, simulator=True, scheduler_in_process=False
            )
            app = create_app(settings, clock=clock, interpreter=interpreter, rng=random.Random(7))
            try:
                with TestClient(app) as client:
                    results.append(Player(client, conversation).play())
            finally:
                db.dispose()
                path.unlink(missing_ok=True)
    replies = [sent for r in results for sent in r.replies]
    by_file: Counter[str] = Counter()
    passed_by_file: Counter[str] = Counter()
    for r in results:
        by_file[r.conversation.source] += 1
        passed_by_file[r.conversation.source] += r.passed
    long_ones = sorted({(s.segments, s.encoding, s.text) for s in replies}, reverse=True)
    return {
        "conversations": len(results),
        "passed": sum(r.passed for r in results),
        "by_file": {f: [passed_by_file[f], by_file[f]] for f in sorted(by_file)},
        "replies": len(replies),
        "segments": {str(k): v for k, v in segment_share(results).items()},
        "ucs2": sum(s.encoding == "UCS-2" for s in replies),
        "longest": [list(x) for x in long_ones[:longest]],
        "failed": [r.conversation.key for r in results if not r.passed],
    }


def _share(figures: dict[str, Any], segments: str) -> str:
    n = figures["segments"].get(segments, 0)
    total = figures["replies"] or 1
    return f"{n} ({100 * n / total:.0f}%)"


def _over(figures: dict[str, Any], above: int) -> str:
    n = sum(v for k, v in figures["segments"].items() if int(k) > above)
    total = figures["replies"] or 1
    return f"{n} ({100 * n / total:.0f}%)"


def _per_reply(figures: dict[str, Any]) -> str:
    total = sum(int(k) * v for k, v in figures["segments"].items())
    return f"{total / max(1, figures['replies']):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, help="an earlier checkout to compare with")
    parser.add_argument("--longest", type=int, default=8, help="list the N costliest replies")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--code", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json:
        print(json.dumps(measure(args.code, args.longest)))
        return
    columns: list[tuple[str, dict[str, Any]]] = []
    if args.baseline is not None:
        out = subprocess.run(
            [sys.executable, __file__, "--json", "--code", str(args.baseline.resolve())],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        columns.append((f"baseline ({args.baseline})", json.loads(out.strip().splitlines()[-1])))
    columns.append(("this checkout", measure(ROOT, args.longest)))

    rows = [
        ("conversations passing", lambda f: f"{f['passed']} of {f['conversations']}"),
        ("replies", lambda f: str(f["replies"])),
        ("replies of 1 SMS segment", lambda f: _share(f, "1")),
        ("replies of 2 segments", lambda f: _share(f, "2")),
        ("replies of 3+ segments", lambda f: _over(f, 2)),
        ("replies in UCS-2", lambda f: str(f["ucs2"])),
        ("segments per reply", _per_reply),
    ]
    width = max(len(name) for name, _ in columns) + 2
    print(f"{'measure':<28}" + "".join(f"{name:>{width}}" for name, _ in columns))
    for label, cell in rows:
        print(f"{label:<28}" + "".join(f"{cell(f):>{width}}" for _, f in columns))
    latest = columns[-1][1]
    print("\nby file (passing of total):")
    for name, (ok, total) in latest["by_file"].items():
        print(f"  {name:<28} {ok} of {total}")
    if latest["failed"]:
        print("\nfailing:")
        for key in latest["failed"]:
            print(f"  {key}")
    if latest["longest"]:
        print(f"\ncostliest replies ({columns[-1][0]}):")
        for segments, encoding, text in latest["longest"]:
            print(f"  {segments} x {encoding}: {text[:110]!r}")


if __name__ == "__main__":
    main()

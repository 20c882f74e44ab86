"""Train the production Rasa NLU model from the same files the built-in interpreter reads.

Rasa 3.6 runs only on Python <= 3.10 and pins libraries that clash with ours, so it is never
imported: we drive its CLI in its own environment as a subprocess. Models are named after a
hash of the training inputs (same recipe as `.ci/rasa.sh`) so an unchanged data set is never
trained twice and a served model can be traced back to the data that made it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

RASA_VERSION = "3.6.21"
RASA_BIN_ENV = "DOORSTEP_RASA_BIN"
PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_NLU_FILE = PACKAGE_DIR / "data" / "nlu.yml"
DEFAULT_CONFIG_FILE = PACKAGE_DIR / "rasa" / "config.yml"
DEFAULT_DOMAIN_FILE = PACKAGE_DIR / "rasa" / "domain.yml"
DEFAULT_OUT_DIR = Path("var/rasa/models")
NOT_FOUND_HINT = "install Rasa 3.6 in its own Python 3.10 environment; see docs/rasa.md"


class RasaTrainingError(RuntimeError):
    """Training could not run or failed; the message is meant for the person at the terminal."""


@dataclass(frozen=True, slots=True)
class TrainingInputs:
    nlu: Path = DEFAULT_NLU_FILE
    config: Path = DEFAULT_CONFIG_FILE
    domain: Path = DEFAULT_DOMAIN_FILE

    def files(self) -> tuple[Path, Path, Path]:
        return (self.nlu, self.config, self.domain)


@dataclass(frozen=True, slots=True)
class TrainedModel:
    path: Path
    reused: bool


Runner = Callable[[Sequence[str], Mapping[str, str]], subprocess.CompletedProcess[str]]


def model_name(inputs: TrainingInputs) -> str:
    """`doorstep-nlu-<hash>`; the hash covers the Rasa version and all three files."""
    digest = hashlib.sha256(f"rasa {RASA_VERSION}\n".encode())
    for path in inputs.files():
        digest.update(path.read_bytes())
    return f"doorstep-nlu-{digest.hexdigest()[:16]}"


def find_rasa(explicit: str | None, env: Mapping[str, str]) -> str:
    """The rasa executable: `explicit`, else $DOORSTEP_RASA_BIN, else `rasa` on PATH."""
    candidate = explicit or env.get(RASA_BIN_ENV) or "rasa"
    found = shutil.which(candidate, path=env.get("PATH"))
    if found is None:
        source = "--rasa" if explicit else (RASA_BIN_ENV if env.get(RASA_BIN_ENV) else "PATH")
        raise RasaTrainingError(
            f"Rasa executable {candidate!r} not found (from {source}): {NOT_FOUND_HINT}"
        )
    return found


def train_command(rasa: str, inputs: TrainingInputs, out_dir: Path, name: str) -> list[str]:
    return [
        rasa,
        "train",
        "nlu",
        "--nlu",
        str(inputs.nlu),
        "--config",
        str(inputs.config),
        "--domain",
        str(inputs.domain),
        "--out",
        str(out_dir),
        "--fixed-model-name",
        name,
    ]


def _run(cmd: Sequence[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(cmd),
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )


def train_rasa_model(
    *,
    rasa_bin: str | None = None,
    out_dir: Path = DEFAULT_OUT_DIR,
    inputs: TrainingInputs | None = None,
    force: bool = False,
    env: Mapping[str, str] | None = None,
    runner: Runner = _run,
) -> TrainedModel:
    """Train (or reuse) the model for `inputs` in `out_dir` and return where it is.

    `env` defaults to the process environment; telemetry is switched off so training never
    prompts or phones home, which matters in CI where there is no stdin and no internet.
    """
    inputs = inputs or TrainingInputs()
    for path in inputs.files():
        if not path.is_file():
            raise RasaTrainingError(f"training file missing: {path}")
    base_env = dict(os.environ if env is None else env)
    rasa = find_rasa(rasa_bin, base_env)
    name = model_name(inputs)
    out_dir = out_dir.resolve()
    target = out_dir / f"{name}.tar.gz"
    if target.is_file() and target.stat().st_size > 0 and not force:
        return TrainedModel(path=target, reused=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    run_env = {
        **base_env,
        "RASA_TELEMETRY_ENABLED": "false",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    }
    run_env.setdefault("RASA_CACHE_DIRECTORY", str(out_dir / ".rasa-cache"))
    # Train into a scratch directory and move the finished archive: a killed run must not
    # leave a truncated model under the name a later run would reuse.
    scratch = out_dir / f".training-{name}"
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        done = runner(train_command(rasa, inputs, scratch, name), run_env)
        produced = scratch / f"{name}.tar.gz"
        if done.returncode != 0 or not produced.is_file():
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-30:])
            raise RasaTrainingError(
                f"rasa train nlu failed (exit {done.returncode}); last output:\n{tail}"
            )
        produced.replace(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return TrainedModel(path=target, reused=False)

"""On-disk cache of trained built-in models, keyed by what they were trained from.

Training takes about 0.3 s on nlu.yml and grows with the file; loading a cached model
takes about 15 ms, which matters for every worker start and every CLI call. The key is
the SHA-256 of the training file's bytes plus `MODEL_VERSION`, so editing nlu.yml or
upgrading the model code retrains, and nothing else does. The cache directory must be
one only this service writes to: entries are pickles.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
from pathlib import Path

from nlu.builtin.model import MODEL_VERSION, BuiltinModel

DEFAULT_CACHE_DIR = Path("var/cache/nlu")
_PREFIX = "builtin-"


def training_sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def cache_key(training_digest: str, version: str = MODEL_VERSION) -> str:
    return hashlib.sha256(f"{version}\n{training_digest}".encode()).hexdigest()[:32]


class ModelCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path_for(self, key: str) -> Path:
        return self.directory / f"{_PREFIX}{key}.pkl"

    def load(self, key: str, *, training_digest: str) -> BuiltinModel | None:
        """The cached model, or None when absent, unreadable or not the one asked for."""
        path = self.path_for(key)
        try:
            with path.open("rb") as handle:
                model = pickle.load(handle)
        except FileNotFoundError:
            return None
        except Exception:  # noqa: BLE001 - any damage to the file just means "retrain"
            return None
        if (
            not isinstance(model, BuiltinModel)
            or model.version != MODEL_VERSION
            or model.training_sha256 != training_digest
        ):
            return None
        return model

    def store(self, key: str, model: BuiltinModel) -> Path:
        """Write atomically (temp file + rename) so a concurrent reader never sees half a file."""
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.path_for(key)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".pkl", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return target

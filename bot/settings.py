"""Service settings: one pydantic-settings class, read from `DOORSTEP_*` variables and `.env`.

Built by `load_settings()` rather than at import, so tests and commands can build their own
and nothing holds a global. Errors name the environment variable so an operator can fix
the deployment without reading code.
"""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from nlu.interpreter import DEFAULT_TIMEZONE

ENV_PREFIX = "DOORSTEP_"
DEFAULT_SQLITE_PATH = Path("var") / "doorstep.sqlite3"

#: Values that are obviously placeholders; a deployment must never run with them.
_PLACEHOLDER_SECRETS = frozenset({"changeme", "change-me", "secret", "password", "xxx", "todo"})

#: A secret key must carry at least this many bits of randomness: it signs staff sessions
#: and visit links, and a weak one is cracked offline (issue 13, item 7).
SECRET_KEY_BITS = 256
MAKE_A_SECRET_KEY = 'python -c "import secrets; print(secrets.token_hex(32))"'
_HEX = frozenset("0123456789abcdefABCDEF")
#: Characters in a row that are taken as foretold when they repeat or step evenly.
_RUN = 8
#: The longest retention period a setting may name: a hundred years.
RETENTION_MAX_DAYS = 36_500


def secret_key_bits(key: str) -> float:
    """A cautious estimate of the randomness in `key`, in bits.

    Each character that could not be foretold counts the bits of the smallest alphabet the
    key is drawn from: hex digits (4), or the character classes it uses (lower, upper,
    digits, others: up to 6.6), or only the few characters it uses, when fewer than ten.
    Foretold, and not counted: a run of eight characters seen earlier in the key
    ("abcd1234abcd1234...") and a steady run of eight ("aaaaaaaa", "12345678").

    `secrets.token_hex(32)` scores 256 (64 characters x 4 bits); `token_urlsafe(48)` more
    (`token_urlsafe(32)` usually does too, but one in about 7,500 uses only letters and
    scores 245).
    """
    if not key:
        return 0.0
    if set(key) <= _HEX:
        pool = 16
    else:
        pool = (
            26 * any(c.islower() for c in key)
            + 26 * any(c.isupper() for c in key)
            + 10 * any(c.isdigit() for c in key)
            + 33 * any(not c.isalnum() for c in key)
        )
    distinct = len(set(key))
    if distinct < 10:
        pool = min(pool, distinct)
    foretold: set[int] = set()
    seen: set[str] = set()
    for i in range(len(key) - _RUN + 1):
        gram = key[i : i + _RUN]
        if gram in seen:
            foretold.update(range(i, i + _RUN))
        seen.add(gram)
    steps = [ord(b) - ord(a) for a, b in itertools.pairwise(key)]
    run_start = 0
    for i in range(1, len(steps) + 1):
        if i == len(steps) or steps[i] != steps[run_start]:
            if i - run_start + 1 >= _RUN:  # steps run_start..i-1 span characters to i
                foretold.update(range(run_start + 2, i + 1))
            run_start = i
    return (len(key) - len(foretold)) * math.log2(max(pool, 2))


#: Addresses a server listens on that a browser cannot open: links use the loopback one.
_ANY_ADDRESS = frozenset({"", "0.0.0.0", "::", "[::]"})


def own_base_url(host: str, port: int) -> str:
    """The development server's own address, for links: http://127.0.0.1:8000."""
    if host in _ANY_ADDRESS:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address
    return f"http://{host}:{port}"


class SettingsError(RuntimeError):
    """Raised with one readable line per bad variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        # `DOORSTEP_TELEGRAM_TOKEN=` in a .env means "not set", not "an empty token".
        env_ignore_empty=True,
    )

    # Service
    #: "production" (the Docker image's default) refuses to start without what a real
    #: deployment needs: PostgreSQL, a secret key, the public https URL, no simulator.
    environment: Literal["development", "production"] = "development"
    database_url: str = Field(default=f"sqlite:///{DEFAULT_SQLITE_PATH}")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    #: Proxies whose X-Forwarded-For is believed (comma-separated addresses or networks,
    #: e.g. "10.0.0.5" or "172.16.0.0/12"); empty: none, the TCP peer is the client.
    trusted_proxies: str = ""
    #: Where residents and providers reach this service; links in messages and pages use it.
    #: Unset, it is this process's own address (DOORSTEP_HOST and DOORSTEP_PORT), so a
    #: development server on another port still links to itself.
    public_base_url: str = "http://127.0.0.1:8000"
    timezone: str = DEFAULT_TIMEZONE
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # Channels. The simulator is the embedded default; it lets anyone move the clock and
    # read transcripts, so production turns it off.
    simulator: bool = True

    # NLU
    nlu: Literal["builtin", "rasa", "keyword"] = "builtin"
    rasa_url: str | None = None
    rasa_token: SecretStr | None = None
    rasa_timeout_seconds: float = Field(default=1.5, gt=0, le=30)
    nlu_threshold: float = Field(default=0.4, ge=0, le=1)
    nlu_cache_dir: Path = Path("var") / "cache" / "nlu"

    #: Operatives' photos sent by the landlord's system (bot/integration/photos.py); every
    #: web worker and the scheduler must see the same folder (bot/common/photos.py).
    photos_dir: Path = Path("var") / "photos"

    # Web sessions for staff pages. Generated per process when unset in simulator mode.
    secret_key: SecretStr | None = None

    # SMS through Twilio. Without an account SID and token the SMS channel is off.
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_from: str | None = None
    #: Another Twilio-compatible API (tests point this at a local fake).
    twilio_api_base: str | None = None
    #: Messages per second per sender (Twilio's long-code default is 1; short codes more).
    twilio_rate_per_second: float = Field(default=1.0, gt=0, le=1000)

    # Telegram. Without a token the Telegram channel is off.
    telegram_token: SecretStr | None = None
    telegram_webhook_secret: SecretStr | None = None
    #: Another Bot API server (tests point this at a local fake).
    telegram_api_base: str | None = None

    # Webhooks: messages per minute per sender (bot/inbound/ratelimit.py); 0 switches the limit off.
    webhook_rate_per_minute: int = Field(default=30, ge=0, le=100_000)
    #: Batches of inbound texts each web worker answers at once after acknowledging them.
    #: One is best measured on both databases: texts that wait are answered together.
    process_concurrency: int = Field(default=1, ge=1, le=64)

    # Scheduler and dispatcher
    #: Run planner, dispatcher and sweeps inside `doorstep serve` (else `doorstep scheduler`).
    scheduler_in_process: bool = True
    dispatch_interval_seconds: float = Field(default=2.0, gt=0, le=3600)
    plan_interval_seconds: float = Field(default=60.0, gt=0, le=86400)
    #: Inbound messages still unanswered this long after they were stored are answered
    #: by the scheduler (the database went away between acknowledging and answering).
    recover_after_seconds: float = Field(default=60.0, gt=0, le=86400)
    recover_interval_seconds: float = Field(default=60.0, gt=0, le=86400)

    # Retention (docs/retention.md): how long each kind of personal data is kept, in days.
    #: Transcripts (messages, conversations) and each visit's timeline and disclosures:
    #: six years after the last activity on the job (complaints and claims: Limitation Act).
    retention_transcripts_days: int = 2192
    #: Outbox rows and their contact decisions: as long as the transcripts they explain.
    retention_outbox_days: int = 2192
    #: Feedback: anonymised (comment and review note blanked, ratings kept for statistics).
    retention_feedback_days: int = 2192
    #: Closed complaints: anonymised (text blanked); counted, never deleted.
    retention_complaints_days: int = 2192
    #: Closed staff tasks (their summaries name residents): deleted.
    retention_staff_tasks_days: int = 2192
    #: Audit events (ids and kinds, who did what): deleted.
    retention_audit_days: int = 2192
    #: Access needs, after they are withdrawn or the tenancy ends: deleted.
    retention_access_needs_grace_days: int = 90
    #: Residents whose tenancy ended and who have no live job: anonymised.
    retention_residents_days: int = 2192
    #: Staff sessions (after they were last seen) and sign-in attempts: deleted.
    retention_staff_sessions_days: int = 90
    retention_login_attempts_days: int = 90
    #: Telegram link tokens after they expire: deleted.
    retention_link_tokens_days: int = 30
    #: Webhook deliveries delivered or dead, and landlord events all of whose deliveries
    #: are done: deleted.
    retention_webhook_deliveries_days: int = 30
    retention_landlord_events_days: int = 90
    #: Rows examined per batch; each batch is one short transaction.
    retention_batch_size: int = Field(default=1000, ge=10, le=10_000)
    #: When the daily run starts, UK wall clock (after the 01:00-03:00 quiet band).
    retention_at: str = "03:30"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (try Europe/London)") from exc
        return value

    @field_validator(
        "retention_transcripts_days",
        "retention_outbox_days",
        "retention_feedback_days",
        "retention_complaints_days",
        "retention_staff_tasks_days",
        "retention_audit_days",
        "retention_access_needs_grace_days",
        "retention_residents_days",
        "retention_staff_sessions_days",
        "retention_login_attempts_days",
        "retention_link_tokens_days",
        "retention_webhook_deliveries_days",
        "retention_landlord_events_days",
    )
    @classmethod
    def _retention_days(cls, value: int) -> int:
        if not 1 <= value <= RETENTION_MAX_DAYS:
            raise ValueError(
                f"must be a whole number of days from 1 to {RETENTION_MAX_DAYS} (got {value})"
            )
        return value

    @field_validator("retention_at")
    @classmethod
    def _retention_time(cls, value: str) -> str:
        match = re.fullmatch(r"([01][0-9]|2[0-3]):([0-5][0-9])", value.strip())
        if match is None:
            raise ValueError(f"must be a time of day as HH:MM, e.g. 03:30 (got {value!r})")
        if 1 <= int(match.group(1)) < 3:
            raise ValueError("must be outside the 01:00-03:00 quiet band, e.g. 03:30")
        return match.group(0)

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgresql+psycopg://", "postgresql://")):
            raise ValueError(
                "must start with sqlite:/// or postgresql+psycopg:// "
                f"(got {value.split(':', 1)[0]!r})"
            )
        if value.startswith("postgresql://"):
            # SQLAlchemy would pick psycopg2, which we do not ship.
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("public_base_url", "rasa_url", "twilio_api_base", "telegram_api_base")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL, got {value!r}")
        return value.rstrip("/")

    @field_validator(
        "rasa_token", "secret_key", "twilio_auth_token", "telegram_token", "telegram_webhook_secret"
    )
    @classmethod
    def _no_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip().lower() in _PLACEHOLDER_SECRETS:
            raise ValueError("is a placeholder; set a real secret")
        return value

    @field_validator("secret_key")
    @classmethod
    def _strong_secret_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        key = value.get_secret_value()
        if len(key) < SECRET_KEY_BITS // 8 or secret_key_bits(key) < SECRET_KEY_BITS:
            raise ValueError(
                f"is too weak: it signs staff sessions and visit links, so it needs "
                f"{SECRET_KEY_BITS // 8} random bytes; make one with {MAKE_A_SECRET_KEY}"
            )
        return value

    @model_validator(mode="after")
    def _own_address_by_default(self) -> Settings:
        if "public_base_url" not in self.model_fields_set:
            # Frozen: set once, here, while the settings are being built.
            object.__setattr__(self, "public_base_url", own_base_url(self.host, self.port))
        return self

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.nlu == "rasa" and not self.rasa_url:
            raise ValueError("DOORSTEP_RASA_URL is required when DOORSTEP_NLU=rasa")
        if self.sms_enabled and not (self.twilio_messaging_service_sid or self.twilio_from):
            raise ValueError(
                "DOORSTEP_TWILIO_MESSAGING_SERVICE_SID or DOORSTEP_TWILIO_FROM is required "
                "when Twilio credentials are set"
            )
        if self.telegram_token and not self.telegram_webhook_secret and not self.simulator:
            raise ValueError(
                "DOORSTEP_TELEGRAM_WEBHOOK_SECRET is required for Telegram in production"
            )
        if self.environment == "production":
            self._production_ready()
        if not self.simulator and self.secret_key is None:
            raise ValueError(
                "DOORSTEP_SECRET_KEY is required when DOORSTEP_SIMULATOR is off (production). "
                f"Make one with {MAKE_A_SECRET_KEY}"
            )
        return self

    def _production_ready(self) -> None:
        """Everything DOORSTEP_ENVIRONMENT=production lacks, named, in one message."""
        missing = []
        if self.simulator:
            missing.append(
                "DOORSTEP_SIMULATOR=false (the simulator shows every transcript to anyone "
                "and moves the clock)"
            )
        if not self.database_url.startswith("postgresql"):
            missing.append(
                "DOORSTEP_DATABASE_URL=postgresql+psycopg://user:password@host:5432/doorstep"
            )
        if self.secret_key is None:
            missing.append(f"DOORSTEP_SECRET_KEY (make one with {MAKE_A_SECRET_KEY})")
        if "public_base_url" not in self.model_fields_set or not self.public_base_url.startswith(
            "https://"
        ):
            missing.append(
                "DOORSTEP_PUBLIC_BASE_URL=https://... (the public address residents and "
                "Twilio reach)"
            )
        if missing:
            raise ValueError(
                "DOORSTEP_ENVIRONMENT=production needs:\n    " + "\n    ".join(missing)
            )

    @property
    def sms_enabled(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token)

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram_token is not None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, turning validation errors into one clear message."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p != "__root__"]
            name = ENV_PREFIX + loc[0].upper() if loc else "settings"
            message = err.get("msg", "invalid").removeprefix("Value error, ")
            lines.append(f"{name}: {message}")
        raise SettingsError("invalid configuration:\n  " + "\n  ".join(lines)) from None

from __future__ import annotations

import secrets

import pytest

from bot.settings import SECRET_KEY_BITS, SettingsError, load_settings, secret_key_bits

STRONG_KEY = secrets.token_hex(32)


def test_defaults_are_the_embedded_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DOORSTEP_DATABASE_URL", "DOORSTEP_PORT", "DOORSTEP_NLU", "DOORSTEP_HOST"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(_env_file=None)
    assert settings.database_url == "sqlite:///var/doorstep.sqlite3"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.timezone == "Europe/London"
    assert settings.nlu == "builtin"
    assert settings.simulator is True


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOORSTEP_PORT", "9100")
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", "postgresql://u@db:5432/doorstep")
    settings = load_settings(_env_file=None)
    assert settings.port == 9100
    # plain postgresql:// would pick a driver we do not ship
    assert settings.database_url == "postgresql+psycopg://u@db:5432/doorstep"


def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOORSTEP_PORT", "eighty")
    monkeypatch.setenv("DOORSTEP_TIMEZONE", "Mars/Olympus")
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None)
    message = str(caught.value)
    assert "DOORSTEP_PORT" in message
    assert "DOORSTEP_TIMEZONE" in message


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(SettingsError, match="DOORSTEP_DATABASE_URL"):
        load_settings(_env_file=None, database_url="mysql://root@localhost/x")


def test_rasa_needs_its_url() -> None:
    with pytest.raises(SettingsError, match="DOORSTEP_RASA_URL"):
        load_settings(_env_file=None, nlu="rasa", rasa_url=None)


def test_secrets_are_hidden_and_placeholders_refused() -> None:
    settings = load_settings(_env_file=None, rasa_token="s3cr3t-token-value")
    assert "s3cr3t" not in repr(settings)
    with pytest.raises(SettingsError, match="DOORSTEP_RASA_TOKEN"):
        load_settings(_env_file=None, rasa_token="changeme")


def test_production_requires_a_secret_key() -> None:
    with pytest.raises(SettingsError, match="DOORSTEP_SECRET_KEY"):
        load_settings(_env_file=None, simulator=False)
    settings = load_settings(_env_file=None, simulator=False, secret_key=STRONG_KEY)
    assert settings.simulator is False


@pytest.mark.parametrize(
    "weak",
    [
        "doorstep",
        "x" * 64,
        "a-real-secret-for-this-test-only-4f9c",
        secrets.token_hex(16),
        "0123456789abcdef" * 4,
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "correct horse battery staple correct horse",
        "Landlord2026!Landlord2026!Landlord2026!Landlord2026!",
    ],
)
def test_a_weak_secret_key_is_refused_with_how_to_make_one(weak: str) -> None:
    """DOORSTEP_SECRET_KEY=doorstep started the service, and a visit link signed with it
    was cracked offline in a millisecond (issue 13, item 7)."""
    for simulator in (False, True):
        with pytest.raises(SettingsError) as caught:
            load_settings(_env_file=None, simulator=simulator, secret_key=weak)
        message = str(caught.value)
        assert "DOORSTEP_SECRET_KEY" in message and "too weak" in message
        assert 'python -c "import secrets; print(secrets.token_hex(32))"' in message
        assert weak not in message


@pytest.mark.parametrize(
    "make",
    # token_urlsafe(32) is 43 characters: about 1 in 7,500 has no digit and no "-" or "_",
    # scores 52 letters x 43 = 245 bits and is refused, so the URL-safe form needs 48 bytes.
    [lambda: secrets.token_hex(32), lambda: secrets.token_urlsafe(48)],
    ids=["hex", "url"],
)
def test_every_key_the_advice_makes_is_accepted(make: object) -> None:
    assert callable(make)
    for _ in range(2000):
        key = make()
        assert secret_key_bits(key) >= SECRET_KEY_BITS, key
    load_settings(_env_file=None, simulator=False, secret_key=make())


def test_the_simulator_makes_its_own_key_when_none_is_set() -> None:
    assert load_settings(_env_file=None, simulator=True).secret_key is None


def test_production_names_everything_it_lacks(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DOORSTEP_DATABASE_URL", "DOORSTEP_PUBLIC_BASE_URL", "DOORSTEP_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None, environment="production")
    message = str(caught.value)
    for name in (
        "DOORSTEP_SIMULATOR=false",
        "DOORSTEP_DATABASE_URL=postgresql",
        "DOORSTEP_SECRET_KEY",
        "DOORSTEP_PUBLIC_BASE_URL=https://",
    ):
        assert name in message, name
    ready = {
        "environment": "production",
        "simulator": False,
        "database_url": "postgresql+psycopg://doorstep:pw@postgres:5432/doorstep",
        "secret_key": STRONG_KEY,
        "public_base_url": "https://repairs.example.org",
    }
    settings = load_settings(_env_file=None, **ready)
    assert settings.simulator is False and settings.environment == "production"
    for wrong in (
        {"simulator": True},
        {"database_url": "sqlite:///var/doorstep.sqlite3"},
        {"public_base_url": "http://repairs.example.org"},
    ):
        with pytest.raises(SettingsError, match="DOORSTEP_ENVIRONMENT=production needs"):
            load_settings(_env_file=None, **{**ready, **wrong})


def test_channels_are_off_without_credentials_and_need_a_sender() -> None:
    settings = load_settings(_env_file=None)
    assert not settings.sms_enabled and not settings.telegram_enabled
    with pytest.raises(SettingsError, match="DOORSTEP_TWILIO_FROM"):
        load_settings(_env_file=None, twilio_account_sid="AC1", twilio_auth_token="t0k3n-value")
    on = load_settings(
        _env_file=None,
        twilio_account_sid="AC1",
        twilio_auth_token="t0k3n-value",
        twilio_from="+447400000001",
    )
    assert on.sms_enabled


def test_tests_cannot_reach_the_internet() -> None:
    import socket

    with pytest.raises(RuntimeError, match="never leave this machine"):
        socket.create_connection(("192.0.2.1", 80), timeout=1)


def test_answer_concurrency_is_one_batch_at_a_time_unless_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DOORSTEP_PROCESS_CONCURRENCY", raising=False)
    assert load_settings(_env_file=None).process_concurrency == 1
    monkeypatch.setenv("DOORSTEP_PROCESS_CONCURRENCY", "3")
    assert load_settings(_env_file=None).process_concurrency == 3
    monkeypatch.setenv("DOORSTEP_PROCESS_CONCURRENCY", "0")
    with pytest.raises(SettingsError, match="DOORSTEP_PROCESS_CONCURRENCY"):
        load_settings(_env_file=None)


def test_links_follow_the_port_when_no_public_address_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DOORSTEP_PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("DOORSTEP_PORT", "8123")
    assert load_settings(_env_file=None).public_base_url == "http://127.0.0.1:8123"
    # Listening on every address: links use the loopback one a browser can open.
    everywhere = load_settings(_env_file=None, host="0.0.0.0", port=9000)
    assert everywhere.public_base_url == "http://127.0.0.1:9000"
    ipv6 = load_settings(_env_file=None, host="::1", port=9000)
    assert ipv6.public_base_url == "http://[::1]:9000"


def test_a_public_address_that_is_set_wins_over_the_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOORSTEP_PORT", "8123")
    monkeypatch.setenv("DOORSTEP_PUBLIC_BASE_URL", "https://repairs.example.org/")
    assert load_settings(_env_file=None).public_base_url == "https://repairs.example.org"
    # Production still insists on its own https address being set.
    monkeypatch.delenv("DOORSTEP_PUBLIC_BASE_URL")
    with pytest.raises(SettingsError, match="DOORSTEP_PUBLIC_BASE_URL"):
        load_settings(
            _env_file=None,
            environment="production",
            simulator=False,
            secret_key=STRONG_KEY,
            database_url="postgresql://u@db:5432/doorstep",
        )

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings


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
    settings = load_settings(_env_file=None, simulator=False, secret_key="x" * 40)
    assert settings.simulator is False


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

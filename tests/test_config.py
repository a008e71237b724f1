"""Configuration comes from the environment and stops start-up with one line naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from survey.config import ConfigError, settings_from_env

ROOT = Path(__file__).resolve().parent.parent
GOOD_PRODUCTION = {
    "SIPAS_ENV": "production",
    "SECRET_KEY": "x" * 48,
    "SIPAS_DATABASE_URL": "postgresql://sipas@db.internal/sipas",
    "SIPAS_BASE_URL": "https://khaosat.example.vn",
}


def test_development_defaults_use_sqlite_under_instance_and_keep_a_generated_key(tmp_path: Path) -> None:
    first = settings_from_env({}, tmp_path)
    second = settings_from_env({}, tmp_path)
    assert first["DATABASE_URL"] == f"sqlite:///{tmp_path / 'sipas.db'}"
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert len(first["SECRET_KEY"]) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert first["DEFAULT_LOCALE"] == "vi"
    assert first["WTF_CSRF_TIME_LIMIT"] is None


def test_production_settings_pin_psycopg_and_secure_cookies(tmp_path: Path) -> None:
    settings = settings_from_env(GOOD_PRODUCTION, tmp_path)
    assert settings["DATABASE_URL"] == "postgresql+psycopg://sipas@db.internal/sipas"
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["SHOW_COUNTER_DIRECTORY"] is False
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"SIPAS_DATABASE_URL": ""}, "SIPAS_DATABASE_URL"),
        ({"SIPAS_DATABASE_URL": "mysql://root@localhost/sipas"}, "SIPAS_DATABASE_URL"),
        ({"SIPAS_DATABASE_URL": "sqlite://"}, "SIPAS_DATABASE_URL"),
        ({"SIPAS_BASE_URL": ""}, "SIPAS_BASE_URL"),
        ({"SIPAS_BASE_URL": "http://khaosat.example.vn"}, "SIPAS_BASE_URL"),
        ({"SIPAS_BASE_URL": "khaosat.example.vn"}, "SIPAS_BASE_URL"),
        ({"SIPAS_REDIS_URL": "memcached://x"}, "SIPAS_REDIS_URL"),
        ({"SIPAS_DEFAULT_LOCALE": "fr"}, "SIPAS_DEFAULT_LOCALE"),
        ({"SIPAS_TIMEZONE": "Mars/Olympus"}, "SIPAS_TIMEZONE"),
        ({"SIPAS_PROXY_HOPS": "two"}, "SIPAS_PROXY_HOPS"),
        ({"SIPAS_SHOW_COUNTER_DIRECTORY": "maybe"}, "SIPAS_SHOW_COUNTER_DIRECTORY"),
        ({"SIPAS_ENV": "staging"}, "SIPAS_ENV"),
    ],
    ids=lambda v: v if isinstance(v, str) else "-".join(f"{k}={val}" for k, val in v.items()),
)
def test_bad_configuration_names_the_variable(tmp_path: Path, change: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        settings_from_env({**GOOD_PRODUCTION, **change}, tmp_path)
    message = str(excinfo.value)
    assert message.startswith(variable + ":")
    assert "\n" not in message


def test_wsgi_refuses_to_start_with_one_line_on_stderr(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIPAS_") and k != "SECRET_KEY"}
    env.update({**GOOD_PRODUCTION, "SECRET_KEY": ""})
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("SIPAS configuration error: SECRET_KEY: required in production")


# -- the limits, thresholds and switches added with the survey's abuse controls and the dashboards ---------


@pytest.mark.parametrize(
    ("variable", "raw", "key", "expected"),
    [
        ("SIPAS_SUBMIT_RATE_LIMIT", "5 per second", "SUBMIT_RATE_LIMIT", "5 per second"),
        ("SIPAS_SUBMIT_RATE_LIMIT", "  ", "SUBMIT_RATE_LIMIT", "30 per minute"),
        ("SIPAS_COUNTER_RATE_LIMIT", "100/hour;20/minute", "COUNTER_RATE_LIMIT", "100/hour;20/minute"),
        ("SIPAS_SIGN_IN_RATE_LIMIT", "3 per minute", "SIGN_IN_RATE_LIMIT", "3 per minute"),
        ("SIPAS_BURST_WINDOW_SECONDS", "60", "BURST_WINDOW_SECONDS", 60),
        ("SIPAS_BURST_THRESHOLD", "2", "BURST_THRESHOLD", 2),
        ("SIPAS_LOCKOUT_THRESHOLD", "1", "LOCKOUT_THRESHOLD", 1),
        ("SIPAS_LOCKOUT_MINUTES", "90", "LOCKOUT_MINUTES", 90),
        ("SIPAS_INDEX_CACHE_SECONDS", "0", "INDEX_CACHE_SECONDS", 0),
        ("SIPAS_INDEX_CACHE_SECONDS", "600", "INDEX_CACHE_SECONDS", 600),
        ("SIPAS_SHOW_COUNTER_DIRECTORY", "yes", "SHOW_COUNTER_DIRECTORY", True),
        ("SIPAS_SHOW_COUNTER_DIRECTORY", "OFF", "SHOW_COUNTER_DIRECTORY", False),
        ("SIPAS_LOG_LEVEL", "warning", "LOG_LEVEL", "WARNING"),
        ("SIPAS_LOG_LEVEL", "", "LOG_LEVEL", "INFO"),
        ("SIPAS_PROXY_HOPS", "2", "PROXY_HOPS", 2),
    ],
    ids=lambda v: v if isinstance(v, str) and v.startswith("SIPAS_") else None,
)
def test_tuning_variables_are_parsed(tmp_path: Path, variable: str, raw: str, key: str, expected: object) -> None:
    assert settings_from_env({**GOOD_PRODUCTION, variable: raw}, tmp_path)[key] == expected


def test_tuning_defaults(tmp_path: Path) -> None:
    production = settings_from_env(GOOD_PRODUCTION, tmp_path)
    development = settings_from_env({}, tmp_path)
    assert {k: production[k] for k in ("SUBMIT_RATE_LIMIT", "COUNTER_RATE_LIMIT", "SIGN_IN_RATE_LIMIT")} == {
        "SUBMIT_RATE_LIMIT": "30 per minute",
        "COUNTER_RATE_LIMIT": "20 per minute",
        "SIGN_IN_RATE_LIMIT": "10 per minute",
    }
    assert (production["BURST_WINDOW_SECONDS"], production["BURST_THRESHOLD"]) == (300, 10)
    assert (production["LOCKOUT_THRESHOLD"], production["LOCKOUT_MINUTES"]) == (5, 15)
    assert (production["INDEX_CACHE_SECONDS"], production["LOG_LEVEL"], production["PROXY_HOPS"]) == (60, "INFO", 0)
    # The counter directory (every QR code on the landing page) is a demo feature: off in production.
    assert (production["SHOW_COUNTER_DIRECTORY"], development["SHOW_COUNTER_DIRECTORY"]) == (False, True)


@pytest.mark.parametrize(
    ("variable", "raw"),
    [
        ("SIPAS_SUBMIT_RATE_LIMIT", "thirty a minute"),
        ("SIPAS_SUBMIT_RATE_LIMIT", "30 per fortnight"),
        ("SIPAS_COUNTER_RATE_LIMIT", "many"),
        ("SIPAS_SIGN_IN_RATE_LIMIT", "per minute"),
        ("SIPAS_BURST_WINDOW_SECONDS", "0"),
        ("SIPAS_BURST_WINDOW_SECONDS", "5m"),
        ("SIPAS_BURST_THRESHOLD", "1"),
        ("SIPAS_LOCKOUT_THRESHOLD", "0"),
        ("SIPAS_LOCKOUT_MINUTES", "1.5"),
        ("SIPAS_INDEX_CACHE_SECONDS", "-1"),
        ("SIPAS_SHOW_COUNTER_DIRECTORY", "2"),
        ("SIPAS_LOG_LEVEL", "LOUD"),
        ("SIPAS_PROXY_HOPS", "-1"),
    ],
    ids=lambda v: v,
)
def test_bad_tuning_values_are_refused_naming_the_variable(tmp_path: Path, variable: str, raw: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        settings_from_env({**GOOD_PRODUCTION, variable: raw}, tmp_path)
    message = str(excinfo.value)
    assert message.startswith(variable + ":")
    assert repr(raw) in message or raw.lstrip("-") in message
    assert "\n" not in message


def test_a_bad_log_level_stops_start_up_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIPAS_") and k != "SECRET_KEY"}
    env.update({**GOOD_PRODUCTION, "SIPAS_LOG_LEVEL": "LOUD"})
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "SIPAS configuration error: SIPAS_LOG_LEVEL: expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'LOUD'"
    ]


def test_the_base_url_is_marked_as_a_guess_only_without_sipas_base_url_and_port(tmp_path: Path) -> None:
    env = {"SIPAS_ENV": "test"}
    assert settings_from_env(env, tmp_path)["BASE_URL_GUESSED"] is True
    assert settings_from_env({**env, "PORT": "8080"}, tmp_path)["BASE_URL"] == "http://127.0.0.1:8080"
    assert settings_from_env({**env, "PORT": "8080"}, tmp_path)["BASE_URL_GUESSED"] is False
    assert settings_from_env({**env, "SIPAS_BASE_URL": "http://h:1"}, tmp_path)["BASE_URL_GUESSED"] is False

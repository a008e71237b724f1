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

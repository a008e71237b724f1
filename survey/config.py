"""Configuration from the environment.

Every setting comes from an environment variable (see the README table). A wrong or missing value
raises :class:`ConfigError` with one line naming the variable and the reason, so start-up stops
before anything is served.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENVIRONMENTS = ("development", "production", "test")
LOCALES = ("vi", "en")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SECRET_KEY_FILE = "secret_key"  # noqa: S105  (a file name, not a secret)
MIN_SECRET_KEY_LENGTH = 32


class ConfigError(RuntimeError):
    """A configuration variable is missing or wrong; the message names it."""


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}: expected true or false, got {raw!r}")


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name}: must be at least {minimum}, got {value}")
    return value


def _log_level(env: Mapping[str, str]) -> str:
    """A standard logging level name; anything else would stop start-up later with a traceback."""
    raw = env.get("SIPAS_LOG_LEVEL", "").strip()
    if raw.upper() in ("", *LOG_LEVELS):
        return raw.upper() or "INFO"
    raise ConfigError(f"SIPAS_LOG_LEVEL: expected one of {', '.join(LOG_LEVELS)}, got {raw!r}")


def _rate_limit(env: Mapping[str, str], name: str, default: str) -> str:
    """A Flask-Limiter rate such as ``30 per minute`` or ``5/second``; checked here so start-up fails early."""
    from limits import parse_many

    raw = env.get(name, "").strip() or default
    try:
        parse_many(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a rate such as '30 per minute', got {raw!r}") from None
    return raw


SMTP_SCHEMES = ("smtp", "smtp+starttls", "smtps")


def _smtp_url(raw: str) -> str | None:
    """``smtp://host:port`` (plain), ``smtp+starttls://`` or ``smtps://`` (TLS), with optional ``user:password@``."""
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in SMTP_SCHEMES or not parts.hostname:
        raise ConfigError("SIPAS_SMTP_URL: expected smtp://host:port, smtp+starttls://host:port or smtps://host:port")
    try:
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        raise ConfigError("SIPAS_SMTP_URL: the port must be a number") from None
    return raw


def database_url(raw: str, name: str = "SIPAS_DATABASE_URL") -> str:
    """Validate a database URL and pin PostgreSQL to the psycopg 3 driver."""
    scheme = raw.split("://", 1)[0] if "://" in raw else ""
    if scheme in ("postgres", "postgresql", "postgresql+psycopg"):
        rest = raw.split("://", 1)[1]
        if not rest or rest.startswith("/"):
            raise ConfigError(f"{name}: a PostgreSQL URL needs a host, e.g. postgresql://user@127.0.0.1:5432/sipas")
        return "postgresql+psycopg://" + rest
    if scheme == "sqlite":
        if raw in ("sqlite://", "sqlite:///:memory:"):
            raise ConfigError(f"{name}: an in-memory SQLite database loses every response; give a file path")
        if not raw.startswith("sqlite:///"):
            raise ConfigError(f"{name}: SQLite URLs look like sqlite:////absolute/path/sipas.db")
        return raw
    raise ConfigError(f"{name}: unsupported database {raw.split('://', 1)[0]!r}; use sqlite:/// or postgresql://")


def _base_url(raw: str, production: bool) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"SIPAS_BASE_URL: expected an absolute http(s) URL such as https://khaosat.example.vn, got {raw!r}"
        )
    if parts.query or parts.fragment:
        raise ConfigError("SIPAS_BASE_URL: must not carry a query string or fragment")
    if production and parts.scheme != "https":
        raise ConfigError("SIPAS_BASE_URL: production QR codes must use https")
    return raw.rstrip("/")


def _secret_key(env: Mapping[str, str], environment: str, instance_path: Path) -> str:
    key = env.get("SECRET_KEY", "")
    if key:
        if len(key) < MIN_SECRET_KEY_LENGTH:
            raise ConfigError(f"SECRET_KEY: must be at least {MIN_SECRET_KEY_LENGTH} characters long")
        return key
    if environment == "production":
        raise ConfigError(
            "SECRET_KEY: required in production "
            "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    if environment == "test":
        return secrets.token_urlsafe(48)
    # Development: generate once, keep it under instance/ so sessions survive restarts.
    path = instance_path / SECRET_KEY_FILE
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    return key


def settings_from_env(env: Mapping[str, str], instance_path: Path) -> dict[str, Any]:
    """Build the Flask config mapping from environment variables; raise ConfigError on bad input."""
    environment = env.get("SIPAS_ENV", "development").strip().lower() or "development"
    if environment not in ENVIRONMENTS:
        raise ConfigError(f"SIPAS_ENV: expected one of {', '.join(ENVIRONMENTS)}, got {environment!r}")
    production = environment == "production"

    raw_db = env.get("SIPAS_DATABASE_URL", "")
    if raw_db:
        db_url = database_url(raw_db)
    elif production:
        raise ConfigError("SIPAS_DATABASE_URL: required in production (e.g. postgresql://sipas@db-host/sipas)")
    else:
        db_url = f"sqlite:///{instance_path / 'sipas.db'}"

    default_base = "" if production else f"http://127.0.0.1:{env.get('PORT', '8000')}"
    raw_base = env.get("SIPAS_BASE_URL", default_base)
    if not raw_base:
        raise ConfigError("SIPAS_BASE_URL: required in production; it is the address printed in every QR code")
    base_url = _base_url(raw_base, production)

    redis_url = env.get("SIPAS_REDIS_URL", "").strip() or None
    if redis_url and urlsplit(redis_url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(f"SIPAS_REDIS_URL: expected redis://host:port/db, got {redis_url!r}")

    locale = env.get("SIPAS_DEFAULT_LOCALE", "vi").strip()
    if locale not in LOCALES:
        raise ConfigError(f"SIPAS_DEFAULT_LOCALE: expected one of {', '.join(LOCALES)}, got {locale!r}")

    tz_name = env.get("SIPAS_TIMEZONE", "Asia/Ho_Chi_Minh").strip()
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"SIPAS_TIMEZONE: unknown time zone {tz_name!r}") from None

    submit_limit = _rate_limit(env, "SIPAS_SUBMIT_RATE_LIMIT", "30 per minute")
    counter_limit = _rate_limit(env, "SIPAS_COUNTER_RATE_LIMIT", "20 per minute")
    kiosk_limit = _rate_limit(env, "SIPAS_KIOSK_RATE_LIMIT", "10 per minute")
    sign_in_limit = _rate_limit(env, "SIPAS_SIGN_IN_RATE_LIMIT", "10 per minute")
    api_limit = _rate_limit(env, "SIPAS_API_RATE_LIMIT", "120 per minute")

    # Web exports (ZIP bundles) are kept here for 7 days; every app node must share it.
    export_dir = env.get("SIPAS_EXPORT_DIR", "").strip() or str(instance_path / "exports")
    # With Redis, web exports go on this RQ queue (``flask export-worker`` runs them); without, a local thread.
    export_queue = env.get("SIPAS_EXPORT_QUEUE", "").strip() or "sipas-exports"
    if not all(c.isascii() and (c.isalnum() or c in "-_") for c in export_queue):
        raise ConfigError(f"SIPAS_EXPORT_QUEUE: expected letters, digits, '-' or '_', got {export_queue!r}")

    smtp_url = _smtp_url(env.get("SIPAS_SMTP_URL", "").strip())
    mail_from = env.get("SIPAS_MAIL_FROM", "").strip() or f"SIPAS <no-reply@{urlsplit(base_url).hostname}>"

    secure_cookies = urlsplit(base_url).scheme == "https"
    return {
        "ENV_NAME": environment,
        "TESTING": environment == "test",
        "SECRET_KEY": _secret_key(env, environment, instance_path),
        "DATABASE_URL": db_url,
        "BASE_URL": base_url,
        #: Neither SIPAS_BASE_URL nor PORT was set: BASE_URL is the development guess http://127.0.0.1:8000,
        #: which ``flask list-counters`` run on its own says (the server may run elsewhere).
        "BASE_URL_GUESSED": not env.get("SIPAS_BASE_URL") and not env.get("PORT"),
        "REDIS_URL": redis_url,
        "DEFAULT_LOCALE": locale,
        "TIMEZONE": tz_name,
        "PROXY_HOPS": _int(env, "SIPAS_PROXY_HOPS", 0),
        "LOG_LEVEL": _log_level(env),
        "SHOW_COUNTER_DIRECTORY": _flag(env, "SIPAS_SHOW_COUNTER_DIRECTORY", default=not production),
        "SUBMIT_RATE_LIMIT": submit_limit,
        "INDEX_CACHE_SECONDS": _int(env, "SIPAS_INDEX_CACHE_SECONDS", 60),
        #: Seconds a SQLite writer waits for its turn before the request answers 503 with Retry-After (0: no limit).
        "WRITER_QUEUE_TIMEOUT": _int(env, "SIPAS_WRITER_QUEUE_TIMEOUT", 10),
        #: A Server-Timing header on pages that used the index report cache (hit, stale or miss): benchmarks.
        "SERVER_TIMING": _flag(env, "SIPAS_SERVER_TIMING", default=False),
        "COUNTER_RATE_LIMIT": counter_limit,
        "BURST_WINDOW_SECONDS": _int(env, "SIPAS_BURST_WINDOW_SECONDS", 300, minimum=1),
        "BURST_THRESHOLD": _int(env, "SIPAS_BURST_THRESHOLD", 10, minimum=2),
        #: Submissions per counter tablet (kiosk link), whatever its address: one tablet serves many citizens.
        "KIOSK_RATE_LIMIT": kiosk_limit,
        #: A tablet's own burst rule: this many of its responses within the window are flagged for review.
        "KIOSK_BURST_WINDOW_SECONDS": _int(env, "SIPAS_KIOSK_BURST_WINDOW_SECONDS", 120, minimum=1),
        "KIOSK_BURST_THRESHOLD": _int(env, "SIPAS_KIOSK_BURST_THRESHOLD", 4, minimum=2),
        "SIGN_IN_RATE_LIMIT": sign_in_limit,
        #: Requests per API token (``/api/v1``).
        "API_RATE_LIMIT": api_limit,
        "LOCKOUT_THRESHOLD": _int(env, "SIPAS_LOCKOUT_THRESHOLD", 5, minimum=1),
        "LOCKOUT_MINUTES": _int(env, "SIPAS_LOCKOUT_MINUTES", 15, minimum=1),
        "EXPORT_DIR": export_dir,
        "EXPORT_QUEUE": export_queue,
        #: Seconds one queued export may run before the worker stops it (1M rows as .sav take about 2 minutes).
        "EXPORT_JOB_TIMEOUT": _int(env, "SIPAS_EXPORT_JOB_TIMEOUT", 2 * 60 * 60, minimum=10),
        #: Times a queued export is started again after its worker died (killed, out of memory, machine lost).
        "EXPORT_RETRIES": _int(env, "SIPAS_EXPORT_RETRIES", 1),
        # Flask and extension settings derived from the above.
        "BABEL_DEFAULT_LOCALE": locale,
        "BABEL_DEFAULT_TIMEZONE": tz_name,
        "SESSION_COOKIE_NAME": "sipas_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": secure_cookies,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": 60 * 60 * 8,
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        # A phone left open at the counter must not lose its answers to an expired token.
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_ENABLED": True,
        # Request bodies above this get a 413 page; the volume import and API may need more than a survey form.
        "MAX_CONTENT_LENGTH": _int(env, "SIPAS_MAX_CONTENT_LENGTH", 2 * 1024 * 1024, minimum=1024),
        #: Comments older than this many days are blanked by ``flask purge-comments`` (responses stay).
        "COMMENT_RETENTION_DAYS": _int(env, "SIPAS_COMMENT_RETENTION_DAYS", 730, minimum=1),
        #: Seconds a client is told to wait (Retry-After) when the database is unreachable.
        "OUTAGE_RETRY_AFTER": _int(env, "SIPAS_OUTAGE_RETRY_AFTER", 30, minimum=1),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        # Several deployments (or test runs) may share one Redis: their limit keys must not meet.
        "RATELIMIT_KEY_PREFIX": env.get("SIPAS_RATELIMIT_KEY_PREFIX", "sipas").strip(),
        # Redis down: serve without limits rather than fail every page (/readyz reports it).
        "RATELIMIT_SWALLOW_ERRORS": True,
        # Only Retry-After, on 429 answers (survey/errors.py): the X-RateLimit-* headers cost every request.
        "RATELIMIT_HEADERS_ENABLED": False,
        "RATELIMIT_ENABLED": True,
        #: Managers' mail (alerts, digests): smtp://, smtp+starttls:// or smtps://[user:password@]host:port.
        "SMTP_URL": smtp_url,
        "MAIL_FROM": mail_from,
    }

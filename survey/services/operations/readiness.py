"""Readiness: may this node take traffic? Its database is reachable and migrated; its Redis answers."""

from __future__ import annotations

from typing import Any

import redis

from survey.services.operations.health import database_status

#: A probe must answer quickly even when Redis is black-holed.
REDIS_TIMEOUT_SECONDS = 1.0


def redis_status(url: str | None) -> dict[str, str]:
    """'ok', 'not configured' (no SIPAS_REDIS_URL: limits live in process memory), or 'error' with the class."""
    if not url:
        return {"status": "not configured"}
    client = redis.Redis.from_url(
        url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        return {"status": "error", "error": type(exc).__name__}
    finally:
        client.close()
    return {"status": "ok"}


def readiness(redis_url: str | None) -> tuple[bool, dict[str, Any]]:
    """Whether the node is ready, and the JSON body saying why (never a URL or an error message)."""
    database = database_status()
    cache = redis_status(redis_url)
    ready = database["status"] == "ok" and cache["status"] != "error"
    return ready, {"status": "ok" if ready else "error", "database": database, "redis": cache}

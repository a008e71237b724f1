"""Index reports shared by dashboard pages, workers and nodes, served stale while they are recomputed.

Every agency page of a province needs the province-wide report (for the comparison with the province),
and its cost grows with counter-days × criteria, not with the page. A report is fresh for
``INDEX_CACHE_SECONDS`` (each says when it was computed); for :data:`STALE_FACTOR` times as long again
it is still served, once, while a background thread of the worker that met it recomputes it
(stale-while-revalidate), so a reader waits for a computation only when no report exists at all.

With ``SIPAS_REDIS_URL`` set, reports live in Redis, shared by every worker and node (signed with the
app's secret key, so a process only ever unpickles what one of its own kind wrote), with a per-process
copy in front; one worker in the deployment recomputes a stale report (a short Redis lock). Without
Redis each process keeps its own. :func:`invalidate` (an exclusion, a rebuild, a volume import) moves
every process on at once: it bumps a generation number the reports are filed under (in Redis, else in
this process only, as before). 0 seconds switches the cache off: every request computes.

With ``SIPAS_SERVER_TIMING`` on, a page that used the cache says how in a ``Server-Timing`` header
(``indices;desc=hit|stale|miss``, and the worker's process id), for the dashboard benchmark.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import pickle
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import redis
from cachetools import TTLCache
from flask import Flask, after_this_request, current_app, g, has_request_context
from flask import Response as FlaskResponse
from sqlalchemy.orm import Session

from survey.services.statistics.indices import IndexQuery, IndexReport, compute_indices

log = logging.getLogger(__name__)

MAX_REPORTS = 64
#: A report is served stale (and recomputed in the background) for this many times its fresh time.
STALE_FACTOR = 10
PREFIX = "sipas:indices:"
GENERATION_KEY = PREFIX + "generation"
#: Seconds one worker holds the right to recompute a stale report (others keep serving it meanwhile).
REFRESH_LOCK_SECONDS = 120
_REDIS_TIMEOUT = 1.0

_lock = threading.Lock()
_caches: dict[int, TTLCache[Hashable, _Entry]] = {}
#: Other caches of figures derived from the tallies (e.g. dashboard breakdowns), cleared with this one.
_dependents: list[Callable[[], None]] = []
_refreshing: set[tuple[int, Hashable]] = set()
_local_generation = 0
_seen_generation: int | None = None
_clients: dict[str, redis.Redis] = {}


@dataclass(frozen=True)
class _Entry:
    report: IndexReport
    fresh_until: float


def clear_with_reports(clear: Callable[[], None]) -> None:
    """Have :func:`invalidate` (and a generation change seen from another process) also call ``clear``."""
    if clear not in _dependents:
        _dependents.append(clear)


def _key(query: IndexQuery) -> Hashable:
    agencies = None if query.agency_ids is None else tuple(sorted(int(a) for a in query.agency_ids))
    return (
        query.instrument_id,
        query.date_from,
        query.date_to,
        agencies,
        query.weighted,
        query.include_total,
        query.level,
    )


class _Shared:
    """The reports in Redis: signed pickles filed under the generation number."""

    def __init__(self, client: redis.Redis, secret: bytes) -> None:
        self.client, self.secret = client, secret

    def _name(self, generation: int, key: Hashable) -> str:
        return f"{PREFIX}{generation}:{hashlib.sha256(repr(key).encode()).hexdigest()}"

    def generation(self) -> int:
        value = self.client.get(GENERATION_KEY)
        return int(value) if value is not None else 0

    def get(self, generation: int, key: Hashable) -> _Entry | None:
        blob = self.client.get(self._name(generation, key))
        if not isinstance(blob, bytes) or len(blob) < 32:
            return None
        mac, payload = blob[:32], blob[32:]
        if not hmac.compare_digest(mac, hmac.new(self.secret, payload, hashlib.sha256).digest()):
            log.warning("an index report in Redis has a bad signature; it is ignored")
            return None
        entry = pickle.loads(payload)  # noqa: S301 - signed above with the app's secret key
        return entry if isinstance(entry, _Entry) else None

    def put(self, generation: int, key: Hashable, entry: _Entry, keep_seconds: int) -> None:
        payload = pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)
        mac = hmac.new(self.secret, payload, hashlib.sha256).digest()
        self.client.set(self._name(generation, key), mac + payload, ex=max(1, keep_seconds))

    def claim_refresh(self, generation: int, key: Hashable) -> bool:
        return bool(
            self.client.set(self._name(generation, key) + ":refresh", os.getpid(), nx=True, ex=REFRESH_LOCK_SECONDS)
        )

    def release_refresh(self, generation: int, key: Hashable) -> None:
        self.client.delete(self._name(generation, key) + ":refresh")

    def bump(self) -> None:
        self.client.incr(GENERATION_KEY)


def _shared(app: Flask) -> _Shared | None:
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    client = _clients.get(url)
    if client is None:
        client = _clients[url] = redis.Redis.from_url(
            url, socket_connect_timeout=_REDIS_TIMEOUT, socket_timeout=_REDIS_TIMEOUT
        )
    return _Shared(client, str(app.config["SECRET_KEY"]).encode())


def _forget_local() -> None:
    with _lock:
        for cache in _caches.values():
            cache.clear()
    for clear in _dependents:
        clear()


def _generation(shared: _Shared | None) -> int:
    """The current generation; on a change made by another process, this process's copies are dropped."""
    global _seen_generation
    if shared is None:
        return _local_generation
    generation = shared.generation()
    if _seen_generation is not None and generation != _seen_generation:
        _forget_local()
    _seen_generation = generation
    return generation


def _say(status: str, started: float) -> None:
    """Record how this request met the cache (the worst of its reports), for the Server-Timing header."""
    if not has_request_context() or not current_app.config.get("SERVER_TIMING"):
        return
    order = ("hit", "stale", "miss")
    previous = g.get("sipas_index_cache")
    if previous is None:
        g.sipas_index_cache = [status, 0.0]

        @after_this_request
        def header(response: FlaskResponse) -> FlaskResponse:
            status, seconds = g.sipas_index_cache
            response.headers.add(
                "Server-Timing", f'indices;desc="{status}";dur={seconds * 1000:.1f}, worker;desc="{os.getpid()}"'
            )
            return response

    elif order.index(status) > order.index(previous[0]):
        previous[0] = status
    g.sipas_index_cache[1] += time.perf_counter() - started


def _keep(ttl_seconds: int) -> int:
    return ttl_seconds * (1 + STALE_FACTOR)


def _local(ttl_seconds: int) -> TTLCache[Hashable, _Entry]:
    cache = _caches.get(ttl_seconds)
    if cache is None:
        cache = _caches[ttl_seconds] = TTLCache(maxsize=MAX_REPORTS, ttl=_keep(ttl_seconds))
    return cache


def _store(shared: _Shared | None, generation: int, key: Hashable, entry: _Entry, ttl_seconds: int) -> None:
    with _lock:
        _local(ttl_seconds)[(generation, key)] = entry
    if shared is not None:
        try:
            shared.put(generation, key, entry, _keep(ttl_seconds))
        except (redis.RedisError, pickle.PicklingError, TypeError) as exc:
            log.warning("could not share an index report in Redis: %s", type(exc).__name__)


def _refresh(app: Flask, query: IndexQuery, key: Hashable, generation: int, ttl_seconds: int) -> None:
    """Recompute a stale report in the background (its own app context, session and connection)."""
    from survey.db import db

    shared = None
    try:
        with app.app_context():
            shared = _shared(app)
            try:
                report = compute_indices(db.session, query)
            finally:
                db.session.rollback()
            if generation == _generation(shared):  # not invalidated meanwhile
                _store(shared, generation, key, _Entry(report, time.time() + ttl_seconds), ttl_seconds)
    except LookupError:  # no data any more (e.g. every response excluded): the next reader is told so
        pass
    except Exception:  # the stale report stays until it expires; the next miss computes in the request
        log.exception("background recomputation of an index report failed")
    finally:
        with _lock:
            _refreshing.discard((generation, key))
        if shared is not None:
            try:
                shared.release_refresh(generation, key)
            except redis.RedisError:
                pass


def _revalidate(shared: _Shared | None, query: IndexQuery, key: Hashable, generation: int, ttl_seconds: int) -> None:
    with _lock:
        if (generation, key) in _refreshing:
            return
        _refreshing.add((generation, key))
    try:
        claimed = shared is None or shared.claim_refresh(generation, key)
    except redis.RedisError:
        claimed = True
    if not claimed:  # another worker or node is on it
        with _lock:
            _refreshing.discard((generation, key))
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's own app, for the thread
    threading.Thread(
        target=_refresh, args=(app, query, key, generation, ttl_seconds), name="sipas-index-refresh", daemon=True
    ).start()


def cached_indices(session: Session, query: IndexQuery, ttl_seconds: int) -> IndexReport:
    """The report for ``query``: fresh from the cache; stale from it while it is recomputed in the
    background; else computed now (and shared)."""
    started = time.perf_counter()
    if ttl_seconds <= 0:
        report = compute_indices(session, query)
        _say("miss", started)
        return report
    key = _key(query)
    shared = _shared(current_app)
    try:
        generation = _generation(shared)
    except redis.RedisError as exc:
        log.warning("Redis unavailable for index reports (%s): this process keeps its own", type(exc).__name__)
        shared, generation = None, _local_generation
    with _lock:
        entry = _local(ttl_seconds).get((generation, key))
    now = time.time()
    if (entry is None or entry.fresh_until <= now) and shared is not None:
        try:
            found = shared.get(generation, key)
        except (redis.RedisError, pickle.UnpicklingError, EOFError, AttributeError) as exc:
            log.warning("could not read an index report from Redis: %s", type(exc).__name__)
            found = None
        if found is not None and (entry is None or found.fresh_until > entry.fresh_until):
            entry = found
            with _lock:
                _local(ttl_seconds)[(generation, key)] = entry
    if entry is not None and entry.fresh_until > now:
        _say("hit", started)
        return entry.report
    if entry is not None:
        _revalidate(shared, query, key, generation, ttl_seconds)
        _say("stale", started)
        return entry.report
    report = compute_indices(session, query)
    _store(shared, generation, key, _Entry(report, time.time() + ttl_seconds), ttl_seconds)
    _say("miss", started)
    return report


def invalidate() -> None:
    """Forget every cached report: in every process sharing Redis, else in this process (after an
    exclusion, a tally rebuild or a volume import)."""
    global _local_generation
    with _lock:
        _local_generation += 1
    _forget_local()
    try:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
    except RuntimeError:  # no app context: only this process's copies
        return
    shared = _shared(app)
    if shared is not None:
        try:
            shared.bump()
        except redis.RedisError as exc:
            log.warning(
                "could not invalidate the shared index reports (%s): they expire on their own", type(exc).__name__
            )

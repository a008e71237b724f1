"""The index report cache: shared through Redis, invalidated everywhere at once, stale while revalidated."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis
from flask import Flask

from survey.db import db
from survey.services.statistics import index_cache
from survey.services.statistics.indices import IndexQuery, compute_indices

REDIS_URL = "redis://127.0.0.1:6379/13"
QUERY = IndexQuery(1, dt.date(2026, 1, 1), dt.date(2026, 3, 31), (3, 1, 2))


@dataclass(frozen=True)
class FakeReport:
    number: int


class Computations:
    def __init__(self) -> None:
        self.calls = 0
        self.release = threading.Event()
        self.release.set()

    def __call__(self, session: object, query: IndexQuery) -> FakeReport:
        self.release.wait(10)
        self.calls += 1
        return FakeReport(self.calls)


@pytest.fixture
def computations(monkeypatch: pytest.MonkeyPatch) -> Iterator[Computations]:
    fake = Computations()
    monkeypatch.setattr(index_cache, "compute_indices", fake)
    yield fake
    index_cache._forget_local()


@pytest.fixture
def prefix(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Keys of this test only (deleted afterwards): other users of the Redis database are left alone."""
    name = f"sipas-test:{secrets.token_hex(4)}:indices:"
    monkeypatch.setattr(index_cache, "PREFIX", name)
    monkeypatch.setattr(index_cache, "GENERATION_KEY", name + "generation")
    monkeypatch.setattr(index_cache, "_seen_generation", None)
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=name + "*"))
    if keys:
        client.delete(*keys)


def _app(redis_url: str | None, **config: object) -> Flask:
    app = Flask(__name__)
    app.config.update({"REDIS_URL": redis_url, "SECRET_KEY": "k" * 32, "SERVER_TIMING": False, **config})
    return app


def _forget_this_process() -> None:
    """What another worker sees: nothing in its own memory."""
    index_cache._forget_local()


def test_a_fresh_report_is_computed_once_and_shared_with_other_processes(computations, prefix) -> None:  # type: ignore[no-untyped-def]
    with _app(REDIS_URL).app_context():
        first = index_cache.cached_indices(db.session, QUERY, 60)
        assert index_cache.cached_indices(db.session, QUERY, 60) == first
        _forget_this_process()
        assert index_cache.cached_indices(db.session, QUERY, 60) == first  # from Redis, not computed again
        assert computations.calls == 1
        other = IndexQuery(1, dt.date(2026, 1, 1), dt.date(2026, 3, 31), (1, 2))
        assert index_cache.cached_indices(db.session, other, 60) != first
        assert computations.calls == 2


def test_the_agency_order_does_not_make_another_report(computations, prefix) -> None:  # type: ignore[no-untyped-def]
    with _app(REDIS_URL).app_context():
        index_cache.cached_indices(db.session, QUERY, 60)
        index_cache.cached_indices(db.session, IndexQuery(1, QUERY.date_from, QUERY.date_to, (1, 2, 3)), 60)
        assert computations.calls == 1


def test_invalidate_reaches_every_process_through_redis(computations, prefix) -> None:  # type: ignore[no-untyped-def]
    with _app(REDIS_URL).app_context():
        index_cache.cached_indices(db.session, QUERY, 60)
        index_cache.invalidate()  # e.g. flask rebuild-stats, in its own process
        assert index_cache.cached_indices(db.session, QUERY, 60) == FakeReport(2)
        # Another process bumps the generation: this one drops its own copy and computes afresh.
        redis.Redis.from_url(REDIS_URL).incr(prefix + "generation")
        assert index_cache.cached_indices(db.session, QUERY, 60) == FakeReport(3)


def test_a_stale_report_is_served_while_one_background_computation_replaces_it(computations, prefix) -> None:  # type: ignore[no-untyped-def]
    app = _app(REDIS_URL)
    with app.app_context():
        shared = index_cache._shared(app)
        generation = index_cache._generation(shared)
        key = index_cache._key(QUERY)
        index_cache._store(shared, generation, key, index_cache._Entry(FakeReport(0), 0.0), 60)  # long stale
        computations.release.clear()  # the background computation waits until released
        assert index_cache.cached_indices(db.session, QUERY, 60) == FakeReport(0)  # served at once
        assert index_cache.cached_indices(db.session, QUERY, 60) == FakeReport(0)  # still; no second computation
        computations.release.set()
        for thread in threading.enumerate():
            if thread.name == "sipas-index-refresh":
                thread.join(10)
        assert computations.calls == 1
        assert index_cache.cached_indices(db.session, QUERY, 60) == FakeReport(1)
        _forget_this_process()
        assert index_cache.cached_indices(db.session, QUERY, 60) == FakeReport(1)  # shared, fresh
        assert computations.calls == 1


def test_a_report_with_a_bad_signature_is_not_trusted(computations, prefix) -> None:  # type: ignore[no-untyped-def]
    app = _app(REDIS_URL)
    with app.app_context():
        index_cache.cached_indices(db.session, QUERY, 60)
        _forget_this_process()
        forged = index_cache._Shared(redis.Redis.from_url(REDIS_URL), b"not the app's secret key")
        forged.put(0, index_cache._key(QUERY), index_cache._Entry(FakeReport(99), 1e12), 60)
        assert index_cache.cached_indices(db.session, QUERY, 60) == FakeReport(2)


def test_without_redis_each_process_keeps_its_own_and_zero_switches_it_off(computations) -> None:  # type: ignore[no-untyped-def]
    with _app(None).app_context():
        index_cache.cached_indices(db.session, QUERY, 60)
        index_cache.cached_indices(db.session, QUERY, 60)
        assert computations.calls == 1
        index_cache.invalidate()
        index_cache.cached_indices(db.session, QUERY, 60)
        assert computations.calls == 2
        index_cache.cached_indices(db.session, QUERY, 0)
        index_cache.cached_indices(db.session, QUERY, 0)
        assert computations.calls == 4


def test_an_unreachable_redis_falls_back_to_this_process(computations) -> None:  # type: ignore[no-untyped-def]
    with _app("redis://127.0.0.1:1/0").app_context():
        assert index_cache.cached_indices(db.session, QUERY, 60) == FakeReport(1)
        assert index_cache.cached_indices(db.session, QUERY, 60) == FakeReport(1)


def test_the_server_timing_header_says_how_the_page_met_the_cache(computations) -> None:  # type: ignore[no-untyped-def]
    app = _app(None, SERVER_TIMING=True)

    @app.get("/page")
    def page() -> str:
        index_cache.cached_indices(db.session, QUERY, 60)
        return "ok"

    client = app.test_client()
    assert 'indices;desc="miss"' in client.get("/page").headers["Server-Timing"]
    assert 'indices;desc="hit"' in client.get("/page").headers["Server-Timing"]
    app.config["SERVER_TIMING"] = False
    assert "Server-Timing" not in client.get("/page").headers


def test_a_real_report_travels_through_redis_unchanged(demo, app, prefix) -> None:  # type: ignore[no-untyped-def]
    from survey.models import Agency

    ids = [a.id for a in db.session.query(Agency).filter(Agency.kind != "province")]
    query = IndexQuery(demo_instrument_id(), dt.date(2025, 11, 1), dt.date(2026, 10, 31), ids)
    report = compute_indices(db.session, query)
    shared = index_cache._Shared(redis.Redis.from_url(REDIS_URL), b"k" * 32)
    shared.put(0, index_cache._key(query), index_cache._Entry(report, 1e12), 60)
    back = shared.get(0, index_cache._key(query))
    assert back is not None
    assert back.report.get(index_cache_total(), "overall") == report.get(index_cache_total(), "overall")
    assert back.report.notes == report.notes and back.report.computed_at == report.computed_at


def demo_instrument_id() -> int:
    from sqlalchemy import select

    from survey.models import Instrument

    found = db.session.scalar(select(Instrument.id).where(Instrument.code == "sipas-2017").order_by(Instrument.id))
    assert found is not None
    return found


def index_cache_total() -> int:
    from survey.services.statistics.indices import TOTAL

    return TOTAL

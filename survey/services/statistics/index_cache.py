"""A short-lived, per-process cache of index reports, so dashboard pages share one province computation.

Every agency page of a province needs the province-wide report (for the comparison with the province),
and its cost grows with counter-days × criteria, not with the page. Reports are kept for
``INDEX_CACHE_SECONDS`` (each says when it was computed); an exclusion clears this process's cache
at once, and other processes catch up within that time. 0 switches the cache off.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

from cachetools import TTLCache
from sqlalchemy.orm import Session

from survey.services.statistics.indices import IndexQuery, IndexReport, compute_indices

MAX_REPORTS = 64

_lock = threading.Lock()
_caches: dict[int, TTLCache[Hashable, IndexReport]] = {}
#: Other caches of figures derived from the tallies (e.g. dashboard breakdowns), cleared with this one.
_dependents: list[Callable[[], None]] = []


def clear_with_reports(clear: Callable[[], None]) -> None:
    """Have :func:`invalidate` also call ``clear`` (a cache of figures derived from the same tallies)."""
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


def cached_indices(session: Session, query: IndexQuery, ttl_seconds: int) -> IndexReport:
    """The report for ``query``: from the cache when computed less than ``ttl_seconds`` ago."""
    if ttl_seconds <= 0:
        return compute_indices(session, query)
    key = _key(query)
    with _lock:
        cache = _caches.setdefault(ttl_seconds, TTLCache(maxsize=MAX_REPORTS, ttl=ttl_seconds))
        report = cache.get(key)
    if report is not None:
        return report
    report = compute_indices(session, query)
    with _lock:
        cache[key] = report
    return report


def invalidate() -> None:
    """Forget every cached report in this process (after an exclusion or a tally rebuild)."""
    with _lock:
        for cache in _caches.values():
            cache.clear()
    for clear in _dependents:
        clear()

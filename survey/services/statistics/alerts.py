"""Honest alerts: which series of a province dropped from one month to the next, with the false alarms bounded.

Every month each series of a province — the province as a whole, each agency, each counter (overall index),
and each agency's criteria (elements) — is compared with its previous month. Months are disjoint samples
(PSUs are counter-days), so the difference is :func:`~survey.services.statistics.dashboard.independent_difference`,
the dashboard's own, from the same index reports (:func:`dashboard._indices`) and counter breakdowns
(:func:`~survey.services.statistics.breakdowns.breakdown`). A suppressed figure (a flag with ``suppress=True``)
is neither tested nor alerted. The two-sided p-values of every series tested in the province that month
form one family; Benjamini–Hochberg (``analytics.comparisons.benjamini_hochberg``) keeps the expected share
of false alerts among the alerts at most :data:`FDR_Q`, and an alert is a *drop* whose adjusted value is at
most :data:`FDR_Q`. The dashboard tables keep their own Bonferroni verdicts; the two answer different
questions (is this one difference real; which of many series deserve a look).

Storing is idempotent: :func:`store_alerts` updates the rows of a province-month in place by series key, so
running ``flask compute-alerts`` again changes nothing that was already right, and an alert already mailed
keeps its ``notified_at``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from analytics import Estimate
from analytics.comparisons import benjamini_hochberg
from survey.auth import Scope
from survey.db import db, utcnow
from survey.models import Agency, Alert, AlertRun, Counter, Instrument
from survey.services.administration.scope_queries import in_scope
from survey.services.statistics.breakdowns import breakdown
from survey.services.statistics.dashboard import (
    Comparison,
    _get,
    _indices,
    agency_subtree_ids,
    independent_difference,
    instruments_in_use,
    period_containing,
    province_of,
)
from survey.services.statistics.indices import TOTAL, IndexQuery

#: The false discovery rate Benjamini–Hochberg controls across a province's series of a month.
FDR_Q = 0.05


@dataclass(frozen=True)
class SeriesTest:
    """One series compared with its previous month (only series with two presented figures are tested)."""

    instrument_id: int
    series_key: str
    agency_id: int
    counter_id: int | None
    target: str
    share: float
    previous_share: float
    delta: float
    ci: tuple[float, float]
    p_value: float


@dataclass(frozen=True)
class AlertSummary:
    province_id: int
    month: dt.date
    tested: int
    alerts: int
    new_alerts: int


def _test(
    instrument_id: int,
    key: str,
    agency_id: int,
    counter_id: int | None,
    target: str,
    now: Estimate | None,
    before: Estimate | None,
) -> SeriesTest | None:
    if now is None or before is None or now.suppressed or before.suppressed:
        return None
    c: Comparison = independent_difference(now, before)
    if c.unavailable is not None or c.delta is None or c.ci is None or c.p_value is None:
        return None
    if not math.isfinite(c.p_value):
        return None
    return SeriesTest(
        instrument_id, key, agency_id, counter_id, target, now.estimate, before.estimate, c.delta, c.ci, c.p_value
    )


def province_series(session: Session, province: Agency, month: dt.date) -> list[SeriesTest]:
    """Every testable series of the province for ``month`` (any day of it) against the month before."""
    period = period_containing("month", month)
    previous = period.previous()
    ids = agency_subtree_ids(session, province)
    out: list[SeriesTest] = []
    for choice in instruments_in_use(session, ids, period):
        instrument = session.get(Instrument, choice.id)
        assert instrument is not None
        targets = ["overall"] + [e.code for e in instrument.elements]
        report, _ = _indices(session, IndexQuery(choice.id, period.start, period.end, agency_ids=ids))
        before, _ = _indices(session, IndexQuery(choice.id, previous.start, previous.end, agency_ids=ids))
        if report is None or before is None:
            continue
        domains = [(TOTAL, "total", province.id)] + [(a, f"agency:{a}", a) for a in ids]
        for domain, prefix, agency_id in domains:
            for target in targets:
                test = _test(
                    choice.id,
                    f"{prefix}:{target}",
                    agency_id,
                    None,
                    target,
                    _get(report, domain, target, "share"),
                    _get(before, domain, target, "share"),
                )
                if test is not None:
                    out.append(test)
        for agency_id in ids:
            now_rows = breakdown(session, [agency_id], choice.id, period, "vi").counters
            if not now_rows:
                continue
            before_rows = {r.key: r for r in breakdown(session, [agency_id], choice.id, previous, "vi").counters}
            for row in now_rows:
                if row.key == 0 or row.key not in before_rows:
                    continue
                test = _test(
                    choice.id,
                    f"counter:{row.key}:overall",
                    agency_id,
                    row.key,
                    "overall",
                    row.share,
                    before_rows[row.key].share,
                )
                if test is not None:
                    out.append(test)
    return out


def significant_drops(tests: Sequence[SeriesTest], q: float = FDR_Q) -> list[tuple[SeriesTest, float]]:
    """The drops whose Benjamini–Hochberg adjusted p-value (over every test given) is at most ``q``."""
    if not tests:
        return []
    adjusted = benjamini_hochberg([t.p_value for t in tests])
    return [(t, float(a)) for t, a in zip(tests, adjusted, strict=True) if a <= q and t.delta < 0]


def provinces(session: Session) -> list[Agency]:
    """Every province (or ministry): the agencies at the top of a hierarchy."""
    return list(session.scalars(select(Agency).where(Agency.parent_id.is_(None)).order_by(Agency.code)))


def compute_alerts(session: Session, province: Agency, month: dt.date) -> AlertSummary:
    """Test the province's series for ``month`` and store the alerts (reads with ``session``, writes on its own)."""
    first = month.replace(day=1)
    tests = province_series(session, province, first)
    drops = significant_drops(tests)
    session.rollback()  # end the read transaction before the write one (SQLite's writer queue)
    return store_alerts(province.id, first, len(tests), drops)


def store_alerts(
    province_id: int, month: dt.date, tested: int, drops: Sequence[tuple[SeriesTest, float]]
) -> AlertSummary:
    """Replace the province-month's alerts by ``drops``, keeping rows (and their ``notified_at``) that remain."""
    with db.write() as session:
        existing = {
            (a.instrument_id, a.series_key): a
            for a in session.scalars(select(Alert).where(Alert.province_id == province_id, Alert.month == month))
        }
        wanted = {(t.instrument_id, t.series_key) for t, _ in drops}
        new = 0
        for test, q_value in drops:
            alert = existing.get((test.instrument_id, test.series_key))
            if alert is None:
                alert = Alert(
                    province_id=province_id,
                    month=month,
                    instrument_id=test.instrument_id,
                    series_key=test.series_key,
                    created_at=utcnow(),
                )
                session.add(alert)
                new += 1
            alert.agency_id, alert.counter_id, alert.target = test.agency_id, test.counter_id, test.target
            alert.share, alert.previous_share, alert.delta = test.share, test.previous_share, test.delta
            alert.ci_low, alert.ci_high = test.ci
            alert.p_value, alert.q_value = test.p_value, q_value
        stale = [a.id for key, a in existing.items() if key not in wanted]
        if stale:
            session.execute(delete(Alert).where(Alert.id.in_(stale)))
        run = session.get(AlertRun, (province_id, month))
        if run is None:
            run = AlertRun(province_id=province_id, month=month)
            session.add(run)
        run.computed_at, run.series_tested, run.alerts = utcnow(), tested, len(drops)
    return AlertSummary(province_id, month, tested, len(drops), new)


# -- reading -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertRow:
    alert: Alert
    agency_name: str
    counter_name: str | None
    target_label: str
    instrument_label: str
    is_total: bool


@dataclass(frozen=True)
class AlertListing:
    month: dt.date | None
    months: list[dt.date]
    run: AlertRun | None
    rows: list[AlertRow]


def alert_rows(session: Session, alerts: Sequence[Alert], locale: str) -> list[AlertRow]:
    """Alerts with the names a reader needs (agency, counter, criterion, questionnaire)."""
    agencies = {a.id: a for a in session.scalars(select(Agency).where(Agency.id.in_({x.agency_id for x in alerts})))}
    counter_ids = {x.counter_id for x in alerts if x.counter_id is not None}
    counters = {c.id: c for c in session.scalars(select(Counter).where(Counter.id.in_(counter_ids)))}
    instruments = {
        i.id: i for i in session.scalars(select(Instrument).where(Instrument.id.in_({x.instrument_id for x in alerts})))
    }
    out = []
    for x in alerts:
        instrument = instruments[x.instrument_id]
        labels = {e.code: e.name(locale) for e in instrument.elements}
        counter = counters.get(x.counter_id) if x.counter_id is not None else None
        out.append(
            AlertRow(
                alert=x,
                agency_name=agencies[x.agency_id].name(locale),
                counter_name=counter.name(locale) if counter is not None else None,
                target_label=labels.get(x.target, x.target),
                instrument_label=instrument.label,
                is_total=x.series_key.startswith("total:"),
            )
        )
    return out


def agency_alerts(session: Session, agency: Agency, allowed: Scope, month: dt.date | None, locale: str) -> AlertListing:
    """The alerts about ``agency`` and the agencies below it that ``allowed`` covers, for ``month`` (default:
    the latest month computed for its province)."""
    province = province_of(session, agency)
    ids = agency_subtree_ids(session, agency)
    months = list(
        session.scalars(
            select(AlertRun.month).where(AlertRun.province_id == province.id).order_by(AlertRun.month.desc()).limit(24)
        )
    )
    chosen = month.replace(day=1) if month is not None else (months[0] if months else None)
    if chosen is None:
        return AlertListing(None, months, None, [])
    run = session.get(AlertRun, (province.id, chosen))
    where = [Alert.province_id == province.id, Alert.month == chosen, Alert.agency_id.in_(ids)]
    where += in_scope(Alert.agency_id, allowed)
    if agency.id != province.id:
        where.append(~Alert.series_key.startswith("total:"))
    alerts = list(session.scalars(select(Alert).where(*where).order_by(Alert.q_value, Alert.delta, Alert.id)))
    return AlertListing(chosen, months, run, alert_rows(session, alerts, locale))

"""The dashboard home at a glance (issue 17): the default period, the verdict first, tiles, what changed,
the province chart keeping small agencies, one figure for the overview and the counters tab."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from sqlalchemy import delete, func, select

from survey.agency.charts import distribution_chart, interval_chart
from survey.db import db
from survey.models import Agency, ResponseTally, TransactionVolume
from survey.services.statistics import breakdowns, dashboard, glance, trends

Q3 = dashboard.period_containing("quarter", dt.date(2026, 8, 1))
YEAR = {"period": "year", "year": "2026"}


def _agency(code: str) -> Agency:
    agency = db.session.scalar(select(Agency).where(Agency.code == code))
    assert agency is not None
    return agency


def _largest() -> str:
    """The code of the agency (not the province) with the most responses in the seeded data."""
    row = db.session.execute(
        select(Agency.code)
        .join(ResponseTally, ResponseTally.agency_id == Agency.id)
        .where(Agency.parent_id.is_not(None))
        .group_by(Agency.code)
        .order_by(func.sum(ResponseTally.n).desc())
    ).first()
    assert row is not None
    return str(row[0])


def _ids(agency: Agency) -> list[int]:
    province = dashboard.province_of(db.session, agency)
    return dashboard.agency_subtree_ids(db.session, province) if province.id == agency.id else [agency.id]


# -- the default period ---------------------------------------------------------------------------------------


def test_default_is_the_latest_complete_quarter_not_the_current_one(staff_app: Flask) -> None:
    province = _agency("ninh-binh")
    # Responses run to October 2026: on 15 November the fourth quarter is not over, so the third is shown.
    status = dashboard.default_period(db.session, province, _ids(province), today=dt.date(2026, 11, 15))
    assert status.period == Q3
    assert status.default and status.rule == "quarter"
    assert not status.provisional and status.missing_month is None


def test_default_never_runs_past_today(staff_app: Flask) -> None:
    province = _agency("ninh-binh")
    status = dashboard.default_period(db.session, province, _ids(province), today=dt.date(2026, 9, 15))
    assert status.period == dashboard.period_containing("quarter", dt.date(2026, 5, 1))


def test_a_quarter_without_volumes_for_its_last_month_is_provisional(staff_app: Flask) -> None:
    province = _agency("ninh-binh")
    ids = _ids(province)
    db.session.execute(delete(TransactionVolume).where(TransactionVolume.month == dt.date(2026, 9, 1)))
    db.session.flush()
    status = dashboard.default_period(db.session, province, ids, today=dt.date(2026, 11, 15))
    # July and August still have their volumes, so the quarter is kept, and said to be provisional.
    assert status.period == Q3
    assert status.provisional and status.missing_month == dt.date(2026, 9, 1) and not status.not_over
    asked = dashboard.period_status(db.session, ids, dashboard.period_containing("month", dt.date(2026, 8, 1)))
    assert not asked.provisional and not asked.default


def test_a_small_agency_opens_on_a_period_it_can_publish(staff_app: Flask) -> None:
    agency = _agency("so-tu-phap")  # a few responses a month: its quarter may well be suppressed
    status = dashboard.default_period(db.session, agency, [agency.id], today=dt.date(2026, 11, 15))
    assert status.rule in ("quarter", "twelve_months")
    board = dashboard.agency_dashboard(db.session, agency, status.period, None, "vi")
    assert board.overall is not None and board.overall.share is not None
    assert not board.overall.share.suppressed


def test_pages_open_on_the_default_period_and_say_so(signed_in) -> None:  # type: ignore[no-untyped-def]
    html = signed_in("province_admin").get("/agency/hoa-lu/").get_data(as_text=True)
    assert "Mặc định mở" in html
    shown = re.search(r"Đang xem: <strong>([^<]+)</strong>", html)
    # Never the unfinished current quarter: a complete quarter, or the last twelve complete months.
    assert shown is not None and shown[1] != "Quý 4/2026"
    assert shown[1].startswith("Quý ") or shown[1] == "01/11/2025 – 31/10/2026"
    # An explicit period is kept as asked, without the default's explanation.
    asked = signed_in("province_admin").get("/agency/hoa-lu/", query_string=YEAR).get_data(as_text=True)
    assert "Năm 2026" in asked and "Mặc định mở" not in asked


# -- the verdict first, the methods one click away ------------------------------------------------------------


def test_overview_leads_with_a_plain_verdict_and_folds_the_methods(staff_app: Flask, signed_in) -> None:  # type: ignore[no-untyped-def]
    code = _largest()
    html = signed_in("province_admin").get(f"/agency/{code}/", query_string=YEAR).get_data(as_text=True)
    verdict = re.search(r'<p class="verdict-line">(.*?)</p>', html, re.S)
    assert verdict is not None
    text = re.sub(r"<[^>]+>", "", verdict[1])
    assert text.strip().startswith("Hài lòng ")
    assert "khoảng tin cậy 95 %" in text and "toàn tỉnh" in text and "so với Năm 2025" in text
    methods = html.index('<details class="method-box">')
    assert html.index('class="verdict-line"') < methods < html.index("Thiết kế mẫu")
    assert "Giải thích thuật ngữ" in html and "KTC 95 % (khoảng tin cậy)" in html
    for link in (f'href="/agency/{code}/alerts"', 'href="/notifications/preferences"'):
        assert link in html


def test_home_tiles_sparklines_and_lists(signed_in) -> None:  # type: ignore[no-untyped-def]
    html = signed_in("province_admin").get("/agency/hoa-lu/", query_string=YEAR).get_data(as_text=True)
    assert html.count('<li class="tile">') == 3
    assert '<svg class="spark"' in html and "<polyline" in html
    # The figures behind the sparklines are in a table.
    assert 'id="spark-caption"' in html
    for heading in ("Những gì đã thay đổi so với Năm 2025", "Điểm yếu nhất", "Ý kiến cần xử lý"):
        assert heading in html


def test_what_changed_uses_the_tables_bonferroni_verdicts(staff_app: Flask) -> None:
    province = _agency("ninh-binh")
    period = dashboard.parse_period(YEAR, dt.date(2026, 1, 1))
    board = dashboard.agency_dashboard(db.session, province, period, None, "vi")
    result = glance.glance(db.session, board, _ids(province), None, "vi")
    assert result.compared > 0
    for move in result.moves:
        assert move.change.significant and move.change.k is not None and move.change.k > 1
    # The element moves are exactly the overview table's significant previous-period verdicts.
    table = {r.label for r in board.elements if r.vs_previous is not None and r.vs_previous.significant}
    assert {m.label for m in result.moves if m.kind == "element"} == table
    weakest = [w.share.estimate for w in result.weakest_parts]
    assert weakest == sorted(weakest) and len(weakest) <= glance.WEAKEST


def test_sparkline_geometry() -> None:
    assert glance.spark([0.9]) is None
    line = glance.spark([0.8, None, 0.9, 1.0], width=100, height=30)
    assert line is not None and line.count == 3
    xs = [float(p.split(",")[0]) for p in line.points.split()]
    ys = [float(p.split(",")[1]) for p in line.points.split()]
    assert xs == sorted(xs) and xs[0] == 2.0 and xs[-1] == 98.0
    assert ys[0] > ys[-1]  # higher values are drawn higher up


# -- trends: a chart by default --------------------------------------------------------------------------------


def test_a_sparse_trend_follows_quarters(staff_app: Flask) -> None:
    agency = _agency("so-tu-phap")
    monthly = trends.agency_trend(db.session, agency, dt.date(2026, 10, 15), None, None, "vi")
    quarterly = trends.agency_trend(
        db.session, agency, dt.date(2026, 10, 15), None, None, "vi", quarters_if_sparse=True
    )
    if len(monthly.shown) >= 2:
        assert quarterly.step == "month"
    else:
        assert quarterly.step == "quarter" and len(quarterly.shown) > len(monthly.shown)
        assert len(quarterly.points) == trends.QUARTERS


def test_trends_page_draws_a_chart_by_default(signed_in) -> None:  # type: ignore[no-untyped-def]
    for code in ("so-tu-phap", "ninh-binh"):
        html = signed_in("province_admin").get(f"/agency/{code}/trends").get_data(as_text=True)
        assert 'class="trend"' in html, code


# -- the province chart keeps small agencies ----------------------------------------------------------------------


def test_province_chart_lists_agencies_with_too_few_responses(staff_app: Flask, signed_in) -> None:  # type: ignore[no-untyped-def]
    province = _agency("ninh-binh")
    month = {"period": "quarter", "quarter": "2026-Q3"}
    period = Q3
    table = dashboard.province_table(db.session, province, period, None, "index", True, "vi")
    chart = interval_chart(table, "vi")
    narrow = interval_chart(table, "vi", narrow=True)
    assert chart is not None and narrow is not None
    assert len(chart.rows) == len(table.lines) == len(narrow.rows)
    small = [r for r in chart.rows if r.suppressed]
    assert small, "the seeded month has agencies below the publication threshold"
    assert narrow.width < chart.width and all(r.label_y < r.y for r in narrow.rows)
    html = signed_in("province_admin").get("/agency/ninh-binh/province", query_string=month).get_data(as_text=True)
    assert f"quá ít phiếu (n = {small[0].n})" in html
    assert 'class="chart-narrow"' in html and 'id="chart-narrow-title"' in html


# -- one figure on the overview and the counters tab ------------------------------------------------------------


@pytest.mark.parametrize("without_volumes", [False, True])
def test_counters_tab_total_equals_the_overview(staff_app: Flask, without_volumes: bool) -> None:
    agency, province = _agency("hoa-lu"), _agency("ninh-binh")
    if without_volumes:
        # The agency's weights are then imputed from the province's typical weight per response.
        db.session.execute(delete(TransactionVolume).where(TransactionVolume.agency_id == agency.id))
        db.session.flush()
    period = dashboard.parse_period(YEAR, dt.date(2026, 1, 1))
    board = dashboard.agency_dashboard(db.session, agency, period, None, "vi")
    assert board.instrument is not None and board.overall is not None and board.overall.share is not None
    result = breakdowns.breakdown(
        db.session,
        [agency.id],
        board.instrument.id,
        period,
        "vi",
        weight_ids=dashboard.agency_subtree_ids(db.session, province),
    )
    assert result.total is not None
    assert result.total.estimate == pytest.approx(board.overall.share.estimate, rel=1e-12)


# -- the answers chart names its criteria -----------------------------------------------------------------------


def test_answers_chart_is_labelled_with_the_questions(staff_app: Flask, signed_in) -> None:  # type: ignore[no-untyped-def]
    html = signed_in("province_admin").get("/agency/hoa-lu/answers", query_string=YEAR).get_data(as_text=True)
    labels = re.findall(r'<text x="24" y="[\d.]+" font-size="12" fill="#1b1b1b">([^<]+)</text>', html)
    assert labels and not any(re.fullmatch(r"q\d\d", label) for label in labels)
    from survey.services.statistics.breakdowns import Distribution

    chart = distribution_chart([Distribution("q01", "Nơi ngồi chờ", "access", (1, 2, 3, 4, 5, 0))])
    assert chart is not None and chart.rows[0].label == "Nơi ngồi chờ"

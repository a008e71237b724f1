"""Trends, counter and field breakdowns, answer distributions, response rates and the period form."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask, g
from sqlalchemy import select

from survey.agency.formatting import pct
from survey.db import db
from survey.models import Agency, SurveyPeriod
from survey.services.statistics import breakdowns, dashboard, trends
from survey.services.statistics.indices import TOTAL, IndexQuery, compute_indices

YEAR = {"period": "year", "year": "2026"}
PAGES = ("", "trends", "breakdowns", "answers", "response-rate", "comments")


def _agency(code: str) -> Agency:
    agency = db.session.scalar(select(Agency).where(Agency.code == code))
    assert agency is not None
    return agency


def _vi(app: Flask, fn, *args):  # type: ignore[no-untyped-def]
    with app.test_request_context("/?lang=vi"):
        g.pop("_flask_babel", None)  # the test's app context is shared: drop the cached locale
        return fn(*args)


@pytest.mark.parametrize("page", PAGES, ids=[p or "overview" for p in PAGES])
@pytest.mark.parametrize(("role", "code"), [("agency_manager", "so-tu-phap"), ("province_admin", "ninh-binh")])
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_dashboard_page_renders(signed_in, page: str, role: str, code: str, lang: str) -> None:  # type: ignore[no-untyped-def]
    reply = signed_in(role).get(f"/agency/{code}/{page}", query_string={**YEAR, "lang": lang})
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200, html[:2000]
    assert html.count("<h1") == 1
    assert 'aria-current="page"' in html
    assert ("Năm 2026" if lang == "vi" else "Year 2026") in html


def _year() -> dashboard.Period:
    return dashboard.parse_period(YEAR, dt.date(2026, 1, 1))


def _instrument_id(agency: Agency, period: dashboard.Period) -> int:
    return dashboard.instruments_in_use(db.session, [agency.id], period)[0].id


def test_breakdown_whole_equals_the_engine(staff_app: Flask) -> None:
    agency, period = _agency("so-tu-phap"), _year()
    instrument_id = _instrument_id(agency, period)
    result = breakdowns.breakdown(db.session, [agency.id], instrument_id, period, "vi")
    report = compute_indices(db.session, IndexQuery(instrument_id, period.start, period.end, agency_ids=[agency.id]))
    expected = report.get(agency.id, "overall")
    assert result.total is not None
    assert result.total.estimate == pytest.approx(expected.estimate, rel=1e-9)
    assert result.total.ci == pytest.approx(expected.ci, rel=1e-9)
    # Counters and fields add up to the agency's responses; each has a comparison with the whole.
    assert sum(r.responses for r in result.counters) == sum(r.responses for r in result.fields) == expected.n
    assert len(result.counters) >= 2
    assert all(r.vs_all.p_value is not None or r.vs_all.unavailable for r in result.counters)


def test_breakdown_page_shows_counters_with_the_engines_numbers(staff_app: Flask, signed_in) -> None:  # type: ignore[no-untyped-def]
    agency, period = _agency("so-tu-phap"), _year()
    result = breakdowns.breakdown(db.session, [agency.id], _instrument_id(agency, period), period, "vi")
    html = signed_in("agency_manager").get("/agency/so-tu-phap/breakdowns", query_string=YEAR).get_data(as_text=True)
    shown = [r for r in result.counters if r.share is not None and not r.share.suppressed]
    assert shown, "the seeded year should present at least one counter"
    for row in shown:
        assert row.label in html
        assert _vi(staff_app, pct, row.share.estimate) in html
    assert "Theo lĩnh vực thủ tục" in html and "So với toàn đơn vị" in html and "Holm" not in html
    # Each table is its own Bonferroni family: K and the intervals' level under its column heading.
    for rows in (result.counters, result.fields):
        made = [r.vs_all for r in rows if r.vs_all.k is not None]
        assert [r.vs_all for r in rows if r.vs_all.unavailable is None] == made
        k = len(made)
        if k > 1:
            level = _vi(staff_app, pct, 1 - 0.05 / k)
            assert f"đã hiệu chỉnh Bonferroni cho {k} phép so sánh (khoảng tin cậy {level})" in html
            assert {c.k for c in made} == {k} and all(c.level == pytest.approx(1 - 0.05 / k) for c in made)
        for c in made:
            assert c.significant == (c.ci[0] > 0 or c.ci[1] < 0)


def test_overview_states_k_for_each_comparison_column(staff_app: Flask, signed_in) -> None:  # type: ignore[no-untyped-def]
    agency, period = _agency("so-tu-phap"), _year()
    board = dashboard.agency_dashboard(db.session, agency, period, None, "vi")
    assert board.overall is not None
    headline = [board.overall, *board.elements]
    html = signed_in("agency_manager").get("/agency/so-tu-phap/", query_string={**YEAR, "lang": "en"})
    text = html.get_data(as_text=True)
    assert "Holm" not in text
    for column in ("vs_province", "vs_previous"):
        made = [getattr(r, column) for r in headline if getattr(r, column).k is not None]
        k = len(made)
        assert k == len([r for r in headline if getattr(r, column).unavailable is None])
        if k:
            level = 1 - 0.05 / k
            with staff_app.test_request_context("/?lang=en"):
                g.pop("_flask_babel", None)
                shown = pct(level)
            note = (
                f"Intervals and verdicts Bonferroni-adjusted for {k} comparisons ({shown} intervals)"
                if k > 1
                else f"One comparison, no adjustment needed ({shown} interval)"
            )
            assert note in text
            assert all(c.level == pytest.approx(level) for c in made)
    assert len([r for r in headline if r.vs_province.k is not None]) == len(headline)  # the seeded year has them all


def test_suppressed_breakdowns_show_the_reason(signed_in) -> None:  # type: ignore[no-untyped-def]
    html = signed_in("agency_viewer").get(
        "/agency/hoa-lu/breakdowns", query_string={"period": "month", "month": "2026-10"}
    )
    text = html.get_data(as_text=True)
    assert html.status_code == 200
    # The small commune's month is suppressed with its reason, and no bare percentage stands in its place.
    assert text.count("Không công bố") >= 2
    assert "Không công bố: cỡ mẫu hiệu dụng dưới 30" in text


def test_trend_months_equal_the_month_dashboards(staff_app: Flask) -> None:
    agency = _agency("so-tu-phap")
    province = _agency("ninh-binh")
    trend = trends.agency_trend(db.session, agency, dt.date(2026, 10, 15), None, None, "vi")
    assert [p.month for p in trend.points][0] == dt.date(2025, 11, 1)
    assert len(trend.points) == 12 and trend.points[-1].month == dt.date(2026, 10, 1)
    ids = dashboard.agency_subtree_ids(db.session, province)
    assert trend.instrument is not None
    for point in trend.points[-3:]:
        month = dashboard.period_containing("month", point.month)
        report = compute_indices(db.session, IndexQuery(trend.instrument.id, month.start, month.end, agency_ids=ids))
        expected = report.get(agency.id, "overall")
        assert point.estimate is not None
        assert point.estimate.estimate == pytest.approx(expected.estimate, rel=1e-12)
        assert point.estimate.ci == pytest.approx(expected.ci, rel=1e-12)
        assert point.responses == expected.n


def test_trend_per_element_and_for_the_province(staff_app: Flask, signed_in) -> None:  # type: ignore[no-untyped-def]
    province = _agency("ninh-binh")
    trend = trends.agency_trend(db.session, province, dt.date(2026, 10, 15), None, "procedures", "vi")
    assert trend.target == "procedures" and trend.is_province
    ids = dashboard.agency_subtree_ids(db.session, province)
    last = dashboard.period_containing("month", dt.date(2026, 10, 1))
    assert trend.instrument is not None
    report = compute_indices(db.session, IndexQuery(trend.instrument.id, last.start, last.end, agency_ids=ids))
    assert trend.points[-1].estimate.estimate == pytest.approx(report.get(TOTAL, "procedures").estimate)  # type: ignore[union-attr]
    html = (
        signed_in("province_admin")
        .get("/agency/ninh-binh/trends", query_string={**YEAR, "element": "procedures"})
        .get_data(as_text=True)
    )
    assert "<svg" in html and "<polygon" in html and "<caption>" in html
    assert ">11/2025</a>" in html and _vi(staff_app, pct, trend.points[-3].estimate.estimate) in html  # type: ignore[union-attr]
    # An unknown element falls back to the overall index rather than failing.
    reply = signed_in("province_admin").get("/agency/ninh-binh/trends", query_string={**YEAR, "element": "nope"})
    assert reply.status_code == 200


def test_trend_slope_uses_independent_months() -> None:
    from analytics import Estimate

    def est(value: float, se: float) -> Estimate:
        return Estimate(
            0,
            "overall",
            "share",
            "A",
            value,
            se,
            50,
            100,
            (value - 0.05, value + 0.05),
            "x",
            0.95,
            None,
            None,
            None,
            None,
            (),
        )

    points = [trends.TrendPoint(dt.date(2026, m, 1), est(0.80 + 0.01 * m, 0.001), 100) for m in range(1, 7)]
    slope = trends.slope(points)
    assert slope is not None
    assert slope.per_month == pytest.approx(0.01)
    assert slope.significant and slope.ci[0] < 0.01 < slope.ci[1]
    assert trends.slope(points[:2]) is None


def test_answer_distributions_equal_the_raw_answers(staff_app: Flask, signed_in) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import func

    from survey.models import Answer, Instrument, InstrumentItem, Response

    agency, period = _agency("so-tu-phap"), _year()
    instrument = db.session.get(Instrument, _instrument_id(agency, period))
    assert instrument is not None
    rows = breakdowns.distributions(db.session, [agency.id], instrument, period, "vi")
    raw = db.session.execute(
        select(InstrumentItem.code, Answer.score, func.count())
        .join(Answer, Answer.item_id == InstrumentItem.id)
        .join(Response, Response.id == Answer.response_id)
        .where(
            Response.agency_id == agency.id,
            Response.status == "valid",
            Response.instrument_id == instrument.id,
            Response.received_on >= period.start,
            Response.received_on <= period.end,
        )
        .group_by(InstrumentItem.code, Answer.score)
    ).all()
    expected: dict[str, list[int]] = {}
    for code, score, n in raw:
        expected.setdefault(code, [0] * 6)[5 if score is None else score - 1] += n
    assert {r.item_code: list(r.counts) for r in rows if r.total} == expected
    html = signed_in("agency_manager").get("/agency/so-tu-phap/answers", query_string=YEAR).get_data(as_text=True)
    first = next(r for r in rows if r.total)
    assert _vi(staff_app, pct, first.shares[4], 1) in html
    assert "Rất hài lòng" in html and "<rect" in html


def test_response_rate_against_volumes_and_without_them(staff_app: Flask, signed_in) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import delete, func

    from survey.models import ResponseTally, TransactionVolume

    agency, period = _agency("so-tu-phap"), _year()
    rates = breakdowns.response_rates(db.session, [agency.id], period, "vi")
    assert rates.has_volumes
    october = dict(rates.months)[dt.date(2026, 10, 1)]
    assert october.responses == db.session.scalar(
        select(func.sum(ResponseTally.n)).where(
            ResponseTally.agency_id == agency.id, ResponseTally.month == dt.date(2026, 10, 1)
        )
    )
    assert october.transactions == db.session.scalar(
        select(func.sum(TransactionVolume.transactions)).where(
            TransactionVolume.agency_id == agency.id, TransactionVolume.month == dt.date(2026, 10, 1)
        )
    )
    html = signed_in("agency_manager").get("/agency/so-tu-phap/response-rate", query_string=YEAR).get_data(as_text=True)
    assert _vi(staff_app, pct, october.rate) in html
    db.session.execute(delete(TransactionVolume).where(TransactionVolume.agency_id == agency.id))
    db.session.commit()
    html = signed_in("agency_manager").get("/agency/so-tu-phap/response-rate", query_string=YEAR).get_data(as_text=True)
    assert "Chưa nhập số hồ sơ giải quyết cho kỳ này" in html


# -- the period form -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "lang", "label"),
    [
        ({"period": "month", "month": "2026-10"}, "vi", "Tháng 10/2026"),
        ({"period": "quarter", "quarter": "2026-Q3"}, "vi", "Quý 3/2026"),
        ({"period": "custom", "date_from": "2026-07-01", "date_to": "2026-09-30"}, "vi", "01/07/2026 – 30/09/2026"),
        ({"period": "year", "year": "2026"}, "en", "Year 2026"),
        ({"period": "quarter", "quarter": "2026-Q3"}, "en", "Quarter 3/2026"),
    ],
    ids=["month", "quarter", "custom", "year-en", "quarter-en"],
)
def test_period_summary_is_readable(signed_in, args: dict[str, str], lang: str, label: str) -> None:  # type: ignore[no-untyped-def]
    html = signed_in("agency_manager").get("/agency/so-tu-phap/", query_string={**args, "lang": lang})
    assert html.status_code == 200
    assert label in html.get_data(as_text=True)


def test_period_form_shows_only_the_chosen_kinds_input(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_manager")
    html = client.get("/agency/so-tu-phap/", query_string={"period": "month", "month": "2026-10"}).get_data(
        as_text=True
    )
    assert 'id="month"' in html and 'type="month"' in html
    assert 'id="quarter"' not in html and 'id="date_from"' not in html
    # Switching to custom dates keeps the reader on the quarter they were looking at.
    html = client.get("/agency/so-tu-phap/", query_string={"period": "custom", "quarter": "2026-Q2"}).get_data(
        as_text=True
    )
    assert 'id="date_from"' in html and 'value="2026-04-01"' in html and 'value="2026-06-30"' in html
    assert 'type="date"' in html and 'id="month"' not in html
    # Previous and next periods are one link away.
    html = client.get("/agency/so-tu-phap/", query_string={"period": "quarter", "quarter": "2025-Q3"}).get_data(
        as_text=True
    )
    assert "quarter=2025-Q2" in html and "quarter=2025-Q4" in html
    # No link into a future period.
    html = client.get("/agency/so-tu-phap/", query_string={"period": "year", "year": str(dt.date.today().year)})
    assert f"year={dt.date.today().year + 1}" not in html.get_data(as_text=True)


def test_named_survey_periods_of_the_province_are_offered(signed_in) -> None:  # type: ignore[no-untyped-def]
    province = _agency("ninh-binh")
    named = SurveyPeriod(
        agency_id=province.id, name="Đợt khảo sát 2026", starts_on=dt.date(2026, 3, 1), ends_on=dt.date(2026, 8, 31)
    )
    db.session.add(named)
    db.session.commit()
    client = signed_in("agency_manager")
    html = client.get("/agency/so-tu-phap/").get_data(as_text=True)
    assert '<option value="survey">Đợt khảo sát</option>' in html
    reply = client.get("/agency/so-tu-phap/", query_string={"period": "survey", "survey_period": str(named.id)})
    text = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert "Đợt khảo sát 2026 (01/03/2026 – 31/08/2026)" in text
    reply = client.get("/agency/so-tu-phap/", query_string={"period": "survey", "survey_period": "999999"})
    assert reply.status_code == 400
    assert "Chọn một đợt khảo sát trong danh sách" in reply.get_data(as_text=True)


def test_survey_period_of_another_province_is_refused() -> None:
    other = SurveyPeriod(id=5, agency_id=1, name="x", starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2026, 2, 1))
    with pytest.raises(dashboard.PeriodError) as caught:
        dashboard.parse_period({"period": "survey", "survey_period": "6"}, dt.date(2026, 1, 1), {5: other})
    assert caught.value.code == "unknown_survey_period"
    chosen = dashboard.parse_period({"period": "survey", "survey_period": "5"}, dt.date(2026, 1, 1), {5: other})
    assert (chosen.start, chosen.end, chosen.name) == (dt.date(2026, 1, 1), dt.date(2026, 2, 1), "x")
    assert chosen.args() == {"period": "survey", "survey_period": "5"}


@pytest.mark.parametrize("page", PAGES[1:])
@pytest.mark.parametrize(
    ("role", "code", "status"),
    [
        ("agency_viewer", "so-tu-phap", 404),  # a commune viewer: a department outside their subtree
        ("agency_manager", "hoa-lu", 404),  # a department manager: a commune outside their subtree
        ("auditor", "so-tu-phap", 403),  # no dashboards at all
        ("statistician", "so-tu-phap", 200),
    ],
)
def test_new_pages_keep_to_the_roles_scope(signed_in, page: str, role: str, code: str, status: int) -> None:  # type: ignore[no-untyped-def]
    assert signed_in(role).get(f"/agency/{code}/{page}", query_string=YEAR).status_code == status


@pytest.mark.parametrize("page", PAGES)
def test_bad_periods_are_400_with_a_linked_error_on_every_page(signed_in, page: str) -> None:  # type: ignore[no-untyped-def]
    reply = signed_in("agency_manager").get(
        f"/agency/so-tu-phap/{page}",
        query_string={"period": "custom", "date_from": "2026-09-30", "date_to": "2026-09-01"},
    )
    html = reply.get_data(as_text=True)
    assert reply.status_code == 400
    assert 'href="#date_to"' in html and 'id="date_to"' in html and 'aria-invalid="true"' in html
    assert "<title>Lỗi: " in html


def test_trend_chart_breaks_the_line_at_suppressed_months() -> None:
    from analytics import Estimate, Flag
    from survey.agency.charts import distribution_chart, trend_chart

    def est(value: float, suppressed: bool = False) -> Estimate:
        flags = (Flag("suppress_small_n_eff", "n_eff < 30", True),) if suppressed else ()
        return Estimate(
            0, "overall", "share", "A", value, 0.01, 40, 100, (value - 0.02, value + 0.02), "x", 0.95, None, None, None,
            None, flags,
        )  # fmt: skip

    values = [0.9, 0.91, None, 0.88, 0.89, 0.92]
    points = [
        trends.TrendPoint(dt.date(2026, m + 1, 1), est(v) if v else est(0.5, suppressed=True), 100)
        for m, v in enumerate(values)
    ]
    trend = trends.Trend(agency=None, period=None, instruments=[], points=points)  # type: ignore[arg-type]
    chart = trend_chart(trend)
    assert chart is not None
    assert len(chart.lines) == 2 and len(chart.bands) == 2  # the suppressed month splits the series
    assert chart.marks[2].y is None and chart.marks[2].suppressed
    # Higher shares are drawn higher (smaller y), and every band contains its point.
    assert chart.marks[5].y < chart.marks[3].y  # type: ignore[operator]
    assert all(m.y_high <= m.y <= m.y_low for m in chart.marks if m.y is not None)  # type: ignore[operator]
    assert trend_chart(trends.Trend(None, None, [], points=[points[2]])) is None  # type: ignore[arg-type]

    rows = [breakdowns.Distribution("q01", "x", "e", (1, 1, 2, 4, 2, 0))]
    bars = distribution_chart(rows)
    assert bars is not None
    widths = [s.width for s in bars.rows[0].segments]
    assert sum(widths) == pytest.approx(640, abs=0.5) and widths[3] == pytest.approx(256)
    assert distribution_chart([breakdowns.Distribution("q02", "x", "e", (0,) * 6)]) is None

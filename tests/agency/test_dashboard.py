"""Dashboard figures equal the analytics engine's, in Vietnamese and English formats; periods parse or fail clearly."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask, g
from sqlalchemy import select

from survey.agency.formatting import pct
from survey.db import db
from survey.models import Agency
from survey.services.statistics import dashboard
from survey.services.statistics.indices import TOTAL, IndexQuery, compute_indices

YEAR = {"period": "year", "year": "2026"}


def _report(code: str):  # type: ignore[no-untyped-def]
    province = db.session.scalar(select(Agency).where(Agency.code == "ninh-binh"))
    agency = db.session.scalar(select(Agency).where(Agency.code == code))
    assert province is not None and agency is not None
    ids = dashboard.agency_subtree_ids(db.session, province)
    period = dashboard.parse_period(YEAR, dt.date(2026, 1, 1))
    instrument = dashboard.instruments_in_use(db.session, [agency.id], period)[0]
    report = compute_indices(db.session, IndexQuery(instrument.id, period.start, period.end, agency_ids=ids))
    return agency, report


def test_dashboard_numbers_equal_the_engine_in_vietnamese(staff_app: Flask, signed_in) -> None:  # type: ignore[no-untyped-def]
    agency, report = _report("so-tu-phap")
    html = signed_in("agency_manager").get("/agency/so-tu-phap/", query_string=YEAR).get_data(as_text=True)
    overall = report.get(agency.id, "overall")
    assert not overall.suppressed
    with staff_app.test_request_context("/?lang=vi"):
        g.pop("_flask_babel", None)  # the test's app context is shared: drop the cached locale
        expected = [pct(overall.estimate), pct(overall.ci[0]), pct(overall.ci[1])]
    for text in expected:
        assert text in html
    assert "," in expected[0] and expected[0].endswith("\u00a0%")
    assert "01/01/2026 – 31/12/2026" in html
    assert 'href="/methodology"' in html
    assert "Korn–Graubard" in html


def test_dashboard_in_english_uses_english_formats(staff_app: Flask, signed_in) -> None:  # type: ignore[no-untyped-def]
    agency, report = _report("so-tu-phap")
    html = (
        signed_in("agency_manager")
        .get("/agency/so-tu-phap/", query_string={**YEAR, "lang": "en"})
        .get_data(as_text=True)
    )
    with staff_app.test_request_context("/?lang=en"):
        g.pop("_flask_babel", None)  # the test's app context is shared: drop the cached locale
        expected = pct(report.get(agency.id, "overall").estimate)
    assert expected in html and "." in expected and expected.endswith("%")
    assert "Compared with the province" in html


def test_suppressed_figures_show_the_reason_not_a_number(signed_in) -> None:  # type: ignore[no-untyped-def]
    # One month at one commune: a handful of responses, so the index is suppressed.
    html = signed_in("agency_viewer").get("/agency/hoa-lu/", query_string={"period": "month", "month": "2026-10"})
    text = html.get_data(as_text=True)
    assert "Không công bố" in text


def test_province_table_lists_every_agency_with_bonferroni_comparisons(staff_app: Flask, signed_in) -> None:  # type: ignore[no-untyped-def]
    from markupsafe import escape

    from survey.agency.formatting import points_range

    _agency, report = _report("so-tu-phap")
    reply = signed_in("province_admin").get("/agency/ninh-binh/province", query_string={**YEAR, "sort": "n"})
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert "<svg" in html and "<caption>" in html and 'aria-sort="descending"' in html
    province = db.session.scalars(select(Agency).where(Agency.code == "ninh-binh")).one()
    period = dashboard.parse_period(YEAR, dt.date(2026, 1, 1))
    table = dashboard.province_table(db.session, province, period, None, "n", True, "vi")
    made = [line for line in table.lines if line.vs_province.k is not None]
    k = len(made)
    assert k >= 5 and {line.vs_province.k for line in made} == {k}
    assert [line for line in table.lines if line.vs_province.unavailable is None] == made
    verdicts = {"above": "Cao hơn có ý nghĩa thống kê", "below": "Thấp hơn có ý nghĩa thống kê"}
    verdicts["same"] = "Không khác biệt có ý nghĩa thống kê"
    rows = html.split("<tr>")
    with staff_app.test_request_context("/?lang=vi"):
        g.pop("_flask_babel", None)  # the test's app context is shared: drop the cached locale
        assert pct(report.get(TOTAL, "overall").estimate) in html
        # K and the level of the intervals are stated under the column heading
        assert (
            f"Khoảng tin cậy và kết luận đã hiệu chỉnh Bonferroni cho {k} phép so sánh "
            f"(khoảng tin cậy {pct(1 - 0.05 / k)})"
        ) in html
        for line in made:
            c = line.vs_province
            (row,) = [r for r in rows if f">{escape(line.agency.name('vi'))}</a></th>" in r]
            # the interval shown is the adjusted one, and the verdict is whether it excludes zero
            assert points_range(c.ci) in row and verdicts[c.direction] in row
            assert c.direction == ("above" if c.ci[0] > 0 else "below" if c.ci[1] < 0 else "same")
    table_html = html[html.index('<table class="data stack">') : html.index("</table>")]
    assert "Holm" not in table_html
    english = signed_in("province_admin").get("/agency/ninh-binh/province", query_string={**YEAR, "lang": "en"})
    with staff_app.test_request_context("/?lang=en"):
        g.pop("_flask_babel", None)
        note = f"Intervals and verdicts Bonferroni-adjusted for {k} comparisons ({pct(1 - 0.05 / k)} intervals)"
    text = english.get_data(as_text=True)
    assert note in text and "Bonferroni-adjusted for the K agencies compared" in text


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ({"period": "month", "month": "2026-13"}, "bad_month"),
        ({"period": "quarter", "quarter": "2026-Q5"}, "bad_quarter"),
        ({"period": "custom", "date_from": "2026-05-01", "date_to": "2026-04-01"}, "end_before_start"),
        ({"period": "custom", "date_from": "x", "date_to": "2026-04-01"}, "bad_dates"),
        ({"period": "decade"}, "unknown_kind"),
        ({"period": "year", "year": "1900"}, "out_of_range"),
    ],
    ids=["month", "quarter", "reversed", "not-a-date", "kind", "year"],
)
def test_bad_periods_are_refused_with_a_code(args: dict[str, str], code: str) -> None:
    with pytest.raises(dashboard.PeriodError) as caught:
        dashboard.parse_period(args, dt.date(2026, 10, 1))
    assert caught.value.code == code


def test_bad_period_is_a_400_with_an_error_summary(signed_in) -> None:  # type: ignore[no-untyped-def]
    reply = signed_in("agency_manager").get("/agency/so-tu-phap/", query_string={"period": "month", "month": "13"})
    assert reply.status_code == 400
    assert 'class="error-summary"' in reply.get_data(as_text=True)


@pytest.mark.parametrize(
    ("period", "previous"),
    [
        (
            dashboard.Period("month", dt.date(2026, 1, 1), dt.date(2026, 1, 31)),
            (dt.date(2025, 12, 1), dt.date(2025, 12, 31)),
        ),
        (
            dashboard.Period("quarter", dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
            (dt.date(2025, 10, 1), dt.date(2025, 12, 31)),
        ),
        (
            dashboard.Period("custom", dt.date(2026, 3, 10), dt.date(2026, 3, 19)),
            (dt.date(2026, 2, 28), dt.date(2026, 3, 9)),
        ),
    ],
    ids=["month", "quarter", "custom"],
)
def test_previous_period(period: dashboard.Period, previous: tuple[dt.date, dt.date]) -> None:
    before = period.previous()
    assert (before.start, before.end) == previous


@pytest.mark.parametrize(
    ("lang", "expected"), [("vi", "−0,19 điểm % đến +2,29 điểm %"), ("en", "−0.19 pp to +2.29 pp")]
)
def test_point_ranges_are_translated(app: Flask, lang: str, expected: str) -> None:
    from survey.agency.formatting import points_range

    with app.test_request_context(f"/?lang={lang}"):
        assert points_range((-0.0019, 0.0229)) == expected


def test_province_table_shows_par_points_equal_to_the_analytics_engine(staff_app: Flask, signed_in) -> None:  # type: ignore[no-untyped-def]
    from analytics import par_points
    from survey.agency.formatting import score
    from survey.services.statistics import par_report

    province = db.session.scalars(select(Agency).where(Agency.code == "ninh-binh")).one()
    period = dashboard.parse_period(YEAR, dt.date(2026, 1, 1))
    table = dashboard.province_table(db.session, province, period, None, "name", False, "vi")
    assert table.par_scheme is not None and table.par_example  # no stored scheme: the shipped example, said so
    scored = [line for line in table.lines if line.par is not None]
    assert scored
    expected = par_points(
        table.report.estimates,
        par_report.scheme_for(db.session, province, 2026).scheme.scheme,
        [line.agency.id for line in scored],
    )
    by_agency = {p.agency: p for p in expected.agencies}
    for line in scored:
        assert line.par.total == pytest.approx(by_agency[line.agency.id].total, rel=1e-12)
    html = signed_in("province_admin").get("/agency/ninh-binh/province", query_string=YEAR).get_data(as_text=True)
    assert "Điểm điều tra xã hội học PAR" in html and "cách tính điểm mẫu" in html
    shown = next(line for line in scored if not line.share.suppressed)
    with staff_app.test_request_context("/?lang=vi"):
        g.pop("_flask_babel", None)
        assert score(shown.par.total) in html
        # points derived from a suppressed index are suppressed with it, never a bare number
        for line in scored:
            if line.share.suppressed:
                assert f"{score(line.par.total)} (" not in html

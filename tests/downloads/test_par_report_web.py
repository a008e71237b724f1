"""The PAR report page and its Excel file equal the analytics engine's numbers, with the right scheme and banner."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from flask import Flask, g
from openpyxl import load_workbook
from sqlalchemy import select

from analytics import par_points
from survey.agency.formatting import score
from survey.db import db
from survey.models import Agency, AuditEvent, Instrument
from survey.services.statistics import dashboard, par_report
from survey.services.statistics.indices import IndexQuery, compute_indices

YEAR = 2026
START, END = dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31)


def _province() -> Agency:
    return db.session.scalars(select(Agency).where(Agency.code == "ninh-binh")).one()


def _instrument_id() -> int:
    ids = dashboard.agency_subtree_ids(db.session, _province())
    period = dashboard.Period("year", START, END)
    return dashboard.instruments_in_use(db.session, ids, period)[0].id


def _engine_report(scheme: par_report.SchemeFile) -> par_report.ParReport:
    ids = dashboard.agency_subtree_ids(db.session, _province())
    return par_report.build_par_report(db.session, scheme, _instrument_id(), START, END, ids)


def _vi(app: Flask, value: float) -> str:
    with app.test_request_context("/?lang=vi"):
        g.pop("_flask_babel", None)  # the test's app context is shared: drop the cached locale
        return score(value)


def _table_rows(html: str) -> list[str]:
    body = html.split('<table class="data par">', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1], flags=re.S)


def test_the_report_page_equals_the_engine_and_says_example(staff_app: Flask, signed_in) -> None:  # type: ignore[no-untyped-def]
    reply = signed_in("province_admin").get(f"/downloads/par/ninh-binh?year={YEAR}")
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200 and html.count("<h1>") == 1
    assert "VÍ DỤ, KHÔNG CHÍNH THỨC" in html and "Chưa có khung điểm nào được lưu cho năm 2026" in html
    assert 'href="/static/css/print.css"' in html and 'media="print"' in html
    scheme = par_report.scheme_for(db.session, _province(), YEAR).scheme
    report = _engine_report(scheme)
    # The report is the engine's: same ranking, same points as analytics.par_points on the same estimates.
    es = compute_indices(
        db.session, IndexQuery(_instrument_id(), START, END, agency_ids=list(report.scored), include_total=True)
    ).estimates
    engine = par_points(es, scheme.scheme, list(report.scored))
    rows = _table_rows(html)
    assert len(rows) == len(report.rows) == len(engine.agencies) >= 5
    names = dict(db.session.execute(select(Agency.id, Agency.name_vi)).all())
    for row_html, expected in zip(rows, engine.agencies, strict=True):
        assert names[expected.agency] in row_html
        assert f'<td class="num">{expected.rank}</td>' in row_html
        assert f"<strong>{_vi(staff_app, expected.total)}</strong>" in row_html
        for criterion in expected.criteria:
            assert _vi(staff_app, criterion.points) in row_html
    verdicts = [dict(zip(report.headers, r, strict=True))["vs_province"] for r in report.rows]
    assert html.count("Có, cao hơn") == verdicts.count("above")
    assert html.count("Có, thấp hơn") == verdicts.count("below")


def test_the_excel_download_is_the_same_report_and_audited(staff_app: Flask, signed_in) -> None:  # type: ignore[no-untyped-def]
    reply = signed_in("province_admin").get(f"/downloads/par/ninh-binh/report.xlsx?year={YEAR}")
    assert reply.status_code == 200
    assert reply.headers["Content-Disposition"] == f'attachment; filename="par-ninh-binh-{YEAR}.xlsx"'
    book = load_workbook(io.BytesIO(reply.data), read_only=True)
    sheet = list(book["PAR"].iter_rows(values_only=True))
    assert str(sheet[0][0]).startswith("VÍ DỤ / EXAMPLE")
    report = _engine_report(par_report.scheme_for(db.session, _province(), YEAR).scheme)
    total = report.headers.index("total_points")
    assert [r[1] for r in sheet[4:]] == [r[1] for r in report.rows]
    assert [r[total] for r in sheet[4:]] == pytest.approx([r[total] for r in report.rows])
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "par_report.generated")).one()
    assert event.details["actor"] == "web" and event.actor_user_id is not None
    assert event.details["period"] == [START.isoformat(), END.isoformat()]


def test_a_stored_official_scheme_is_used_without_the_banner(staff_app: Flask, signed_in) -> None:  # type: ignore[no-untyped-def]
    province = _province()
    draft = par_report.SchemeDraft(
        jurisdiction="ninh-binh",
        year=YEAR,
        example=False,
        title_vi="Điểm XHH 2026",
        title_en="Survey points 2026",
        source="123/QĐ-UBND",
        criteria=(par_report.CriterionDraft("sipas", "Chỉ số SIPAS", "SIPAS index", 8.0, "overall"),),
    )
    par_report.save_scheme(province, YEAR, draft, None)
    html = signed_in("system_admin").get(f"/downloads/par/ninh-binh?year={YEAR}").get_data(as_text=True)
    assert "VÍ DỤ, KHÔNG CHÍNH THỨC" not in html and "Căn cứ: 123/QĐ-UBND" in html
    report = _engine_report(par_report.scheme_for(db.session, province, YEAR).scheme)
    first = dict(zip(report.headers, report.rows[0], strict=True))
    assert first["total_points"] == pytest.approx(8.0 * first["index_pct"] / 100)
    assert f"<strong>{_vi(staff_app, first['total_points'])}</strong>" in _table_rows(html)[0]


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("year=26", 422, "Hãy nhập năm gồm bốn chữ số"),
        ("year=2031", 200, "Không có phiếu nào trong năm 2031 cho tỉnh này."),
        (f"year={YEAR}&instrument=999999", 422, "Chọn một bảng hỏi trong danh sách"),
    ],
    ids=["bad-year", "no-data", "bad-instrument"],
)
def test_bad_report_input_gets_a_specific_message(signed_in, query: str, status: int, message: str) -> None:  # type: ignore[no-untyped-def]
    reply = signed_in("province_admin").get(f"/downloads/par/ninh-binh?{query}")
    assert reply.status_code == status and message in reply.get_data(as_text=True)
    excel = signed_in("province_admin").get(f"/downloads/par/ninh-binh/report.xlsx?{query}")
    assert excel.status_code in (404, 422) and excel.mimetype == "text/html"


def test_the_report_is_for_province_roles_only(signed_in) -> None:  # type: ignore[no-untyped-def]
    assert signed_in("province_admin").get("/downloads/par").status_code == 200
    for role in ("statistician", "agency_manager", "auditor"):
        assert signed_in(role).get("/downloads/par/ninh-binh").status_code == 403
    # A department is not a province: there is no PAR report of its own.
    assert signed_in("system_admin").get("/downloads/par/so-tu-phap").status_code == 404


def test_the_instrument_is_the_one_with_most_responses(signed_in) -> None:  # type: ignore[no-untyped-def]
    html = signed_in("province_admin").get(f"/downloads/par/ninh-binh?year={YEAR}").get_data(as_text=True)
    instrument = db.session.get(Instrument, _instrument_id())
    assert instrument is not None and f'<option selected value="{instrument.id}">' in html

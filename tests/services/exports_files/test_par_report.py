"""The PAR sociological-survey report equals the analytics engine's numbers, and its Excel file says so."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from analytics import par_points
from analytics.comparisons import difference
from survey.db import db
from survey.models import Agency, AuditEvent, Instrument
from survey.services.exports import responses
from survey.services.statistics import par_report
from survey.services.statistics.indices import TOTAL, IndexQuery, compute_indices

EXAMPLE = par_report.SCHEMES_DIR / "example-ninh-binh-2026.toml"
PERIOD = (dt.date(2025, 11, 1), dt.date(2026, 10, 31))


def _report():  # type: ignore[no-untyped-def]
    session = db.session
    instrument = session.scalars(select(Instrument).where(Instrument.code == "sipas-2017")).one()
    scheme = par_report.load_scheme(EXAMPLE)
    scope = sorted(responses.agency_subtree(session, ["ninh-binh"]))
    return instrument, scheme, scope, par_report.build_par_report(session, scheme, instrument.id, *PERIOD, scope)


def test_shipped_scheme_is_marked_as_an_example() -> None:
    scheme = par_report.load_scheme(EXAMPLE)
    assert scheme.example is True and "EXAMPLE" in EXAMPLE.read_text(encoding="utf-8")
    assert scheme.scheme.max_points == 10.0 and scheme.names["sipas"][0].startswith("Chỉ số hài lòng")


def test_par_report_equals_the_engine(demo) -> None:  # type: ignore[no-untyped-def]
    instrument, scheme, scope, report = _report()
    es = compute_indices(db.session, IndexQuery(instrument.id, *PERIOD, agency_ids=scope)).estimates
    with_data = {e.domain for e in es.estimates if e.domain != TOTAL}
    scored = sorted(
        a
        for a in with_data
        if all(
            math.isfinite(e.estimate)
            for e in es.estimates
            if e.domain == a
            and e.kind == "share"
            and e.target in {"overall", "access", "procedures", "civil_servants", "results", "feedback"}
        )
    )
    assert list(report.scored) == scored and len(report.unscored) == len(with_data) - len(scored)
    engine = par_points(es, scheme.scheme, scored)
    codes = dict(db.session.execute(select(Agency.id, Agency.code)).all())
    rows = [dict(zip(report.headers, row, strict=True)) for row in report.rows]
    assert [r["agency"] for r in rows] == [codes[a.agency] for a in engine.agencies]
    diffs = [difference(es, (a.agency, "overall", "share"), (TOTAL, "overall", "share")) for a in engine.agencies]
    k = sum(1 for d in diffs if math.isfinite(d.p_value))
    assert report.comparisons == k >= 5
    p_adj = [min(1.0, k * d.p_value) for d in diffs]  # Bonferroni over the K compared
    for row, expected, p, d in zip(rows, engine.agencies, p_adj, diffs, strict=True):
        overall = es.get(expected.agency, "overall")
        assert row["rank"] == expected.rank
        assert row["index_pct"] == pytest.approx(100 * overall.estimate, abs=1e-12)
        assert (row["index_ci_low_pct"], row["index_ci_high_pct"]) == pytest.approx(
            (100 * overall.ci[0], 100 * overall.ci[1]), nan_ok=True
        )
        assert row["n"] == overall.n
        assert row["total_points"] == pytest.approx(expected.total, abs=1e-12)
        assert (row["total_ci_low"], row["total_ci_high"]) == pytest.approx(expected.ci, abs=1e-12, nan_ok=True)
        for criterion in expected.criteria:
            assert row[f"points_{criterion.code}"] == pytest.approx(criterion.points, abs=1e-12)
        assert row["points_sipas"] == pytest.approx(5.0 * overall.estimate, abs=1e-12)
        # vs_province: Bonferroni for the K agencies compared, decided by the interval at 1 - 0.05/K
        adjusted = difference(
            es, (expected.agency, "overall", "share"), (TOTAL, "overall", "share"), level=1 - 0.05 / k
        )
        lo, hi = adjusted.ci
        assert row["vs_province"] == ("above" if lo > 0 else "below" if hi < 0 else "not significant")
        if not math.isfinite(d.p_value):  # not compared, not counted in K
            assert math.isnan(row["p_vs_province"]) and row["vs_province"] == "not significant"
        elif adjusted.ci_method == "wald-t":
            assert row["p_vs_province"] == pytest.approx(p)
            assert (row["p_vs_province"] < 0.05) == (row["vs_province"] != "not significant")
            assert lo <= d.ci[0] and d.ci[1] <= hi  # wider than the unadjusted interval
        else:  # MOVER near the boundary: no p-value matches the interval
            assert math.isnan(row["p_vs_province"])


def test_par_report_excel_has_the_rows_and_the_example_warning(demo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _instrument, _scheme, _scope, report = _report()
    out = tmp_path / "par.xlsx"
    par_report.write_par_xlsx(report, out)
    book = load_workbook(out, read_only=True)
    sheet = list(book["PAR"].iter_rows(values_only=True))
    assert str(sheet[0][0]).startswith("VÍ DỤ / EXAMPLE")
    assert sheet[3][0] == "rank" and "(≤ 5)" in str(sheet[3][8])
    assert [r[1] for r in sheet[4:]] == [row[1] for row in report.rows]
    assert sheet[4][report.headers.index("total_points")] == pytest.approx(
        report.rows[0][report.headers.index("total_points")]
    )
    method = dict(book["method"].iter_rows(values_only=True))
    assert "EXAMPLE" in method["scheme"] and method["weighting"].startswith("cell weights")
    assert f"Bonferroni-adjusted for the K = {report.comparisons} agencies" in method["vs_province / p_vs_province"]
    assert "Holm" not in method["vs_province / p_vs_province"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["par.xlsx"]


def test_a_malformed_scheme_names_the_file_and_reason(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.toml"
    bad.write_text('jurisdiction = "x"\nyear = 2026\n[[criteria]]\ncode = "a"\nmax_points = -1\n', encoding="utf-8")
    with pytest.raises(par_report.ParReportError, match="bad.toml: criterion 'a': max_points must be positive"):
        par_report.load_scheme(bad)


def test_par_report_command_writes_excel_and_audits(demo, runner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "par.xlsx"
    args = ["par-report", "--scheme", str(EXAMPLE), "--instrument", "sipas-2017", "--from", "2025-11-01"]
    result = runner.invoke(args=[*args, "--to", "2026-10-31", "--agency", "ninh-binh", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "agencies ranked (EXAMPLE scheme" in result.output and out.exists()
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "par_report.generated")).one()
    assert event.details["actor"] == "cli" and event.details["example_scheme"] is True
    bad = runner.invoke(args=[*args, "--to", "2026-10-31", "--output", str(tmp_path / "x.xlsx"), "--agency", "nowhere"])
    assert bad.exit_code == 2 and "unknown agency 'nowhere'" in bad.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["par.xlsx"]

"""``indices.csv`` in a bundle holds the dashboard's figures for the export's scope and period."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

from sqlalchemy import select

from survey.db import db
from survey.models import Agency, Instrument
from survey.services.exports.indices_file import COLUMNS
from survey.services.statistics.indices import TOTAL, IndexQuery, compute_indices
from tests.services.exports_files.conftest import INSTRUMENT, PERIOD


def _bundle(out) -> tuple[list[str], dict[str, bytes]]:  # type: ignore[no-untyped-def]
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        return names, {n.rsplit("/", 1)[-1]: zf.read(n) for n in names}


def test_indices_csv_equals_the_index_service_for_the_scope(export_demo, export_cli) -> None:  # type: ignore[no-untyped-def]
    result, out = export_cli("csv", "--bundle", "--agency", export_demo.agency_code, name="bundle.zip")
    assert result.exit_code == 0, result.output
    names, files = _bundle(out)
    assert names[0].endswith(".csv") and not names[0].endswith("indices.csv")  # the data file comes first
    rows = list(csv.DictReader(io.StringIO(files["indices.csv"].decode("utf-8"))))
    assert tuple(rows[0]) == COLUMNS
    session = db.session
    instrument = session.scalars(select(Instrument).where(Instrument.code == INSTRUMENT)).one()
    agency = session.scalars(select(Agency).where(Agency.code == export_demo.agency_code)).one()
    report = compute_indices(
        session,
        IndexQuery(instrument.id, dt.date.fromisoformat(PERIOD[0]), dt.date.fromisoformat(PERIOD[1]), [agency.id]),
    )
    expected_targets = ["overall"] + [e.code for e in instrument.elements] + [i.code for i in instrument.items]
    assert [r["target"] for r in rows[::2]] == expected_targets and [r["kind"] for r in rows[:2]] == ["share", "mean"]
    for row in rows:
        est = report.get(TOTAL, row["target"], row["kind"])
        assert float(row["estimate"]) == est.estimate and float(row["se"]) == est.se
        assert (float(row["ci_low"]), float(row["ci_high"])) == est.ci
        assert (int(row["df"]), int(row["n"]), row["ci_method"]) == (est.df, est.n, est.ci_method)
        assert row["flags"] == ";".join(f.code for f in est.flags)
    assert {r["level"] for r in rows} == {"overall", "element", "criterion"}


def test_a_subsample_bundle_has_no_indices_to_reproduce(export_demo, export_cli) -> None:  # type: ignore[no-untyped-def]
    result, out = export_cli("csv", "--bundle", "--sample", "50", "--seed", "7", name="bundle.zip")
    assert result.exit_code == 0, result.output
    names, files = _bundle(out)
    assert "indices.csv" not in files and "analysis.R" not in files
    assert "indices.csv" not in files["README.txt"].decode()

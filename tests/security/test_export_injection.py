"""Formula injection: comments a citizen types as spreadsheet formulas come out of CSV and XLSX as inert text."""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from pathlib import Path

import pytest
from flask import Flask, g
from openpyxl import load_workbook
from sqlalchemy import select

from survey.db import db
from survey.models import Counter, Instrument
from survey.services.submissions.links import counter_survey_path
from tests.conftest import hidden_fields

PAYLOADS = ['=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "=1+1"]


@pytest.mark.usefixtures("demo")
def test_formula_comments_submitted_through_the_form_are_inert_in_exports(app: Flask, tmp_path: Path) -> None:
    counter = db.session.scalars(
        select(Counter).join(Instrument).where(Instrument.code == "sipas-2017").order_by(Counter.id)
    ).first()
    client = app.test_client()
    path = counter_survey_path(app.config, counter)
    for payload in PAYLOADS:
        g.pop("csrf_token", None)
        token = hidden_fields(client.get(path).get_data(as_text=True))["csrf_token"]
        data = {f"q_{item.code}": "4" for item in counter.instrument.items}
        data.update(csrf_token=token, respondent_type="person", adult="y", submission_id=str(uuid.uuid4()))
        data["comment"] = payload
        assert client.post(path, data=data).status_code == 303
    today = dt.datetime.now(dt.UTC).date()
    window = ["--from", (today - dt.timedelta(days=2)).isoformat(), "--to", (today + dt.timedelta(days=2)).isoformat()]
    runner = app.test_cli_runner()
    common = ["export-responses", "--comments", "--instrument", "sipas-2017", *window]
    csv_path, xlsx_path = tmp_path / "out.csv", tmp_path / "out.xlsx"
    result = runner.invoke(args=[*common, "--format", "csv", "--output", str(csv_path)])
    assert result.exit_code == 0, result.output
    with csv_path.open(encoding="utf-8-sig", newline="") as fh:
        comments = {row["comment"] for row in csv.DictReader(fh)}
    for payload in PAYLOADS:
        assert "'" + payload in comments, payload
        assert payload not in comments
    result = runner.invoke(args=[*common, "--format", "xlsx", "--output", str(xlsx_path)])
    assert result.exit_code == 0, result.output
    sheet = load_workbook(xlsx_path)["data"]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    values = {cell.value for row in sheet.iter_rows() for cell in row}
    assert set(PAYLOADS) <= values  # kept as the text the citizen typed, stored as strings

"""QR images and print-ready posters: pure functions and the make-posters command (no web route)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import png
import pytest
from flask import Flask

from survey.qr import BORDER, qr_png, qr_svg_document
from survey.services.administration.posters import PosterError, agency_counters, agency_poster_zip
from survey.services.submissions.links import counter_survey_url

URL = "https://khaosat.example.vn/s/WzEsMV0.tEgp-VzpAqujJEXl-4nCZsk6Kxw"


def test_png_is_a_black_and_white_square_with_a_quiet_zone() -> None:
    width, height, rows, info = png.Reader(bytes=qr_png(URL, box_size=10)).read()
    rows = [list(r) for r in rows]
    assert width == height and width % 10 == 0
    modules = width // 10 - 2 * BORDER
    assert modules >= 21 and (modules - 21) % 4 == 0  # a QR version's size
    assert all(v == max(rows[0]) for v in rows[0])  # the quiet zone is white
    assert min(min(r) for r in rows) == 0  # and the code has dark modules


def test_svg_document_is_standalone() -> None:
    svg = qr_svg_document(URL).decode()
    assert svg.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<svg') and svg.rstrip().endswith("</svg>")


@pytest.mark.usefixtures("demo")
def test_agency_zip_has_a_printable_page_and_images_per_counter(app: Flask) -> None:
    agency, counters = agency_counters("hoa-lu")
    data = agency_poster_zip(app.config, "hoa-lu", stylesheet="@page{size:A4}")
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = set(archive.namelist())
    assert {"poster.css", "posters.html"} <= names
    for counter in counters:
        assert {f"{counter.code}.html", f"{counter.code}.svg", f"{counter.code}.png"} <= names
        assert archive.read(f"{counter.code}.png").startswith(b"\x89PNG")
    sheet = archive.read("posters.html").decode()
    assert sheet.count('<section class="poster"') == len(counters)
    assert agency.name_vi in sheet and '<link rel="stylesheet" href="poster.css">' in sheet
    assert "Quét mã QR bằng camera điện thoại." in sheet and "Scan the QR code with your phone camera." in sheet
    assert "Ông/bà hài lòng như thế nào?" in sheet and "How satisfied were you?" in sheet
    one = archive.read(f"{counters[0].code}.html").decode()
    assert counters[0].name_vi in one and counter_survey_url(app.config, counters[0]) in one
    assert one.count("<svg") == 1


@pytest.mark.usefixtures("demo")
def test_unknown_agency_has_no_posters(app: Flask) -> None:
    with pytest.raises(PosterError, match="no active counters for agency 'nowhere'"):
        agency_poster_zip(app.config, "nowhere", stylesheet="")


@pytest.mark.usefixtures("demo")
def test_make_posters_command_writes_the_zip(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    output = tmp_path / "hoa-lu.zip"
    result = runner.invoke(args=["make-posters", "--agency", "hoa-lu", "--output", str(output)])
    assert result.exit_code == 0, result.output
    css = zipfile.ZipFile(output).read("poster.css").decode()
    assert "size:A4" in css
    failed = runner.invoke(args=["make-posters", "--agency", "nowhere", "--output", str(tmp_path / "x.zip")])
    assert failed.exit_code == 1 and "no active counters" in failed.output
    assert "Write print-ready A4 QR posters" in runner.invoke(args=["make-posters", "--help"]).output


def test_posters_are_served_only_behind_staff_sign_in(app: Flask) -> None:
    # Issue 5: staff print posters from the counters page; no public blueprint serves them.
    for rule in app.url_map.iter_rules():
        if "poster" in rule.rule or "qr" in rule.rule.lower():
            blueprint = app.blueprints[rule.endpoint.split(".")[0]]
            assert getattr(blueprint, "sipas_protected", None) is not None, rule.rule

"""The HTML codebook of an instrument lists what every export holds, from the same source as the file's codebook."""

from __future__ import annotations

import html as html_lib

from sqlalchemy import select

from survey.db import db
from survey.models import Instrument
from survey.services.exports import codebook
from survey.services.exports.schema import export_columns


def test_the_codebook_page_lists_every_variable_item_and_code(signed_in) -> None:  # type: ignore[no-untyped-def]
    instrument = db.session.scalars(select(Instrument).where(Instrument.code == "sipas-2017")).one()
    reply = signed_in("statistician").get(f"/downloads/codebook/{instrument.id}")
    assert reply.status_code == 200
    page = html_lib.unescape(reply.get_data(as_text=True))
    assert page.count("<h1>") == 1 and "<caption>" in page and 'scope="col"' in page
    for column in export_columns(instrument, sample=True, comments=True):
        assert f"<code>{column.name}</code>" in page and column.label_vi in page
        for category in column.categories if column.kind == "category" else ():
            assert f"<code>{category.value}</code> ({category.code})" in page
    for item in instrument.items:
        assert item.text_vi in page and item.text_en in page
    for level in instrument.scale["levels"]:
        assert level["vi"] in page
    assert "Stata: .a" in page and "Stata: .b" in page
    assert codebook.WEIGHTING_VI.split("**")[0] in page  # the same wording as the export's codebook.md


def test_the_codebook_page_needs_export_rights_and_a_real_instrument(signed_in) -> None:  # type: ignore[no-untyped-def]
    assert signed_in("statistician").get("/downloads/codebook/999999").status_code == 404
    assert signed_in("agency_viewer").get("/downloads/codebook/1").status_code == 403

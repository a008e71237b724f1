"""Questionnaire authoring in the browser: upload a draft, preview it, publish it, assign it, retire it."""

from __future__ import annotations

import io
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from survey.db import db
from survey.models import Counter, Instrument, Response
from survey.services.administration.counters import instrument_choices
from survey.services.administration.instrument_documents import to_xlsform
from survey.services.administration.instruments import read_instrument_files
from tests.admin.helpers import agency, csrf, last_event
from tests.conftest import hidden_fields

WARD = next(s for s in read_instrument_files() if s.code == "sipas-ward-2026")


def _ward_form(code: str = "phieu-phuong-rut-gon", version: int = 1) -> bytes:
    from dataclasses import replace

    return to_xlsform(replace(WARD, code=code, version=version))


def _upload(client: FlaskClient, data: bytes, name: str = "phieu.xlsx") -> Any:
    return client.post(
        "/admin/questionnaires",
        data={"csrf_token": csrf(client), "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _version(code: str, version: int = 1) -> Instrument:
    db.session.expire_all()
    return db.session.scalars(select(Instrument).where(Instrument.code == code, Instrument.version == version)).one()


def test_a_province_drafts_previews_publishes_and_assigns_its_own_short_form(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("province_admin")
    listing = client.get("/admin/questionnaires")
    assert listing.status_code == 200 and "sipas-2017 v1" in listing.get_data(as_text=True)

    saved = _upload(client, _ward_form())
    assert saved.status_code == 303
    draft = _version("phieu-phuong-rut-gon")
    assert draft.status == "draft" and draft.owner_agency_id == agency("ninh-binh").id
    assert [i.national_code for i in draft.items][:3] == ["c10", None, "c15"]
    event = last_event()
    assert event is not None and event.action == "instrument.draft_saved" and event.agency_id == draft.owner_agency_id
    department = agency("so-tu-phap")
    assert draft.id not in {i.id for i in instrument_choices(db.session, department.id)}  # never offered as a draft

    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Bản nháp" in page and "tiêu chí 10 của QĐ 2640" in page

    # The preview is the citizen's page: 9 statements, the answers checked, nothing stored.
    preview_url = f"/admin/questionnaires/{draft.id}/preview"
    preview = client.get(preview_url).get_data(as_text=True)
    assert preview.count('class="q scale') == 9 and "<h1>" in preview and preview.count("<h1>") == 1
    responses_before = db.session.scalar(select(func.count()).select_from(Response))
    fields = hidden_fields(preview)
    empty = client.post(preview_url, data=fields)
    assert empty.status_code == 422 and "error-summary" in empty.get_data(as_text=True)
    answers = {**fields, "respondent_type": "person", "adult": "y"}
    answers.update({f"q_{item.code}": "4" for item in draft.items})
    complete = client.post(preview_url, data=answers)
    assert complete.status_code == 200 and "Không có gì được lưu" in complete.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Response)) == responses_before

    published = client.post(f"/admin/questionnaires/{draft.id}/publish", data={"csrf_token": csrf(client)})
    assert published.status_code == 303
    assert _version("phieu-phuong-rut-gon").status == "published"
    assert draft.id in {i.id for i in instrument_choices(db.session, department.id)}
    assert draft.id not in {i.id for i in instrument_choices(db.session, None)}  # another province's counters

    # Frozen: the same version cannot be uploaded again; version 2 can.
    again = _upload(client, _ward_form())
    assert again.status_code == 409 and "phiên bản 2" in again.get_data(as_text=True)
    assert _upload(client, _ward_form(version=2)).status_code == 303

    # Retiring is refused while an open counter uses the version.
    counter = db.session.scalars(select(Counter).where(Counter.agency_id == department.id)).first()
    assert counter is not None
    previous = counter.instrument_id
    counter.instrument_id = draft.id
    db.session.commit()
    refused = client.post(f"/admin/questionnaires/{draft.id}/retire", data={"csrf_token": csrf(client)})
    assert refused.status_code == 303
    assert "quầy đang mở vẫn dùng" in client.get(refused.headers["Location"]).get_data(as_text=True)
    assert _version("phieu-phuong-rut-gon").status == "published"
    counter.instrument_id = previous
    db.session.commit()
    client.post(f"/admin/questionnaires/{draft.id}/retire", data={"csrf_token": csrf(client)})
    assert db.session.get(Instrument, draft.id).status == "retired"  # type: ignore[union-attr]
    assert last_event().action == "instrument.retired"  # type: ignore[union-attr]


def test_a_bad_form_is_refused_with_every_problem_and_nothing_is_saved(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("province_admin")
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(_ward_form("phieu-loi")))
    book["survey"]["A3"] = "text"
    book["survey"]["E4"] = "maybe"
    out = io.BytesIO()
    book.save(out)
    refused = _upload(client, out.getvalue())
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "survey sheet, row 3: type &#39;text&#39; is not supported" in html and "row 4" in html
    assert db.session.scalar(select(func.count()).select_from(Instrument).where(Instrument.code == "phieu-loi")) == 0
    not_xlsx = _upload(client, b"a,b\n1,2\n", "phieu.csv")
    assert not_xlsx.status_code == 422


def test_a_province_cannot_retire_a_shipped_version_and_other_roles_cannot_author(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("province_admin")
    shipped = _version("sipas-2017")
    reply = client.post(f"/admin/questionnaires/{shipped.id}/retire", data={"csrf_token": csrf(client)})
    assert reply.status_code == 303 and _version("sipas-2017").status == "published"
    assert "Chỉ tỉnh đã soạn" in client.get(reply.headers["Location"]).get_data(as_text=True)
    for role in ("agency_manager", "statistician", "auditor"):
        assert signed_in(role).get("/admin/questionnaires").status_code == 403, role

"""The public results page: opt-in per province, no sign-in, suppression kept, published actions only."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Flask
from sqlalchemy import select

from survey.db import db
from survey.models import Agency, AuditEvent, CommentFollowUp, PublishedAction
from survey.services.statistics import public_results
from tests.conftest import add_comment_response, hidden_fields

PROVINCE = "ninh-binh"


def _opt_in(client: Any, code: str = PROVINCE, publish: str = "yes") -> Any:
    url = f"/admin/agencies/{code}/public-results"
    page = client.get(url)
    assert page.status_code == 200
    token = hidden_fields(page.get_data(as_text=True))["csrf_token"]
    return client.post(url, data={"csrf_token": token, "publish": publish})


def test_nothing_is_public_until_a_province_opts_in(staff_app: Flask, signed_in: Any) -> None:
    anonymous = staff_app.test_client()
    assert anonymous.get(f"/results/{PROVINCE}").status_code == 404
    assert anonymous.get("/results/so-tu-phap").status_code == 404
    assert anonymous.get("/results/%00").status_code in (400, 404)
    assert "Ninh" not in anonymous.get("/results/").get_data(as_text=True)
    admin = signed_in("province_admin")
    assert _opt_in(admin).status_code == 303
    province = db.session.scalar(select(Agency).where(Agency.code == PROVINCE))
    assert province is not None and public_results.is_published(db.session, province.id)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "public_results.enabled")) is not None
    page = anonymous.get(f"/results/{PROVINCE}")
    assert page.status_code == 200
    assert page.headers["Cache-Control"].startswith("public, max-age=")
    assert "Set-Cookie" not in page.headers
    html = page.get_data(as_text=True)
    assert html.count("<h1") == 1
    rows = re.findall(r'<tr><th scope="row">', html)
    assert len(rows) == 12
    assert "<svg" in html and 'role="img"' in html
    assert "/results/so-tu-phap" in html
    # An agency of the province: small months are withheld, never shown with a number.
    agency_page = anonymous.get("/results/so-tu-phap").get_data(as_text=True)
    assert "chưa đủ câu trả lời" in agency_page
    # Opting out closes it again.
    assert _opt_in(admin, publish="no").status_code == 303
    assert anonymous.get(f"/results/{PROVINCE}").status_code == 404


def test_only_administrators_of_the_province_opt_in(signed_in: Any) -> None:
    manager = signed_in("agency_manager")
    assert manager.get(f"/admin/agencies/{PROVINCE}/public-results").status_code == 403
    admin = signed_in("province_admin")
    assert admin.get("/admin/agencies/so-tu-phap/public-results").status_code == 404  # not a province
    token = hidden_fields(admin.get(f"/admin/agencies/{PROVINCE}/public-results").get_data(as_text=True))["csrf_token"]
    assert admin.post(f"/admin/agencies/{PROVINCE}/public-results", data={"csrf_token": token}).status_code == 400


def test_you_said_we_did_shows_the_managers_text_and_never_the_comment(
    staff_app: Flask, signed_in: Any, logins: dict[str, Any]
) -> None:
    _opt_in(signed_in("province_admin"))
    code = logins["agency_manager"].agency
    comment = "Chị Lan ở quầy 2 rất chậm, tôi ở thôn Đông"
    response = add_comment_response(code, dt.date(2026, 10, 2), comment)
    db.session.add(CommentFollowUp(response_id=response.id, agency_id=response.agency_id, status="resolved"))
    db.session.add(
        PublishedAction(agency_id=response.agency_id, response_id=response.id, text="Bố trí thêm một quầy buổi sáng")
    )
    db.session.commit()
    html = staff_app.test_client().get(f"/results/{code}").get_data(as_text=True)
    assert "Bố trí thêm một quầy buổi sáng" in html
    assert comment not in html and "Chị Lan" not in html


def test_a_signed_in_reader_gets_a_private_copy(staff_app: Flask, signed_in: Any) -> None:
    admin = signed_in("province_admin")
    _opt_in(admin)
    page = admin.get(f"/results/{PROVINCE}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "private, no-store"

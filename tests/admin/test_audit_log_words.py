"""The audit log in words (issue 17): Vietnamese event names and details instead of codes and JSON, links
to the agency and the user, filters by agency, user and day/month/year dates."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from sqlalchemy import select

from survey.admin.audit_labels import action_label, details
from survey.db import db
from survey.form_dates import parse_date
from survey.models import Agency, User
from survey.services.identity import audit


def _agency(code: str) -> Agency:
    agency = db.session.scalar(select(Agency).where(Agency.code == code))
    assert agency is not None
    return agency


def _record() -> tuple[Agency, Agency, User]:
    tu_phap, tai_chinh = _agency("so-tu-phap"), _agency("so-tai-chinh")
    actor = db.session.scalar(select(User).order_by(User.id))
    assert actor is not None
    audit.record(
        db.session,
        "response.excluded",
        actor_user_id=actor.id,
        target_type="response",
        target_id=4242,
        agency_id=tu_phap.id,
        details={"agency_id": tu_phap.id, "reason": "test_or_training"},
    )
    audit.record(db.session, "period.created", agency_id=tai_chinh.id, details={"name": "Đợt 2026"})
    db.session.commit()
    return tu_phap, tai_chinh, actor


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


def test_events_read_in_vietnamese_with_links(staff_app: Flask, signed_in) -> None:  # type: ignore[no-untyped-def]
    tu_phap, _, actor = _record()
    html = signed_in("auditor").get("/admin/audit").get_data(as_text=True)
    row = next(r for r in _rows(html) if "response.excluded" in r)
    assert "Loại phiếu" in row
    assert "Lý do</dt><dd>Test or training entry" not in row  # translated, not the English label
    assert "Lý do</dt><dd>" in row and "test_or_training" not in row
    assert f"Cơ quan</dt><dd>{tu_phap.name_vi}" in row
    assert '{"agency_id"' not in row and "&#34;agency_id&#34;" not in row
    assert "Phiếu 4242" in row
    assert f'href="/admin/audit?agency={tu_phap.id}"' in row
    assert f'href="/admin/audit?user={actor.id}"' in row


def test_filter_by_agency_and_user(staff_app: Flask, signed_in) -> None:  # type: ignore[no-untyped-def]
    tu_phap, tai_chinh, actor = _record()
    client = signed_in("auditor")
    by_agency = client.get("/admin/audit", query_string={"agency": str(tai_chinh.id)}).get_data(as_text=True)
    rows = _rows(by_agency)
    assert rows and all(tai_chinh.name_vi in r for r in rows)
    assert not any("response.excluded" in r for r in rows)
    by_user = client.get("/admin/audit", query_string={"user": str(actor.id)}).get_data(as_text=True)
    assert all(f"?user={actor.id}" in r for r in _rows(by_user))
    # Junk in the filters is ignored rather than an error.
    assert client.get("/admin/audit", query_string={"agency": "x", "user": "-1"}).status_code == 200


def test_dates_as_day_month_year_under_vietnamese(staff_app: Flask, signed_in) -> None:  # type: ignore[no-untyped-def]
    _record()
    client = signed_in("auditor")
    today = dt.date.today()
    reply = client.get("/admin/audit", query_string={"date_from": today.strftime("%d/%m/%Y")})
    assert reply.status_code == 200 and "response.excluded" in reply.get_data(as_text=True)
    bad = client.get("/admin/audit", query_string={"date_from": "31/02/2026"})
    assert bad.status_code == 400
    assert "ngày/tháng/năm" in bad.get_data(as_text=True)
    english = client.get("/admin/audit", query_string={"date_from": "04/12/2026", "lang": "en"})
    assert english.status_code == 400 and "year-month-day" in english.get_data(as_text=True)


@pytest.mark.parametrize(
    ("raw", "day_first", "expected"),
    [
        ("2026-09-30", False, dt.date(2026, 9, 30)),
        ("2026-09-30", True, dt.date(2026, 9, 30)),
        ("30/09/2026", True, dt.date(2026, 9, 30)),
        ("3.9.2026", True, dt.date(2026, 9, 3)),
        ("30/09/2026", False, None),
        ("31/02/2026", True, None),
        ("30/9/26", True, None),
    ],
)
def test_parse_date(raw: str, day_first: bool, expected: dt.date | None) -> None:
    assert parse_date(raw, day_first) == expected


def test_labels_fall_back_to_the_code(staff_app: Flask) -> None:
    with staff_app.test_request_context("/?lang=vi"):
        assert action_label("response.excluded") == "Loại phiếu"
        assert action_label("test.something_new") == "test.something_new"
        lines = details({"agency_id": 7, "with_note": True, "from": {"name": "A"}}, {7: "Sở Tư pháp"})
        assert lines == [("Cơ quan", "Sở Tư pháp"), ("Có ghi chú", "có"), ("Trước", "Tên: A")]

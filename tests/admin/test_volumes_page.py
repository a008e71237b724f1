"""The volume import page and CLI: upload, problems listed by row, nothing stored on error, scope, CSRF."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from survey.db import db
from survey.models import AuditEvent, TransactionVolume
from tests.admin.helpers import agency, csrf

GOOD = b"agency_code,counter_code,field_code,month,count\nso-tu-phap,,chung-thuc,2026-05,321\n"


def _stored() -> int:
    return int(db.session.scalar(select(func.count()).select_from(TransactionVolume)) or 0)


def _upload(client, data: bytes, name: str = "volumes.csv", token: str | None = None):  # type: ignore[no-untyped-def]
    token = csrf(client) if token is None else token
    return client.post(
        "/admin/volumes",
        data={"csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_page_explains_the_format_in_both_languages(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("province_admin")
    vi = client.get("/admin/volumes?lang=vi").get_data(as_text=True)
    assert "<h1>Số lượng giao dịch</h1>" in vi and "Tải tệp mẫu (CSV)" in vi
    assert "Số giao dịch theo cơ quan và tháng" in vi  # the stored-volumes table (the demo seeds 12 months)
    en = client.get("/admin/volumes?lang=en").get_data(as_text=True)
    assert "<h1>Transaction volumes</h1>" in en and "agency_code" in en and "Download a template (CSV)" in en


def test_a_good_upload_is_imported_and_audited(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_manager")
    reply = _upload(client, GOOD)
    body = reply.get_data(as_text=True)
    assert reply.status_code == 200, body[:500]
    assert "Đã nhập volumes.csv" in body and "Đã nhập 1 số liệu" in body
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "volumes.imported"))
    assert event is not None and event.details["agencies"] == ["so-tu-phap"]
    assert event.actor_user_id is not None


def test_a_bad_upload_lists_rows_and_stores_nothing(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_manager")
    before = _stored()
    bad = GOOD + b"so-tai-chinh,,dau-tu,2026-05,5\nso-tu-phap,,chung-thuc,2026-13,x\n"
    reply = _upload(client, bad)
    body = reply.get_data(as_text=True)
    assert reply.status_code == 422
    assert "<title>Lỗi:" in body and 'class="error-summary"' in body and 'href="#import-problems"' in body
    assert '<th scope="row">3</th>' in body and "so-tai-chinh" in body  # outside the manager's department
    assert '<th scope="row">4</th>' in body and "2026-13" in body
    assert _stored() == before


def test_no_file_and_no_csrf_are_refused(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("province_admin")
    reply = client.post("/admin/volumes", data={"csrf_token": csrf(client)}, content_type="multipart/form-data")
    assert reply.status_code == 422 and "Chọn tệp CSV hoặc Excel để nhập" in reply.get_data(as_text=True)
    before = _stored()
    assert _upload(client, GOOD, token="").status_code == 400
    assert _stored() == before


def test_template_download_and_role_refusal(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("agency_manager")
    template = client.get("/admin/volumes/template.csv")
    assert template.status_code == 200 and template.mimetype == "text/csv"
    assert template.data.startswith(b"\xef\xbb\xbfagency_code,counter_code,field_code,month,count")
    assert b"so-tu-phap" in template.data and b"ninh-binh" not in template.data
    for role in ("statistician", "agency_viewer", "auditor"):
        assert signed_in(role).get("/admin/volumes").status_code == 403


def test_cli_imports_and_reports_problems(staff_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    runner = staff_app.test_cli_runner()
    good = tmp_path / "good.csv"
    good.write_bytes(GOOD)
    result = runner.invoke(args=["import-volumes", str(good)])
    assert result.exit_code == 0, result.output
    assert "Imported 1 figures for 1 agencies (2026-05); 1 agency-months replaced." in result.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"agency_code,field_code,month,count\nkhong-co,ho-tich,2026-05,1\nhoa-lu,ho-tich,2026-05,-1\n")
    before = _stored()
    result = runner.invoke(args=["import-volumes", str(bad)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("bad.csv: row 2: ") and "khong-co" in lines[0]
    assert lines[1].startswith("bad.csv: row 3: ")
    assert _stored() == before
    assert agency("hoa-lu").id  # the demo's commune is still there


def test_check_only_stores_nothing(signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("province_admin")
    before = _stored()
    reply = client.post(
        "/admin/volumes",
        data={"csrf_token": csrf(client), "check_only": "1", "file": (io.BytesIO(GOOD), "may.csv")},
        content_type="multipart/form-data",
    )
    assert reply.status_code == 200
    assert "may.csv không có lỗi: nếu nhập sẽ lưu 1 số liệu" in reply.get_data(as_text=True)
    assert _stored() == before
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "volumes.imported")) is None

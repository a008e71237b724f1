"""Web exports: the form, a job with progress, the bundle download, scope, bad input, expiry and the thread."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from survey.db import db, utcnow
from survey.models import Agency, AuditEvent, ExportJob, Instrument, Response, SurveyPeriod, User
from survey.services.exports import jobs, responses
from survey.services.identity.users import create_user
from tests.conftest import hidden_fields, sign_in_client

PERIOD = ("2025-11-01", "2026-10-31")


def _form(client: FlaskClient, **values: str) -> dict[str, str]:
    token = hidden_fields(client.get("/downloads/exports").get_data(as_text=True))["csrf_token"]
    data = {
        "csrf_token": token,
        "format": "csv",
        "agency": "ninh-binh",
        "instrument": "sipas-2017:1",
        "status": "valid",
        "date_from": PERIOD[0],
        "date_to": PERIOD[1],
    }
    data.update(values)
    return data


def _post(client: FlaskClient, **values: str):  # type: ignore[no-untyped-def]
    return client.post("/downloads/exports", data=_form(client, **values))


def _expected_ids(codes: list[str] | None = None) -> list[int]:
    instrument = db.session.scalars(select(Instrument).where(Instrument.code == "sipas-2017")).one()
    query = select(Response.id).where(
        Response.instrument_id == instrument.id,
        Response.status == "valid",
        Response.received_on >= dt.date.fromisoformat(PERIOD[0]),
        Response.received_on <= dt.date.fromisoformat(PERIOD[1]),
    )
    if codes is not None:
        ids = responses.agency_subtree(db.session, codes)
        query = query.where(Response.agency_id.in_(sorted(ids)))
    return sorted(db.session.scalars(query))


def _bundle_rows(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        csv_name = next(n for n in names if n.endswith(".csv"))
        text = zf.read(csv_name).decode("utf-8-sig")
    return names, list(csv.DictReader(io.StringIO(text)))


def _download(client: FlaskClient, url: str):  # type: ignore[no-untyped-def]
    """GET a file and close the response (send_file streams from an open file)."""
    reply = client.get(url)
    reply.get_data()
    reply.close()
    return reply


def _job_count() -> int:
    return db.session.scalar(select(func.count()).select_from(ExportJob)) or 0


def test_export_form_is_for_export_roles_only(signed_in, export_dir: Path) -> None:  # type: ignore[no-untyped-def]
    page = signed_in("statistician").get("/downloads/exports")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count("<h1>") == 1 and 'name="csrf_token"' in html and "/downloads/codebook/" in html
    for role in ("agency_manager", "agency_viewer", "auditor"):
        assert signed_in(role).get("/downloads/exports").status_code == 403


def test_an_export_runs_shows_progress_and_downloads_the_bundle(staff_app: Flask, signed_in, export_dir) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("statistician")
    reply = _post(client, comments="y")
    assert reply.status_code == 303, reply.get_data(as_text=True)[:2000]
    job_url = reply.headers["Location"]
    job = db.session.scalars(select(ExportJob)).one()
    assert job_url.endswith(f"/downloads/exports/{job.public_id}") and len(job.public_id) == 32
    page = client.get(job_url).get_data(as_text=True)
    assert 'role="status"' in page and 'http-equiv="refresh"' not in page
    expected = _expected_ids()
    db.session.refresh(job)
    assert (job.status, job.rows_done, job.rows_total) == ("done", len(expected), len(expected))
    assert job.heartbeat_at is not None and job.finished_at is not None
    download = _download(client, f"{job_url}/file")
    assert download.status_code == 200
    disposition = download.headers["Content-Disposition"]
    assert (
        disposition.startswith("attachment;") and "sipas-responses-sipas-2017-v1-20251101-20261031.zip" in disposition
    )
    names, rows = _bundle_rows(download.data)
    assert any(n.endswith("/codebook.md") for n in names) and any(n.endswith("/README.txt") for n in names)
    assert sorted(int(r["response_id"]) for r in rows) == expected
    assert "comment" in rows[0] and "weight" in rows[0]
    actions = {e.action: e for e in db.session.scalars(select(AuditEvent))}
    user = db.session.scalars(select(User).where(User.email == "thongke@demo.sipas.vn")).one()
    exported = actions["responses.exported"]
    assert exported.actor_user_id == user.id and exported.details["rows"] == len(expected)
    assert exported.details["actor"] == "web" and exported.details["filters"]["comments"] is True
    assert actions["export_job.created"].target_id == job.public_id
    assert actions["export_job.downloaded"].actor_user_id == user.id
    # The list of recent exports links the job and its file.
    listing = client.get("/downloads/exports").get_data(as_text=True)
    assert f"/downloads/exports/{job.public_id}/file" in listing


def test_only_the_owner_sees_or_downloads_a_job(signed_in, export_dir) -> None:  # type: ignore[no-untyped-def]
    owner = signed_in("statistician")
    assert _post(owner).status_code == 303
    job = db.session.scalars(select(ExportJob)).one()
    other = signed_in("system_admin")
    assert other.get(f"/downloads/exports/{job.public_id}").status_code == 404
    assert other.get(f"/downloads/exports/{job.public_id}/file").status_code == 404
    assert job.public_id not in other.get("/downloads/exports").get_data(as_text=True)
    assert owner.get("/downloads/exports/not-a-job/file").status_code == 404


@pytest.fixture
def department_statistician(staff_app: Flask) -> FlaskClient:
    """A statistician whose scope is one department (so-tu-phap) and what lies below it."""
    create_user(
        "thongke.tuphap@demo.sipas.vn", "Thống kê Sở Tư pháp", "mat-khau-rat-dai-123", "statistician", "so-tu-phap"
    )
    return sign_in_client(staff_app.test_client(), "thongke.tuphap@demo.sipas.vn", "mat-khau-rat-dai-123")


def test_exports_never_reach_beyond_the_users_scope(department_statistician: FlaskClient, export_dir) -> None:
    client = department_statistician
    page = client.get("/downloads/exports").get_data(as_text=True)
    assert 'value="so-tu-phap"' in page and 'value="ninh-binh"' not in page and 'value="so-tai-chinh"' not in page
    for foreign in ("ninh-binh", "so-tai-chinh"):
        refused = _post(client, agency=foreign)
        assert refused.status_code == 422 and "Chọn một cơ quan trong danh sách" in refused.get_data(as_text=True)
    assert _job_count() == 0
    assert _post(client, agency="so-tu-phap").status_code == 303
    job = db.session.scalars(select(ExportJob)).one()
    _names, rows = _bundle_rows(_download(client, f"/downloads/exports/{job.public_id}/file").data)
    assert sorted(int(r["response_id"]) for r in rows) == _expected_ids(["so-tu-phap"])
    assert {r["agency"] for r in rows} <= set(
        db.session.scalars(
            select(Agency.code).where(Agency.id.in_(responses.agency_subtree(db.session, ["so-tu-phap"])))
        )
    )


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"format": "pdf"}, "format", "Chọn định dạng tệp"),
        ({"date_from": "2030-01-01", "date_to": "2030-12-31"}, "date_from", "Không có phiếu nào khớp với các bộ lọc"),
        ({"date_from": "2026-05-01", "date_to": "2026-04-01"}, "date_to", "Ngày kết thúc phải"),
        ({"date_from": "31/02/2026"}, "date_from", "nhập ngày theo dạng ngày/tháng/năm"),
        ({"sample": "50"}, "seed", "Nhập hạt giống"),
        ({"seed": "7"}, "sample", "Nhập cỡ mẫu"),
        ({"sample": "-3", "seed": "1"}, "sample", "Nhập cỡ mẫu là số nguyên"),
        ({"instrument": "khong-co:9"}, "instrument", "Chọn một bảng hỏi trong danh sách"),
        ({"status": "deleted"}, "status", "Chọn những phiếu cần xuất"),
        ({"survey_period": "999999"}, "survey_period", "Chọn một đợt khảo sát trong danh sách"),
    ],
    ids=[
        "format",
        "no-data",
        "end-before-start",
        "bad-date",
        "sample-no-seed",
        "seed-no-sample",
        "bad-sample",
        "instrument",
        "status",
        "period",
    ],  # fmt: skip
)
def test_bad_input_gets_a_specific_message_and_no_job(signed_in, export_dir, values, field, message) -> None:  # type: ignore[no-untyped-def]
    reply = _post(signed_in("statistician"), **values)
    html = reply.get_data(as_text=True)
    assert reply.status_code == 422
    assert message in html and f'href="#{field}' in html and "<title>Lỗi:" in html
    assert _job_count() == 0
    assert not export_dir.exists() or not any(export_dir.iterdir())


def test_a_sample_is_reproducible_from_its_seed(signed_in, export_dir) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("statistician")
    drawn = []
    for _ in range(2):
        assert _post(client, sample="40", seed="2026", stratified="y").status_code == 303
        job = db.session.scalars(select(ExportJob).order_by(ExportJob.id.desc())).first()
        assert job is not None
        _names, rows = _bundle_rows(_download(client, f"/downloads/exports/{job.public_id}/file").data)
        drawn.append([int(r["response_id"]) for r in rows])
        assert "sample_factor" in rows[0]
    assert drawn[0] == drawn[1] and len(drawn[0]) == 40


def test_a_running_job_refreshes_and_a_stale_one_is_interrupted(signed_in, export_dir) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("statistician")
    user = db.session.scalars(select(User).where(User.email == "thongke@demo.sipas.vn")).one()
    now = utcnow()
    running = ExportJob(public_id="a" * 32, user_id=user.id, format="csv", filters="{}", status="running",
                        rows_total=10_000, rows_done=2_500, heartbeat_at=now)  # fmt: skip
    stale = ExportJob(public_id="b" * 32, user_id=user.id, format="csv", filters="{}", status="running",
                      rows_total=10_000, rows_done=5_000, heartbeat_at=now - dt.timedelta(minutes=3))  # fmt: skip
    db.session.add_all([running, stale])
    db.session.commit()
    page = client.get(f"/downloads/exports/{'a' * 32}").get_data(as_text=True)
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in page and 'aria-live="polite"' in page
    assert re.search(r'<script nonce="[^"]+">', page)  # the in-place update carries the CSP nonce
    assert "Đã ghi 2.500 trên 10.000 phiếu (25 %)" in page and 'value="25"' in page
    assert 'http-equiv="refresh"' not in client.get(f"/downloads/exports/{'a' * 32}?refresh=off").get_data(as_text=True)
    page = client.get(f"/downloads/exports/{'b' * 32}").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in page and "bị gián đoạn" in page
    assert client.get(f"/downloads/exports/{'b' * 32}/file").status_code == 404


def test_files_expire_after_seven_days_and_purge_removes_them(staff_app, signed_in, export_dir) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("statistician")
    assert _post(client).status_code == 303
    job = db.session.scalars(select(ExportJob)).one()
    folder = export_dir / job.public_id
    assert any(folder.iterdir())
    job.finished_at = utcnow() - dt.timedelta(days=8)
    db.session.commit()
    gone = client.get(f"/downloads/exports/{job.public_id}/file")
    assert gone.status_code == 410 and "7 ngày" in gone.get_data(as_text=True)
    result = staff_app.test_cli_runner().invoke(args=["purge-exports"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 expired export files" in result.output and not folder.exists()
    db.session.refresh(job)
    assert job.file_name is None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "exports.purged")).one()
    assert event.details["files"] == 1


def test_the_threaded_path_writes_progress_and_the_file(staff_app: Flask, signed_in, export_dir) -> None:  # type: ignore[no-untyped-def]
    staff_app.config["EXPORT_JOBS_INLINE"] = False
    client = signed_in("statistician")
    reply = _post(client, format="xlsx")
    assert reply.status_code == 303
    # Wait before touching the database: in tests the thread shares the test's connection (one transaction).
    public_id = reply.headers["Location"].rsplit("/", 1)[1]
    assert jobs.wait(public_id, timeout=120)
    job = db.session.scalars(select(ExportJob)).one()
    db.session.expire_all()
    assert job.status == "done" and job.rows_done == len(_expected_ids()) and job.file_name
    assert (export_dir / job.file_name).is_file()
    assert _download(client, f"/downloads/exports/{job.public_id}/file").status_code == 200


def test_a_named_survey_period_sets_the_dates(signed_in, export_dir) -> None:  # type: ignore[no-untyped-def]
    province = db.session.scalars(select(Agency).where(Agency.code == "ninh-binh")).one()
    period = SurveyPeriod(agency_id=province.id, name="Đợt 1 năm 2026", starts_on=dt.date(2026, 1, 1),
                          ends_on=dt.date(2026, 3, 31))  # fmt: skip
    db.session.add(period)
    db.session.commit()
    client = signed_in("statistician")
    assert "Đợt 1 năm 2026" in client.get("/downloads/exports").get_data(as_text=True)
    both = _post(client, survey_period=str(period.id))  # the form's default dates are filled in too
    assert both.status_code == 422 and "không chọn cả hai" in both.get_data(as_text=True)
    assert _post(client, survey_period=str(period.id), date_from="", date_to="").status_code == 303
    job = db.session.scalars(select(ExportJob)).one()
    _names, rows = _bundle_rows(_download(client, f"/downloads/exports/{job.public_id}/file").data)
    dates = sorted(r["date"] for r in rows)
    assert dates and dates[0] >= "2026-01-01" and dates[-1] <= "2026-03-31"
    page = client.get(f"/downloads/exports/{job.public_id}").get_data(as_text=True)
    assert "Đợt 1 năm 2026: 01/01/2026 – 31/03/2026" in page


def test_a_user_may_run_two_exports_at_once(signed_in, export_dir) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("statistician")
    user = db.session.scalars(select(User).where(User.email == "thongke@demo.sipas.vn")).one()
    for letter in "cd":
        db.session.add(ExportJob(public_id=letter * 32, user_id=user.id, format="csv", filters="{}", status="running",
                                 rows_total=10, heartbeat_at=utcnow()))  # fmt: skip
    db.session.commit()
    busy = _post(client)
    assert busy.status_code == 422 and "Bạn đang có hai lần xuất dữ liệu chưa xong" in busy.get_data(as_text=True)
    assert _job_count() == 2
    stale = db.session.scalars(select(ExportJob).where(ExportJob.public_id == "c" * 32)).one()
    stale.heartbeat_at = utcnow() - dt.timedelta(minutes=5)  # interrupted jobs do not count
    db.session.commit()
    assert _post(client).status_code == 303


def test_repeat_this_export_fills_the_form_again(signed_in, export_dir) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("statistician")
    assert _post(client, format="dta", agency="so-tu-phap", comments="y", sample="20", seed="99").status_code == 303
    job = db.session.scalars(select(ExportJob)).one()
    page = client.get(f"/downloads/exports/{job.public_id}").get_data(as_text=True)
    link = re.search(r'href="(/downloads/exports\?[^"]+)">Lặp lại lần xuất này', page)
    assert link is not None
    form = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert 'value="dta" checked' in form and '<option selected value="so-tu-phap">' in form
    assert 'id="seed" name="seed" type="text" value="99"' in form and '<input checked id="comments"' in form
    assert 'value="2025-' in form or 'value="2026-' in form  # the dates the job used


def test_with_redis_unreachable_the_export_fails_visibly(staff_app: Flask, signed_in, export_dir) -> None:  # type: ignore[no-untyped-def]
    # Redis configured (so the job goes on the export queue) but nothing listening there.
    staff_app.config.update(EXPORT_JOBS_INLINE=False, REDIS_URL="redis://127.0.0.1:1/13")
    client = signed_in("statistician")
    reply = _post(client)
    assert reply.status_code == 303
    job = db.session.scalars(select(ExportJob)).one()
    db.session.refresh(job)
    assert (job.status, job.error) == ("failed", "the export queue (Redis) is unreachable") and job.finished_at
    page = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert "the export queue (Redis) is unreachable" in page and 'http-equiv="refresh"' not in page
    assert client.get(f"/downloads/exports/{job.public_id}/file").status_code == 404


def test_a_lost_worker_never_touches_a_finished_export(signed_in, export_dir) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("statistician")
    assert _post(client).status_code == 303
    job = db.session.scalars(select(ExportJob)).one()
    # A queue callback arriving late (the process died just after the file was renamed into place).
    jobs.mark_lost(job.public_id, export_dir, "the export worker stopped while it ran")
    db.session.refresh(job)
    assert job.status == "done" and job.error is None
    assert _download(client, f"/downloads/exports/{job.public_id}/file").status_code == 200
    # A running job whose worker died is queued again for the retry, its progress reset.
    user = db.session.scalars(select(User).where(User.email == "thongke@demo.sipas.vn")).one()
    db.session.add(ExportJob(public_id="e" * 32, user_id=user.id, format="csv", filters="{}", status="running",
                             rows_total=10_000, rows_done=5_000, heartbeat_at=utcnow()))  # fmt: skip
    db.session.commit()
    (export_dir / ("e" * 32)).mkdir(parents=True)
    (export_dir / ("e" * 32) / ".export.zip.partial.csv").write_text("half")
    jobs.mark_lost("e" * 32, export_dir, "the export worker stopped while it ran", retry=True)
    lost = db.session.scalars(select(ExportJob).where(ExportJob.public_id == "e" * 32)).one()
    db.session.refresh(lost)
    assert (lost.status, lost.rows_done) == ("queued", 0) and not (export_dir / ("e" * 32)).exists()


def test_export_pages_show_labels_not_codes(signed_in, export_dir) -> None:  # type: ignore[no-untyped-def]
    """Format, agency, status and dates in words (issue 17), not ``sav``, ``ninh-binh``, ``valid``, ISO dates."""
    client = signed_in("statistician")
    assert _post(client, format="sav", date_from="01/07/2026", date_to="30/09/2026").status_code == 303
    job = db.session.scalars(select(ExportJob)).one()
    row = client.get("/downloads/exports").get_data(as_text=True).split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert "SPSS (.sav)" in row and "<td>sav</td>" not in row
    assert "<td>ninh-binh</td>" not in row
    page = client.get(f"/downloads/exports/{job.public_id}").get_data(as_text=True)
    assert "SPSS (.sav)" in page and "01/07/2026 – 30/09/2026" in page and "<dd>2026-07-01" not in page
    assert "<dd>Chỉ phiếu hợp lệ</dd>" in page

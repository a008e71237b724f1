"""Path traversal: no route that serves a file can be made to serve one outside its own directory.

Covered: the export download (by public id, and with a job row whose stored file name was tampered with),
static files, the PAR workbook, the codebook and the poster ZIP (whose member names come from counter codes).
A refused request is a 4xx, never a 500 and never the bytes of the file it aimed at.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path, PurePosixPath

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from survey.db import db
from survey.models import Agency, Counter, ExportJob, User
from tests.conftest import hidden_fields

#: Planted outside the export directory; its content must never appear in an answer.
SECRET = b"SECRET-OUTSIDE-THE-EXPORT-DIRECTORY"
TRAVERSALS = [
    "..",
    "../../../../etc/passwd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "..%2f..%2fsurvey%2fconfig.py",
    "%252e%252e%252fetc%252fpasswd",
    "..%5c..%5csurvey%5cconfig.py",
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "x%00.zip",
    "%00",
    "....//....//etc/passwd",
]
REFUSED = {400, 403, 404, 405, 410, 422}


def _get(client: FlaskClient, url: str, follow: bool = False) -> tuple[int, bytes]:
    reply = client.get(url, follow_redirects=follow)
    data = reply.get_data()
    reply.close()
    return reply.status_code, data


def _assert_nothing_leaks(status: int, data: bytes, url: str) -> None:
    assert status < 500, f"GET {url}: {status}"
    for marker in (SECRET, b"root:x:0:0", b"SECRET_KEY", b"def settings_from_env"):
        assert marker not in data, f"GET {url} served {marker!r}"


@pytest.fixture
def export_dir(staff_app: Flask, tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    staff_app.config["EXPORT_DIR"] = str(folder)
    staff_app.config["EXPORT_JOBS_INLINE"] = True
    (tmp_path / "outside.zip").write_bytes(SECRET)
    return folder


def _export(client: FlaskClient) -> ExportJob:
    token = hidden_fields(client.get("/downloads/exports").get_data(as_text=True))["csrf_token"]
    data = {"csrf_token": token, "format": "csv", "agency": "so-tu-phap", "instrument": "sipas-2017:1"}
    data.update({"status": "valid", "date_from": "2025-11-01", "date_to": "2026-10-31"})
    reply = client.post("/downloads/exports", data=data)
    assert reply.status_code == 303, reply.get_data(as_text=True)[:500]
    public_id = reply.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    job = db.session.scalar(select(ExportJob).where(ExportJob.public_id == public_id))
    assert job is not None and job.status == "done" and job.file_name
    return job


def test_the_export_download_never_leaves_the_owners_job_folder(
    staff_app: Flask, signed_in, export_dir: Path, dialect: str
) -> None:  # type: ignore[no-untyped-def]
    owner = signed_in("statistician")
    job = _export(owner)
    url = f"/downloads/exports/{job.public_id}/file"
    status, data = _get(owner, url)
    assert status == 200 and data.startswith(b"PK")  # the genuine download works
    # Another user with export rights does not see the job at all.
    other = signed_in("system_admin")
    assert _get(other, url)[0] == 404
    # Traversal in the public id, raw and encoded.
    for bad in TRAVERSALS + [f"{job.public_id}/..", f"../{job.public_id}", f"{job.public_id}%00"]:
        for path in (f"/downloads/exports/{bad}/file", f"/downloads/exports/{bad}"):
            status, data = _get(owner, path)
            assert status in REFUSED, f"GET {path}: {status}"
            _assert_nothing_leaks(status, data, path)
    # A stored file name tampered with (a bad row, a restored backup): outside the folder is never served.
    tampered = [
        "../outside.zip",
        f"{job.public_id}/../../outside.zip",
        str(export_dir.parent / "outside.zip"),
        "/etc/passwd",
        "..",
        ".",
        "",
    ]
    if dialect == "sqlite":  # PostgreSQL text cannot hold a NUL byte at all
        tampered.append(f"{job.public_id}/export.zip\x00../../outside.zip")
    for file_name in tampered:
        with db.write() as session:
            session.get(ExportJob, job.id).file_name = file_name
        status, data = _get(owner, url)
        assert status in REFUSED, f"file_name={file_name!r}: {status}"
        page = _get(owner, f"/downloads/exports/{job.public_id}")
        assert page[0] == 200, f"the job page with file_name={file_name!r}: {page[0]}"
        _assert_nothing_leaks(status, data, f"{url} with file_name={file_name!r}")
    # A symlink planted in the job's folder that points outside it is not followed.
    link = export_dir / job.public_id / "link.zip"
    link.symlink_to(export_dir.parent / "outside.zip")
    with db.write() as session:
        session.get(ExportJob, job.id).file_name = f"{job.public_id}/link.zip"
    status, data = _get(owner, url)
    assert status == 404
    _assert_nothing_leaks(status, data, url)


def test_static_files_stay_in_the_static_folder(staff_app: Flask) -> None:
    client = staff_app.test_client()
    status, data = _get(client, "/static/css/sipas.css")
    assert status == 200 and data  # the genuine file is served
    for bad in TRAVERSALS + ["css/../../survey/config.py", "css/%2e%2e/%2e%2e/survey/config.py", "..%2fwsgi.py"]:
        path = f"/static/{bad}"
        # Werkzeug redirects "/static//etc/passwd" to "/static/etc/passwd" (merged slashes): follow it.
        status, data = _get(client, path, follow=True)
        assert status in REFUSED, f"GET {path}: {status}"
        _assert_nothing_leaks(status, data, path)


def test_par_workbook_codebook_and_posters_refuse_traversal_in_their_arguments(staff_app: Flask, signed_in) -> None:  # type: ignore[no-untyped-def]
    admin = signed_in("system_admin")
    assert _get(admin, "/downloads/par/ninh-binh/report.xlsx?year=2026")[0] == 200
    assert _get(admin, "/agency/so-tu-phap/posters.zip")[0] == 200
    for bad in TRAVERSALS:
        for path in (
            f"/downloads/par/{bad}/report.xlsx",
            f"/downloads/par/{bad}",
            f"/agency/{bad}/posters.zip",
            f"/agency/{bad}/counters/1/poster",
            f"/downloads/codebook/{bad}",
        ):
            status, data = _get(admin, path)
            assert status in REFUSED, f"GET {path}: {status}"
            _assert_nothing_leaks(status, data, path)
        for path in (
            f"/downloads/par/ninh-binh/report.xlsx?year={bad}&instrument={bad}",
            f"/downloads/codebook/1?format={bad}&file={bad}",
            f"/agency/so-tu-phap/posters.zip?format={bad}&file={bad}",
        ):
            status, data = _get(admin, path)
            _assert_nothing_leaks(status, data, path)


def test_poster_zip_member_names_never_climb_out_of_the_archive(staff_app: Flask, signed_in) -> None:  # type: ignore[no-untyped-def]
    agency = db.session.scalar(select(Agency).where(Agency.code == "so-tu-phap"))
    counters = list(db.session.scalars(select(Counter).where(Counter.agency_id == agency.id, Counter.active)))
    assert len(counters) >= 2
    # Distinct after cleaning (valid codes are unique per agency, so the archive never holds two of one name).
    hostile = ["../../evil-1", "/etc/cron.d/evil-2", "..\\..\\evil-3", "C:\\evil-4", "....//evil-5", "..", "%2e%2e%2f"]
    with db.write() as session:
        for counter, code in zip(counters, hostile, strict=False):
            session.get(Counter, counter.id).code = code[:40]
    status, data = _get(signed_in("system_admin"), "/agency/so-tu-phap/posters.zip")
    assert status == 200
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
    assert len(names) == len(set(names)) >= 2 + 3 * len(counters)
    for name in names:
        assert "\\" not in name and ":" not in name, name
        path = PurePosixPath(name)
        assert not path.is_absolute() and ".." not in path.parts and len(path.parts) == 1, name


def test_another_users_export_job_id_is_not_found(staff_app: Flask, signed_in, export_dir: Path, logins) -> None:  # type: ignore[no-untyped-def]
    """A job row of another user, pointing at a real file, is invisible to everyone but its owner."""
    owner = db.session.scalar(select(User).where(User.email == logins["province_admin"].email))
    folder = export_dir / ("c" * 32)
    folder.mkdir(parents=True)
    (folder / "export.zip").write_bytes(SECRET)
    now = dt.datetime.now(dt.UTC)
    with db.write() as session:
        session.add(
            ExportJob(public_id="c" * 32, user_id=owner.id, format="csv", filters="{}", status="done",
                      rows_total=1, rows_done=1, file_name=f"{'c' * 32}/export.zip", size_bytes=len(SECRET),
                      created_at=now, finished_at=now, heartbeat_at=now)
        )  # fmt: skip
    for role in ("statistician", "system_admin"):
        for path in (f"/downloads/exports/{'c' * 32}/file", f"/downloads/exports/{'c' * 32}"):
            status, data = _get(signed_in(role), path)
            assert status == 404, f"{role} GET {path}: {status}"
            _assert_nothing_leaks(status, data, path)

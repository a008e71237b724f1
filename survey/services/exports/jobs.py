"""Response exports requested on the web: a job row, a background run with progress, a file kept for 7 days.

A request is checked in full before anything is stored (:func:`create_job` plans the export exactly as the run
will), so bad input never leaves a job behind. The run (:func:`run_job`) writes the ZIP bundle (data file,
codebooks, README — what ``flask export-responses --bundle`` writes) into ``EXPORT_DIR/<public id>/`` through the
export service, which audit-logs it. Progress (``rows_done``/``rows_total``) and ``heartbeat_at`` are written
from a separate session after every chunk read, and a ticker refreshes the heartbeat during long phases
without rows (an SPSS or Stata file is written in one go at the end). A job left ``running`` or ``queued``
whose heartbeat is older than :data:`STALE_AFTER` (a queued one: :data:`QUEUED_STALE_AFTER`) was interrupted
(the process stopped); it is shown so and ``purge-exports`` marks it failed.

Where web jobs run (:func:`survey.services.exports.queue.start`): with ``SIPAS_REDIS_URL`` on the RQ export
queue, run by ``flask export-worker`` (:mod:`survey.services.exports.queue`, which also handles a worker that dies
mid-export); without Redis (the embedded default) in a thread started by the request (:func:`start_here`), with
its own app context and session. Every node of a
multi-node deployment and every export worker must share ``EXPORT_DIR`` (the download may reach another node than
the run). The bundle is written under a temporary name and renamed into place when complete, and only a ``done``
job's file is offered (:func:`job_file`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import shutil
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rq.timeouts import JobTimeoutException
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from survey.auth import Scope
from survey.db import db, utcnow
from survey.models import Agency, ExportJob, Instrument, SurveyPeriod
from survey.services.exports.files import export_responses
from survey.services.exports.responses import ExportError, ExportPlan, ExportRequest, plan_export
from survey.services.identity import audit

log = logging.getLogger(__name__)

#: A job whose heartbeat is older than this is no longer running (its process stopped).
STALE_AFTER = dt.timedelta(minutes=2)
#: A job still waiting for an export worker after this long is given up (RQ drops it from the queue too).
QUEUED_STALE_AFTER = dt.timedelta(hours=12)
#: Finished files are kept this long, then refused and purged.
KEEP_FOR = dt.timedelta(days=7)
#: The heartbeat ticker's interval during phases without progress (well under STALE_AFTER).
HEARTBEAT_SECONDS = 30.0
#: Jobs shown in "your recent exports".
RECENT = 20
BUNDLE_NAME = "export.zip"
#: Exports one user may have waiting or running at once (each holds a database cursor and a thread).
MAX_RUNNING_PER_USER = 2

#: Threads of web jobs by public id (tests wait on them; nothing else needs them).
_threads: dict[str, threading.Thread] = {}


class JobError(Exception):
    """A request that cannot become a job. ``code`` picks the translated message, ``field`` the form field."""

    def __init__(self, code: str, detail: str = "", field: str = "") -> None:
        super().__init__(detail or code)
        self.code = code
        self.detail = detail
        self.field = field


def _classify(exc: ExportError) -> JobError:
    """Name the export service's refusal for a translated message (its messages are English text for the CLI)."""
    text = str(exc)
    if text.startswith("the agency scope is empty"):
        return JobError("empty_scope", text, "agency")
    if text.startswith("no ") and "responses in the agency scope" in text:
        return JobError("no_data", text, "date_from")
    if "do not fit in one .xlsx sheet" in text:
        return JobError("too_many_rows", text, "format")
    if text.startswith("unknown instrument") or text.startswith("responses for several instruments"):
        return JobError("instrument", text, "instrument")
    if text.startswith("unknown format"):
        return JobError("format", text, "format")
    if text.startswith("the period starts"):
        return JobError("end_before_start", text, "date_to")
    if "sample" in text or "seed" in text:
        return JobError("sample", text, "sample")
    return JobError("other", text)


def _request_json(request: ExportRequest, labels: dict[str, Any]) -> str:
    data = {
        "agency_ids": sorted(request.agency_ids),
        "format": request.format,
        "date_from": request.date_from.isoformat() if request.date_from else None,
        "date_to": request.date_to.isoformat() if request.date_to else None,
        "instrument": request.instrument,
        "status": request.status,
        "comments": request.comments,
        "sample": request.sample,
        "seed": request.seed,
        "stratified": request.stratified,
        **labels,
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def _request_from(filters: dict[str, Any]) -> ExportRequest:
    day = dt.date.fromisoformat
    return ExportRequest(
        agency_ids=frozenset(int(a) for a in filters["agency_ids"]),
        format=str(filters["format"]),
        date_from=day(filters["date_from"]) if filters.get("date_from") else None,
        date_to=day(filters["date_to"]) if filters.get("date_to") else None,
        instrument=filters.get("instrument"),
        status=str(filters["status"]),
        comments=bool(filters["comments"]),
        sample=filters.get("sample"),
        seed=filters.get("seed"),
        stratified=bool(filters.get("stratified")),
    )


def create_job(session: Session, user_id: int, request: ExportRequest, labels: dict[str, Any]) -> ExportJob:
    """Check the request by planning the export, then store a queued job; raises :class:`JobError`.

    ``labels`` (agency code, named period) are kept with the filters to describe the job to its owner.
    """
    if running_jobs(session, user_id) >= MAX_RUNNING_PER_USER:
        raise JobError("busy", f"{MAX_RUNNING_PER_USER} exports are already running", "format")
    try:
        plan = plan_export(session, request)
    except ExportError as exc:
        session.rollback()
        raise _classify(exc) from None
    # The job exports the period it was planned for (open ends fixed at the first and last response found now).
    request = replace(request, date_from=plan.date_from, date_to=plan.date_to)
    with db.write() as write:
        job = ExportJob(
            public_id=secrets.token_hex(16),
            user_id=user_id,
            format=request.format,
            filters=_request_json(request, {**labels, "instrument_label": plan.instrument.label}),
            status="queued",
            rows_total=plan.rows,
            rows_done=0,
        )
        write.add(job)
        write.flush()
        audit.record(
            write,
            "export_job.created",
            actor_user_id=user_id,
            target_type="export_job",
            target_id=job.public_id,
            details={"format": request.format, "rows": plan.rows, "filters": plan.filters()},
            agency_id=audit.common_agency(write, request.agency_ids),
        )
    return job


def running_jobs(session: Session, user_id: int) -> int:
    """The user's jobs still queued or running (interrupted ones do not count)."""
    jobs = session.scalars(
        select(ExportJob).where(ExportJob.user_id == user_id, ExportJob.status.in_(("queued", "running")))
    )
    now = utcnow()
    return sum(1 for job in jobs if state_of(job, now) in ("queued", "running"))


def start_here(app: Any, public_id: str) -> None:
    """Run the job in this process: in this thread if ``EXPORT_JOBS_INLINE`` (tests), otherwise in a new
    background thread (the embedded default, without Redis). With Redis, :func:`survey.services.exports.queue.start`
    puts it on the export queue instead."""
    if app.config.get("EXPORT_JOBS_INLINE"):
        run_job(public_id, Path(app.config["EXPORT_DIR"]))
        return

    def target() -> None:
        with app.app_context():
            run_job(public_id, Path(app.config["EXPORT_DIR"]))

    thread = threading.Thread(target=target, name=f"export-{public_id[:8]}", daemon=True)
    _threads[public_id] = thread
    thread.start()


def wait(public_id: str, timeout: float = 60.0) -> bool:
    """Wait for a background job's thread to end (tests); True if it has."""
    thread = _threads.get(public_id)
    if thread is None:
        return True
    thread.join(timeout)
    if thread.is_alive():
        return False
    _threads.pop(public_id, None)
    return True


def _set(job_id: int, **values: Any) -> None:
    """Update the job from its own short transaction, beside the export's long read (which must not commit)."""
    session = db.session_factory()
    try:
        session.execute(update(ExportJob).where(ExportJob.id == job_id).values(**values))
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


class _Heartbeat:
    """Refresh ``heartbeat_at`` every :data:`HEARTBEAT_SECONDS` while the job runs."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"export-heartbeat-{job_id}", daemon=True)

    def _beat(self) -> None:
        while not self.stop.wait(HEARTBEAT_SECONDS):
            try:
                _set(self.job_id, heartbeat_at=utcnow())
            except Exception:  # a missed beat is harmless; the next one retries
                log.warning("export job %s: heartbeat not written", self.job_id)

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.thread.join()


def download_name(plan: ExportPlan) -> str:
    ins = plan.instrument
    return f"sipas-responses-{ins.code}-v{ins.version}-{plan.date_from:%Y%m%d}-{plan.date_to:%Y%m%d}.zip"


def run_job(public_id: str, export_dir: Path, retry: bool = False) -> None:
    """Write the job's bundle; progress and the outcome go to the job row. Never raises for a failed export.

    ``retry`` (the export queue) also starts a job left ``running`` by an attempt whose process died, from the
    beginning: the dead attempt's temporary files are removed first.
    """
    session = db.session
    job = session.scalar(select(ExportJob).where(ExportJob.public_id == public_id))
    if job is None or job.status not in (("queued", "running") if retry else ("queued",)):
        return
    job_id, user_id = job.id, job.user_id
    filters = json.loads(job.filters)
    session.rollback()  # end the read: the export plans in a fresh transaction
    folder = export_dir / public_id
    done = 0

    def progress(rows: int) -> None:
        nonlocal done
        done += rows
        _set(job_id, rows_done=done, heartbeat_at=utcnow())

    def opened(plan: ExportPlan) -> None:
        _set(job_id, rows_total=plan.rows, heartbeat_at=utcnow())

    _set(job_id, status="running", rows_done=0, error=None, heartbeat_at=utcnow())
    try:
        shutil.rmtree(folder, ignore_errors=True)  # what a killed attempt left (never offered: it was not done)
        folder.mkdir(parents=True, exist_ok=True)
        with _Heartbeat(job_id):
            result = export_responses(
                session,
                _request_from(filters),
                folder / BUNDLE_NAME,
                bundle=True,
                actor="web",
                actor_user_id=user_id,
                progress=progress,
                on_plan=opened,
            )
        name = download_name(result.plan)
        (folder / BUNDLE_NAME).replace(folder / name)
    except Exception as exc:
        session.rollback()
        shutil.rmtree(folder, ignore_errors=True)
        if isinstance(exc, ExportError):
            message = str(exc)
        elif isinstance(exc, JobTimeoutException):  # the export queue's SIPAS_EXPORT_JOB_TIMEOUT
            message = "the export took longer than its time limit (SIPAS_EXPORT_JOB_TIMEOUT)"
        else:
            message = "internal error while writing the file"
        if not isinstance(exc, ExportError | JobTimeoutException):
            log.exception("export job %s failed", public_id)
        _set(job_id, status="failed", error=message[:500], finished_at=utcnow(), heartbeat_at=utcnow())
        return
    _set(
        job_id,
        status="done",
        rows_done=result.rows,
        rows_total=result.rows,
        file_name=f"{public_id}/{name}",
        size_bytes=result.bytes,
        finished_at=utcnow(),
        heartbeat_at=utcnow(),
    )


def mark_lost(public_id: str, export_dir: Path, reason: str, retry: bool = False) -> None:
    """The process running a queued or running job died (or the job never reached the queue).

    With ``retry`` (the queue starts it again) the job is ``queued`` again with its progress reset; otherwise it is
    ``failed`` with ``reason``. Whatever the attempt wrote is removed. A finished job is left alone.
    """
    values: dict[str, Any] = (
        {"status": "queued", "rows_done": 0, "error": None}
        if retry
        else {"status": "failed", "error": reason[:500], "finished_at": utcnow()}
    )
    with db.write() as session:
        result = session.execute(
            update(ExportJob)
            .where(ExportJob.public_id == public_id, ExportJob.status.in_(("queued", "running")))
            .values(heartbeat_at=utcnow(), **values)
        )
        changed = bool(result.rowcount)  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult
    if changed:  # never the folder of a job that finished after all (the process died just after the rename)
        shutil.rmtree(export_dir / public_id, ignore_errors=True)


# -- reading jobs ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobView:
    """A job as its owner sees it; ``state`` adds ``interrupted`` and ``expired`` to the stored status."""

    job: ExportJob
    state: str
    filters: dict[str, Any]
    expires_at: dt.datetime | None

    @property
    def percent(self) -> int:
        total = self.job.rows_total or 0
        if self.state == "done":
            return 100
        return 0 if total <= 0 else min(100, int(100 * self.job.rows_done / total))

    @property
    def download_name(self) -> str | None:
        # rpartition, not split(...)[1]: a stored name without a folder (a bad row) must not break the job page.
        return self.job.file_name.rpartition("/")[2] if self.job.file_name else None


def state_of(job: ExportJob, now: dt.datetime | None = None) -> str:
    now = now or utcnow()
    if job.status in ("queued", "running"):
        last = job.heartbeat_at or job.created_at
        limit = QUEUED_STALE_AFTER if job.status == "queued" else STALE_AFTER
        return "interrupted" if now - last > limit else job.status
    if job.status == "done" and (job.file_name is None or (job.finished_at or job.created_at) + KEEP_FOR < now):
        return "expired"
    return job.status


def view(job: ExportJob, now: dt.datetime | None = None) -> JobView:
    state = state_of(job, now)
    expires = (job.finished_at + KEEP_FOR) if job.status == "done" and job.finished_at else None
    return JobView(job, state, json.loads(job.filters), expires)


def job_of(session: Session, public_id: str, user_id: int) -> ExportJob | None:
    """The job if ``user_id`` owns it (anyone else's job does not exist for them)."""
    if "\x00" in public_id:  # no job has one, and PostgreSQL refuses it in a query
        return None
    return session.scalar(select(ExportJob).where(ExportJob.public_id == public_id, ExportJob.user_id == user_id))


def recent_jobs(session: Session, user_id: int, limit: int = RECENT) -> list[JobView]:
    jobs = session.scalars(
        select(ExportJob).where(ExportJob.user_id == user_id).order_by(ExportJob.id.desc()).limit(limit)
    )
    now = utcnow()
    return [view(job, now) for job in jobs]


def job_file(job: ExportJob, export_dir: Path) -> Path | None:
    """The finished file of a job, if it is still kept (the stored name is ours, never the user's)."""
    if state_of(job) != "done" or not job.file_name:
        return None
    try:
        path = (export_dir / job.file_name).resolve()
    except (OSError, ValueError):  # a NUL byte or a symlink loop in a tampered name: there is no such file
        return None
    # Only inside the job's own folder: a tampered name can reach neither other jobs' files nor anything else.
    if (export_dir / job.public_id).resolve() not in path.parents or not path.is_file():
        return None
    return path


def record_download(job: ExportJob, user_id: int) -> None:
    with db.write() as session:
        audit.record(
            session,
            "export_job.downloaded",
            actor_user_id=user_id,
            target_type="export_job",
            target_id=job.public_id,
            details={"format": job.format, "rows": job.rows_done, "bytes": job.size_bytes},
            agency_id=audit.user_agency(session, user_id),
        )


def instrument_choices(session: Session) -> list[Instrument]:
    return list(session.scalars(select(Instrument).order_by(Instrument.code, Instrument.version)))


def survey_periods(session: Session, scope: Scope) -> list[SurveyPeriod]:
    """Named survey periods usable in the scope: those of an agency in it or above it (the province's)."""
    if scope.everything:
        return list(session.scalars(select(SurveyPeriod).order_by(SurveyPeriod.starts_on.desc(), SurveyPeriod.id)))
    parents = dict(session.execute(select(Agency.id, Agency.parent_id)).all())
    usable: set[int] = set()
    for agency_id in scope.agency_ids:
        node: int | None = agency_id
        while node is not None and node not in usable:
            usable.add(node)
            node = parents.get(node)
    query = select(SurveyPeriod).where(SurveyPeriod.agency_id.in_(sorted(usable)))
    return list(session.scalars(query.order_by(SurveyPeriod.starts_on.desc(), SurveyPeriod.id)))


# -- housekeeping ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PurgeResult:
    files: int
    interrupted: int


def purge(export_dir: Path, now: dt.datetime | None = None) -> PurgeResult:
    """Delete files kept longer than :data:`KEEP_FOR`, and mark interrupted jobs failed; audit-logged."""
    now = now or utcnow()
    files = interrupted = 0
    with db.write() as session:
        for job in session.scalars(select(ExportJob).where(ExportJob.status.in_(("queued", "running", "done")))):
            state = state_of(job, now)
            if state == "interrupted":
                shutil.rmtree(export_dir / job.public_id, ignore_errors=True)
                job.status, job.error, job.finished_at = "failed", "interrupted (the process stopped)", now
                interrupted += 1
            elif state == "expired" and job.file_name is not None:
                shutil.rmtree(export_dir / job.public_id, ignore_errors=True)
                job.file_name = None
                files += 1
        if files or interrupted:
            audit.record(
                session,
                "exports.purged",
                details={"files": files, "interrupted": interrupted, "kept_days": KEEP_FOR.days},
            )
    return PurgeResult(files, interrupted)

"""Web exports on an RQ queue in Redis: a worker process runs them, not the web process that took the request.

With ``SIPAS_REDIS_URL`` set, :func:`enqueue` puts a job on the ``EXPORT_QUEUE`` queue and ``flask --app wsgi
export-worker`` (:func:`work`) runs it: gunicorn recycling its workers (``--max-requests``) or a deployment
restarting the web nodes no longer stops an export. Without Redis (the embedded default, ``make run``) the
export runs in a thread of the web process instead (:func:`start`, :func:`survey.services.exports.jobs.start_here`).

The ``export_jobs`` row stays the record the pages read; the RQ job only carries the public id. The RQ worker
forks a work-horse per job; if that process dies (killed, out of memory), or the whole worker dies, RQ retries
the job ``SIPAS_EXPORT_RETRIES`` times (RQ's ``Retry``) and then fails it. Both cases reach the row here:

* the work-horse dies while its worker lives: the worker's ``work_horse_killed_handler`` (:func:`_horse_killed`);
* the whole worker dies: RQ's abandoned-job handling (the started-job registry entry expires, or a worker
  started again on the same machine finds the dead process, :func:`recover_abandoned`) calls the job's
  ``on_failure`` callback (:func:`_abandoned`).

A job with a retry left goes back to ``queued`` (its progress reset) and is written again from the start; the
last attempt's death marks it ``failed``. Files are written under temporary names and renamed into place only
when complete, and only a ``done`` job's file is offered, so a killed export never leaves a download behind.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
from flask import Flask, current_app, has_app_context
from rq import Callback, Queue, Retry, Worker, get_current_job
from rq.exceptions import AbandonedJobError
from rq.job import Job

from survey.db import db
from survey.services.exports import jobs

log = logging.getLogger(__name__)

#: Seconds between RQ's registry clean-ups in our worker (RQ's default is 10 minutes): a job abandoned by a
#: worker on another machine is retried or failed at most this long after its registry entry expires.
MAINTENANCE_SECONDS = 60
#: A finished or failed RQ job's own record is dropped after a day (the export_jobs row is what stays).
RESULT_TTL = 24 * 60 * 60


def start(app: Any, public_id: str) -> None:
    """Run a web export: on the RQ export queue when Redis is configured (``flask export-worker`` runs it),
    otherwise in this process (:func:`~survey.services.exports.jobs.start_here`). A job that cannot be queued
    (Redis unreachable) fails visibly rather than waiting for ever."""
    if app.config.get("EXPORT_JOBS_INLINE") or not app.config.get("REDIS_URL"):
        jobs.start_here(app, public_id)
        return
    try:
        enqueue(app, public_id)
    except Exception as exc:  # noqa: BLE001  (any failure to queue is shown on the job's page)
        log.exception("export job %s: not queued", public_id)
        reason = "the export queue (Redis) is unreachable" if isinstance(exc, redis.RedisError) else "not queued"
        jobs.mark_lost(public_id, Path(app.config["EXPORT_DIR"]), reason)


def connection(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=5, health_check_interval=30)


def queue_for(config: Any, conn: redis.Redis | None = None) -> Queue:
    return Queue(config["EXPORT_QUEUE"], connection=conn or connection(config["REDIS_URL"]))


def job_id(config: Any, public_id: str) -> str:
    """The RQ job of an export job (RQ allows letters, digits, '-' and '_')."""
    return f"{config['EXPORT_QUEUE']}-{public_id}"


def enqueue(app: Flask, public_id: str) -> Job:
    """Put the job on the export queue; raises ``redis.RedisError`` when Redis cannot be reached."""
    config = app.config
    queue = queue_for(config)
    retries = int(config["EXPORT_RETRIES"])
    return queue.enqueue(
        run,
        public_id,
        job_id=job_id(config, public_id),
        job_timeout=int(config["EXPORT_JOB_TIMEOUT"]),
        retry=Retry(max=retries) if retries > 0 else None,
        on_failure=Callback(_abandoned),
        result_ttl=RESULT_TTL,
        failure_ttl=RESULT_TTL,
        ttl=int(jobs.QUEUED_STALE_AFTER.total_seconds()),  # not started by then: dropped (the page says so)
        description=f"SIPAS web export {public_id}",
    )


@contextmanager
def _app_context() -> Iterator[Flask]:
    """The app of ``flask export-worker`` (inherited by the forked work-horse), or one built from the environment
    (a plain ``rq worker`` with the app's settings)."""
    if has_app_context():
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]  # the app behind the proxy
    else:
        from survey import create_app

        app = create_app()
    with app.app_context():
        yield app


def run(public_id: str) -> None:
    """The RQ job: write the export of ``public_id`` in its own app context (runs in the work-horse)."""
    job = get_current_job()
    if job is not None:
        # Who runs the job, so a worker started again on this machine knows when it is really gone.
        job.meta.update(host=socket.gethostname(), pid=os.getpid())
        job.save_meta()  # type: ignore[no-untyped-call]  # rq leaves it unannotated
    with _app_context() as app:
        if db.engine is not None:
            # A forked work-horse must not use the connections its parent worker opened (SQLAlchemy's advice).
            db.engine.dispose(close=False)
        jobs.run_job(public_id, Path(app.config["EXPORT_DIR"]), retry=True)


def _lost(job: Job, reason: str) -> None:
    """The process running ``job`` died: the row goes back to ``queued`` if RQ retries it, else ``failed``."""
    if not job.args:
        return
    public_id = str(job.args[0])
    retry = bool(job.retries_left and job.retries_left > 0)
    try:
        with _app_context() as app:
            jobs.mark_lost(public_id, Path(app.config["EXPORT_DIR"]), reason, retry=retry)
    except Exception:  # the page then shows the job interrupted once its heartbeat is stale
        log.exception("export job %s: could not record that its worker died", public_id)


def _abandoned(job: Job, _connection: Any, exc_type: Any = None, *_exc_info: Any) -> None:
    """``on_failure`` callback: RQ found the job abandoned by its worker, or the job could not even start (the
    export itself never raises: :func:`~survey.services.exports.jobs.run_job` records its own failures)."""
    if exc_type is None or (isinstance(exc_type, type) and issubclass(exc_type, AbandonedJobError)):
        _lost(job, "the export worker stopped while it ran")
    else:
        _lost(job, f"the export worker could not run it ({getattr(exc_type, '__name__', exc_type)})")


def _horse_killed(job: Job, _pid: int, _status: int, _rusage: Any) -> None:
    """The worker's work-horse running ``job`` ended without finishing it (killed, out of memory)."""
    _lost(job, "the export worker process was killed while it ran")


def _alive(pid: int) -> bool:
    """Whether the process runs. A zombie (killed, not yet reaped by its parent or by an init that is slow
    to reap, as in a container) is dead: it will never finish the job."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process has the number: not ours any more, but alive
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc (not Linux): what os.kill said
    return state not in ("Z", "X")


def _dead_here(job: Job, conn: redis.Redis) -> bool:
    """True if the worker and the work-horse that ran ``job`` were processes of this machine that are gone."""
    host = socket.gethostname()
    horse = job.meta.get("pid")
    if job.meta.get("host") != host or not isinstance(horse, int) or _alive(horse):
        return False
    if not job.worker_name:
        return True
    worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + job.worker_name, connection=conn)
    return worker is None or (worker.hostname == host and worker.pid is not None and not _alive(worker.pid))


def recover_abandoned(queue: Queue) -> int:
    """Hand jobs whose worker died on this machine to RQ's abandoned-job handling now, not when their registry
    entry expires (about 90 seconds after the last heartbeat); returns how many. Called when a worker starts."""
    conn = queue.connection
    registry = queue.started_job_registry
    expired = 0
    for raw in conn.zrange(registry.key, 0, -1):
        member = raw.decode() if isinstance(raw, bytes) else str(raw)
        job_id = member.split(":", 1)[0]
        job = Job.fetch(job_id, connection=conn) if Job.exists(job_id, connection=conn) else None
        if job is not None and _dead_here(job, conn):
            conn.zadd(registry.key, {member: 0}, xx=True)
            expired += 1
    if expired:
        registry.cleanup()
    return expired


def work(app: Flask, burst: bool = False) -> bool:
    """Run an export worker on the app's queue until stopped (or, with ``burst``, until the queue is empty)."""
    config = app.config
    conn = connection(config["REDIS_URL"])
    queue = queue_for(config, conn)
    worker = Worker(
        [queue],
        connection=conn,
        name=f"{queue.name}.{socket.gethostname()}.{os.getpid()}",
        maintenance_interval=MAINTENANCE_SECONDS,
        work_horse_killed_handler=_horse_killed,
    )
    recovered = recover_abandoned(queue)
    if recovered:
        log.warning("export worker: %s exports abandoned by a stopped worker were handed back to RQ", recovered)
    if db.engine is not None:
        db.engine.dispose()  # the work-horses fork from here: no connection of ours to share with them
    return bool(worker.work(burst=burst, with_scheduler=False))

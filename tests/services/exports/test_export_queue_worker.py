"""Web exports on the Redis queue: a real ``flask export-worker`` killed mid-export, then restarted.

The export is asked for through the web page of an app configured with ``SIPAS_REDIS_URL`` (Redis database 13, a
queue and key prefix of this run) on a scratch database both the test and the worker subprocesses use (a SQLite
file, or a fresh PostgreSQL database with ``TEST_DATABASE_URL``). The worker is the command a user runs, as a
subprocess; ``kill -9`` is sent to its processes while the export is between chunks.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import secrets
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from rq.job import Job
from sqlalchemy import select

from survey import create_app
from survey.db import db, make_engine
from survey.migrate import upgrade
from survey.models import ExportJob
from survey.services.operations.demo import seed_demo
from tests.conftest import ROOT, environ_for, fresh_database, hidden_fields, sign_in_client

REDIS_URL = os.environ.get("SIPAS_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
FLASK = str(Path(sys.executable).with_name("flask"))
#: Enough responses for three chunks of the export (5,000 rows each), so a kill lands between two of them.
RESPONSES = 12_000
WAIT = 90.0


@dataclass
class Stack:
    url: str
    queue: str
    export_dir: Path
    store: redis.Redis
    email: str
    password: str
    logs: Path

    def environ(self, **extra: str) -> dict[str, str]:
        return environ_for(
            self.url,
            SIPAS_REDIS_URL=REDIS_URL,
            SIPAS_EXPORT_QUEUE=self.queue,
            SIPAS_EXPORT_DIR=str(self.export_dir),
            SIPAS_RATELIMIT_KEY_PREFIX=self.queue,
            **extra,
        )

    def worker(self, *args: str) -> subprocess.Popen[bytes]:
        """``flask --app wsgi export-worker`` exactly as a user starts it, with this stack's settings."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SIPAS_")} | self.environ()
        with (self.logs / f"worker-{secrets.token_hex(3)}.log").open("ab") as log:  # the child keeps its copy
            # A fixed command line; the environment is the test's.
            return subprocess.Popen(  # noqa: S603
                [FLASK, "--app", "wsgi", "export-worker", *args], cwd=ROOT, env=env, stdout=log, stderr=log
            )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    store = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        store.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is needed for the export worker test at {REDIS_URL}: {exc}")
    work = tmp_path_factory.mktemp("export-queue")
    queue = f"sipas-test-exports-{secrets.token_hex(4)}"
    with fresh_database(work) as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        app = create_app(environ=environ_for(url))
        with app.app_context():
            report = seed_demo(
                db.session, RESPONSES, seed=11, append=False, end_month=dt.date(2026, 10, 1), timezone="UTC"
            )
            login = next(login for login in report.logins if login.role == "statistician")
            db.registry.remove()
        db.engine.dispose()  # type: ignore[union-attr]
        try:
            yield Stack(url, queue, work / "exports", store, login.email, login.password, work)
        finally:
            for key in store.scan_iter(match=f"*{queue}*"):
                store.delete(key)
            for members in ("rq:queues", "rq:workers"):
                for member in store.smembers(members):
                    if queue in (member.decode() if isinstance(member, bytes) else member):
                        store.srem(members, member)
            store.close()
            if db.engine is not None:
                db.engine.dispose()


@pytest.fixture
def web(stack: Stack) -> Iterator[Callable[..., Flask]]:
    """Factory of web apps of the stack (``overrides`` as a test needs); their pools closed afterwards."""

    def make(**overrides: object) -> Flask:
        return create_app(overrides={"RATELIMIT_ENABLED": False, **overrides}, environ=stack.environ())

    yield make
    if db.engine is not None:
        db.engine.dispose()


def _ask_export(app: Flask, stack: Stack) -> tuple[FlaskClient, str]:
    """Sign in and start a CSV export of the province on the page; the job's public id."""
    client = sign_in_client(app.test_client(), stack.email, stack.password)
    token = hidden_fields(client.get("/downloads/exports").get_data(as_text=True))["csrf_token"]
    reply = client.post(
        "/downloads/exports",
        data={"csrf_token": token, "format": "csv", "agency": "ninh-binh", "instrument": "sipas-2017:1",
              "status": "valid", "date_from": "", "date_to": ""},
    )  # fmt: skip
    assert reply.status_code == 303, reply.get_data(as_text=True)[:1000]
    return client, reply.headers["Location"].rsplit("/", 1)[1]


def _row(app: Flask, public_id: str) -> ExportJob:
    with app.app_context():
        job = db.session.scalars(select(ExportJob).where(ExportJob.public_id == public_id)).one()
        db.session.expunge(job)
        db.registry.remove()
        return job


def _until(what: str, check: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.02)


def _mid_run(app: Flask, public_id: str) -> Callable[[], bool]:
    def check() -> bool:
        job = _row(app, public_id)
        assert job.status in ("queued", "running"), (job.status, job.error)
        return job.status == "running" and job.rows_done > 0

    return check


def _horse_pid(stack: Stack, public_id: str) -> int:
    """The work-horse process writing the export (the RQ job records it when it starts)."""
    job = Job.fetch(f"{stack.queue}-{public_id}", connection=stack.store)
    pid = job.meta["pid"]
    assert isinstance(pid, int)
    return pid


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _get(client: FlaskClient, url: str):  # type: ignore[no-untyped-def]
    reply = client.get(url)
    reply.get_data()
    reply.close()
    return reply


def _nothing_downloadable(client: FlaskClient, stack: Stack, public_id: str) -> None:
    assert _get(client, f"/downloads/exports/{public_id}/file").status_code == 404
    folder = stack.export_dir / public_id
    finished = [p.name for p in folder.iterdir() if not p.name.startswith(".")] if folder.exists() else []
    assert finished == [], finished  # only temporary files, never a finished-looking bundle


def test_a_worker_killed_mid_export_is_resumed_by_a_restarted_worker(stack: Stack, web) -> None:  # type: ignore[no-untyped-def]
    app = web()
    first = stack.worker()
    try:
        client, public_id = _ask_export(app, stack)
        _until("the export to be between chunks", _mid_run(app, public_id))
        horse = _horse_pid(stack, public_id)
        # kill -9 of the whole worker: its main process and the work-horse (its own process group in RQ).
        _kill(first.pid)
        _kill(horse)
        first.wait(timeout=10)
        _until("the work-horse to be gone", lambda: not Path(f"/proc/{horse}").exists() or _zombie(horse), 10)
    finally:
        _kill(first.pid)
        first.wait(timeout=10)
    job = _row(app, public_id)
    assert job.status == "running" and 0 < job.rows_done < (job.rows_total or 0)
    _nothing_downloadable(client, stack, public_id)
    (tmp_parts,) = list((stack.export_dir / public_id).iterdir())  # the killed attempt's partial file
    assert tmp_parts.stat().st_size > 0

    # A worker started again on this machine finds the dead one and RQ retries the export (--burst: it stops
    # once the queue is empty).
    second = stack.worker("--burst")
    try:
        assert second.wait(timeout=WAIT) == 0
    finally:
        _kill(second.pid)
        second.wait(timeout=10)
    job = _row(app, public_id)
    assert (job.status, job.error) == ("done", None) and job.rows_done == job.rows_total
    assert job.file_name is not None and [p.name for p in (stack.export_dir / public_id).iterdir()] == [
        job.file_name.rpartition("/")[2]
    ]  # the dead attempt's temporary file is gone
    download = _get(client, f"/downloads/exports/{public_id}/file")
    assert download.status_code == 200
    with zipfile.ZipFile(io.BytesIO(download.data)) as bundle:
        name = next(n for n in bundle.namelist() if n.endswith(".csv"))
        rows = list(csv.DictReader(io.StringIO(bundle.read(name).decode("utf-8-sig"))))
    assert len(rows) == job.rows_total and len({r["response_id"] for r in rows}) == len(rows)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_without_retries_a_killed_export_fails_visibly_and_offers_nothing(stack: Stack, web) -> None:  # type: ignore[no-untyped-def]
    app = web(EXPORT_RETRIES=0)
    worker = stack.worker()
    try:
        client, public_id = _ask_export(app, stack)
        _until("the export to be between chunks", _mid_run(app, public_id))
        _kill(_horse_pid(stack, public_id))  # the process writing the file dies (kill -9, out of memory)
        _until("the job to be marked failed", lambda: _row(app, public_id).status == "failed")
        job = _row(app, public_id)
        assert job.error == "the export worker process was killed while it ran" and job.finished_at is not None
        page = _get(client, f"/downloads/exports/{public_id}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and 'http-equiv="refresh"' not in html and job.error in html
        assert _get(client, f"/downloads/exports/{public_id}/file").status_code == 404
        assert not (stack.export_dir / public_id).exists()  # what the killed attempt wrote is removed
        # The worker itself lives on and takes the next export.
        _client, again = _ask_export(app, stack)
        _until("the next export to finish", lambda: _row(app, again).status == "done")
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        finally:
            _kill(worker.pid)
            worker.wait(timeout=10)


def test_the_worker_command_needs_redis(tmp_path: Path) -> None:
    app = create_app(environ=environ_for(f"sqlite:///{tmp_path / 'x.db'}"))
    with app.app_context():  # as the flask command line pushes one
        result = app.test_cli_runner().invoke(args=["export-worker", "--burst"])
    assert result.exit_code == 1 and "SIPAS_REDIS_URL is not set" in result.output


@pytest.mark.parametrize("name", ["two words", "sipas:exports", "hàng-đợi", "a.b"])
def test_a_bad_queue_name_is_refused_at_start(tmp_path: Path, name: str) -> None:
    from survey.config import ConfigError, settings_from_env

    with pytest.raises(ConfigError, match="SIPAS_EXPORT_QUEUE"):
        settings_from_env({"SIPAS_EXPORT_QUEUE": name}, tmp_path)
    assert settings_from_env({"SIPAS_EXPORT_QUEUE": " "}, tmp_path)["EXPORT_QUEUE"] == "sipas-exports"

"""SQLite writers queue on a file lock in front of BEGIN IMMEDIATE (survey.db.WriterQueue)."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import signal
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from survey import create_app
from survey.db import WriterQueue, WriterQueueTimeout, db, make_engine, writer_queue_for
from survey.migrate import upgrade
from survey.models import Counter, Response
from survey.services.administration.directory import counter_ref
from survey.services.operations.demo import seed_demo
from survey.services.submissions.links import counter_survey_path
from survey.services.submissions.store import Submission, store_submission
from tests.conftest import environ_for, hidden_fields


def _held_elsewhere(path: str) -> bool:
    """Whether another open file description holds the lock (flock conflicts across descriptions)."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_only_a_sqlite_file_gets_a_queue(tmp_path: Path) -> None:
    queue = writer_queue_for(make_engine(f"sqlite:///{tmp_path / 'a.db'}"))
    assert queue is not None and queue.path == str(tmp_path / "a.db") + "-writers"
    assert writer_queue_for(make_engine("sqlite://")) is None
    assert writer_queue_for(make_engine("sqlite:///:memory:")) is None
    assert writer_queue_for(make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")) is None


def test_the_lock_is_held_for_the_outermost_turn_only(tmp_path: Path) -> None:
    queue = WriterQueue(str(tmp_path / "db-writers"))
    with queue.turn():
        assert _held_elsewhere(queue.path)
        with queue.turn():  # re-entrant within a thread
            assert _held_elsewhere(queue.path)
        assert _held_elsewhere(queue.path)
    assert not _held_elsewhere(queue.path)


def test_a_failing_writer_gives_up_its_turn(tmp_path: Path) -> None:
    queue = WriterQueue(str(tmp_path / "db-writers"))
    with pytest.raises(RuntimeError), queue.turn():
        raise RuntimeError("the transaction failed")
    assert not _held_elsewhere(queue.path)
    with queue.turn():  # and the next writer gets it
        assert _held_elsewhere(queue.path)


def test_a_second_thread_waits_for_its_turn_and_is_woken_at_once(tmp_path: Path) -> None:
    queue = WriterQueue(str(tmp_path / "db-writers"))
    entered = threading.Event()
    waited: list[float] = []

    def second() -> None:
        started = time.monotonic()
        with queue.turn():
            waited.append(time.monotonic() - started)
            entered.set()

    with queue.turn():
        thread = threading.Thread(target=second)
        thread.start()
        assert not entered.wait(0.2)  # blocked while the first writer holds the turn
    thread.join(5)
    assert entered.is_set() and waited[0] >= 0.2


def test_concurrent_submissions_are_all_stored(scratch_database_url: str) -> None:
    """Four threads of one process submit at once (on SQLite through the queue): every submission is stored."""
    engine = make_engine(scratch_database_url)
    upgrade(engine)
    engine.dispose()
    app = create_app(overrides={"RATELIMIT_ENABLED": False}, environ=environ_for(scratch_database_url))
    with app.app_context():
        assert (db.writers is not None) == scratch_database_url.startswith("sqlite")
        seed_demo(db.session, 0, seed=3, append=False, end_month=dt.date(2026, 10, 1), timezone=app.config["TIMEZONE"])
        counter = db.session.scalars(select(Counter).order_by(Counter.id)).first()
        assert counter is not None
        counter_id = counter.id
        db.session.remove()
    ids: list[uuid.UUID] = []
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with app.app_context():
                counter = db.session.get(Counter, counter_id)
                ref = counter_ref(counter_id)
                assert counter is not None and ref is not None
                answers: dict[str, int | None] = {item.code: 4 for item in counter.instrument.items}
                for _ in range(15):
                    sid = uuid.uuid4()
                    ids.append(sid)
                    store_submission(ref, Submission(sid, answers), app.config["TIMEZONE"])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Response)) == 60
        db.session.remove()
        assert db.engine is not None
        db.engine.dispose()


def _hold(path: str) -> int:
    """Take the writers' lock from another open file description (another process, to flock)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_a_writer_waits_no_longer_than_the_queue_allows(tmp_path: Path) -> None:
    """Bounded in the main thread (a gunicorn sync worker's request) and in other threads alike."""
    queue = WriterQueue(str(tmp_path / "db-writers"), timeout=0.3)
    fd = _hold(queue.path)
    try:
        started = time.monotonic()
        with pytest.raises(WriterQueueTimeout), queue.turn():
            pass
        assert 0.25 <= time.monotonic() - started < 5
        failures: list[BaseException] = []

        def elsewhere() -> None:
            try:
                with queue.turn():
                    pass
            except WriterQueueTimeout as exc:
                failures.append(exc)

        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join(5)
        assert len(failures) == 1
    finally:
        os.close(fd)
    with queue.turn():  # free again: the next writer gets its turn
        assert _held_elsewhere(queue.path)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # no timer left running


def test_a_writer_gets_the_turn_released_before_its_limit(tmp_path: Path) -> None:
    queue = WriterQueue(str(tmp_path / "db-writers"), timeout=5)
    fd = _hold(queue.path)
    threading.Timer(0.2, os.close, args=(fd,)).start()
    started = time.monotonic()
    with queue.turn():
        assert 0.15 <= time.monotonic() - started < 2


def test_a_submission_behind_a_long_write_gets_503_and_retry_after(scratch_database_url: str, survey_answers) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    """The survey answers 503 with Retry-After (a translated page, nothing stored) instead of hanging."""
    if not scratch_database_url.startswith("sqlite"):
        pytest.skip("the writers' queue exists on SQLite files only")
    engine = make_engine(scratch_database_url)
    upgrade(engine)
    engine.dispose()
    app = create_app(
        overrides={"RATELIMIT_ENABLED": False, "WRITER_QUEUE_TIMEOUT": 1},
        environ=environ_for(scratch_database_url),
    )
    with app.app_context():
        seed_demo(db.session, 0, seed=3, append=False, end_month=dt.date(2026, 10, 1), timezone=app.config["TIMEZONE"])
        counter = db.session.scalars(select(Counter).order_by(Counter.id)).first()
        assert counter is not None and db.writers is not None and db.writers.timeout == 1
        path = counter_survey_path(app.config, counter)
        client = app.test_client()
        data = survey_answers(counter.instrument, **hidden_fields(client.get(path).get_data(as_text=True)))
        fd = _hold(db.writers.path)
        try:
            refused = client.post(path, data=data)
        finally:
            os.close(fd)
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == str(app.config["OUTAGE_RETRY_AFTER"])
        assert "chưa được lưu" in refused.get_data(as_text=True)  # the Vietnamese page: nothing was saved
        assert db.session.scalar(select(func.count()).select_from(Response)) == 0
        db.session.rollback()
        accepted = client.post(path, data=data)  # the offline queue sending it again
        assert accepted.status_code == 303 and accepted.headers["Location"].endswith("/thanks")
        db.session.rollback()  # end this test's own read transaction, opened before the submission
        assert db.session.scalar(select(func.count()).select_from(Response)) == 1
        db.session.remove()
        assert db.engine is not None
        db.engine.dispose()

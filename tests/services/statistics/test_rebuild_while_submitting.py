"""A rebuild of the tallies in short transactions while citizens keep submitting: nothing lost or counted twice."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

from sqlalchemy import func, select

from survey import create_app
from survey.db import db, make_engine
from survey.migrate import upgrade
from survey.models import Counter, Response
from survey.services.administration.directory import counter_ref
from survey.services.operations.demo import seed_demo
from survey.services.statistics import tallies
from survey.services.submissions.store import Submission, store_submission
from tests.conftest import environ_for
from tests.services.statistics.test_tallies import _snapshot


def test_submissions_during_a_stepwise_rebuild_are_all_counted(scratch_database_url: str) -> None:
    engine = make_engine(scratch_database_url)
    upgrade(engine)
    engine.dispose()
    app = create_app(overrides={"RATELIMIT_ENABLED": False}, environ=environ_for(scratch_database_url))
    with app.app_context():
        end_month = dt.date(2026, 10, 1)
        seed_demo(db.session, 600, seed=5, append=False, end_month=end_month, timezone=app.config["TIMEZONE"])
        counter_ids = list(db.session.scalars(select(Counter.id).order_by(Counter.id)).all()[:4])
        seeded = db.session.scalar(select(func.count()).select_from(Response))
        seeded_valid = db.session.scalar(select(func.count()).where(Response.status == "valid"))
        n_steps = len(tallies.agency_days(db.session))
        db.session.remove()
    rebuilt = threading.Event()
    stored: list[uuid.UUID] = []
    errors: list[BaseException] = []
    steps_done: list[int] = []

    def rebuild() -> None:
        try:
            with app.app_context():
                tallies.rebuild_in_steps(db.session, db.write, progress=steps_done.append, budget=1, pause=0.2)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            rebuilt.set()

    def submit(counter_id: int) -> None:
        try:
            with app.app_context():
                counter = db.session.get(Counter, counter_id)
                ref = counter_ref(counter_id)
                assert counter is not None and ref is not None
                items = counter.instrument.items
                answers: dict[str, int | None] = {item.code: 3 + i % 3 for i, item in enumerate(items)}
                # Keep submitting until the rebuild is over (and at least a few times).
                while not rebuilt.is_set() or len(stored) < 20:
                    sid = uuid.uuid4()
                    store_submission(ref, Submission(sid, answers), app.config["TIMEZONE"])
                    stored.append(sid)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=rebuild), *(threading.Thread(target=submit, args=(c,)) for c in counter_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert errors == []
    assert len(steps_done) == n_steps and stored  # one agency-day per step
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Response)) == seeded + len(stored)
        after_steps = _snapshot()
        assert sum(row[-1] for row in after_steps[0]) == seeded_valid + len(stored)  # every one counted once
        tallies.rebuild(db.session)  # the one-transaction rebuild, nobody writing: the reference
        assert _snapshot() == after_steps
        db.session.rollback()
        db.session.remove()
        assert db.engine is not None
        db.engine.dispose()

"""Two app nodes, one PostgreSQL, one Redis: what one node writes or counts, the other sees.

Runs only when ``SIPAS_MULTINODE=1`` (``make multinode``; .ci/run sets it). It then needs the PostgreSQL
server of ``TEST_DATABASE_URL`` (default: the local one) and the Redis of ``SIPAS_TEST_REDIS_URL``
(default: database 13 on the local one), and fails, never skips, when either is unreachable.

A scratch database is migrated and seeded (300 responses), two gunicorn instances are started on
different ports with the same database, Redis and secret key, and the test proves:
(a) a submission through node A is on node B's comments page;
(b) the per-address submission limit reached through A refuses the next post through B;
(c) a few hundred concurrent submissions through both nodes leave the tallies equal to a rebuild
    from raw responses, with every acknowledged submission stored exactly once.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psycopg
import pytest
import redis
from sqlalchemy import func, make_url, select, text
from sqlalchemy.orm import Session

from scripts.nodes import Browser, Node, base_env
from scripts.pgcluster import free_port
from survey import create_app
from survey.db import db, make_engine
from survey.migrate import upgrade
from survey.models import AnswerTally, Counter, Response, ResponseTally
from survey.services.statistics import tallies
from survey.services.submissions.links import counter_survey_path
from tests.conftest import environ_for

pytestmark = pytest.mark.skipif(
    os.environ.get("SIPAS_MULTINODE") != "1", reason="multi-node test: set SIPAS_MULTINODE=1"
)

SERVER_URL = os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = os.environ.get("SIPAS_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
SUBMIT_LIMIT = 5  # per address per minute, for (b)
CONCURRENT = 300  # submissions for (c)


@dataclass
class Deployment:
    url: str
    a: Node
    b: Node
    survey_path: str
    agency_code: str
    items: list[str]
    email: str
    password: str


def _admin(url: str) -> psycopg.Connection:
    conninfo = make_url(url).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    try:
        return psycopg.connect(conninfo, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is unreachable for the multi-node test: {exc}")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    from survey.services.operations.demo import seed_demo

    store = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        store.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is unreachable for the multi-node test at {REDIS_URL}: {exc}")
    name = f"sipas_multinode_{os.getpid()}_{secrets.token_hex(3)}"
    with _admin(SERVER_URL) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(SERVER_URL).set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    prefix = f"sipas-multinode-{secrets.token_hex(4)}"
    nodes: list[Node] = []
    try:
        engine = make_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        upgrade(engine)
        engine.dispose()
        app = create_app(environ=environ_for(url))
        with app.app_context():
            report = seed_demo(
                db.session, 300, seed=5, append=False, end_month=dt.date(2026, 10, 1), timezone=app.config["TIMEZONE"]
            )
            login = next(login for login in report.logins if login.role == "system_admin")
            counter = db.session.scalars(select(Counter).where(Counter.active).order_by(Counter.id)).first()
            secret = secrets.token_urlsafe(48)
            survey_path = counter_survey_path({**app.config, "SECRET_KEY": secret}, counter)
            agency_code = counter.agency.code
            items = [item.code for item in counter.instrument.items]
            db.session.remove()
        db.engine.dispose()  # type: ignore[union-attr]
        env = base_env(
            url,
            secret,
            SIPAS_REDIS_URL=REDIS_URL,
            SIPAS_RATELIMIT_KEY_PREFIX=prefix,
            SIPAS_SUBMIT_RATE_LIMIT=f"{SUBMIT_LIMIT} per minute",
            SIPAS_COUNTER_RATE_LIMIT="1000000 per minute",
            SIPAS_BURST_THRESHOLD="1000000",
        )
        logs = tmp_path_factory.mktemp("nodes")
        for _ in range(2):
            nodes.append(Node(free_port(), env).start(log=logs / f"node-{len(nodes)}.log"))
        yield Deployment(url, nodes[0], nodes[1], survey_path, agency_code, items, login.email, login.password)
    finally:
        for node in nodes:
            node.stop()
        for key in store.scan_iter(match=f"*{prefix}*"):
            store.delete(key)
        store.close()
        with _admin(SERVER_URL) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _answers(d: Deployment, csrf_token: str, **extra: str) -> dict[str, str]:
    form = {f"q_{code}": "4" for code in d.items}
    form.update(csrf_token=csrf_token, submission_id=str(uuid.uuid4()), respondent_type="person", adult="y")
    form.update(extra)
    return form


def test_a_submission_through_one_node_is_on_the_others_dashboard(deployment: Deployment) -> None:
    marker = f"multinode{secrets.token_hex(4)}"
    citizen = Browser(deployment.a.port, address="192.0.2.10")
    token = citizen.form(deployment.survey_path)["csrf_token"]
    status, _, headers = citizen.request("POST", deployment.survey_path, _answers(deployment, token, comment=marker))
    assert status == 303, status
    staff = Browser(deployment.b.port, address="192.0.2.11")
    sign_in = staff.form("/auth/sign-in")
    status, _, headers = staff.request(
        "POST",
        "/auth/sign-in",
        {"csrf_token": sign_in["csrf_token"], "email": deployment.email, "password": deployment.password},
    )
    assert status == 303, status
    status, html, _ = staff.request("GET", f"/agency/{deployment.agency_code}/comments?q={marker}")
    assert status == 200
    assert marker in html


def test_a_rate_limit_reached_through_one_node_applies_on_the_other(deployment: Deployment) -> None:
    address = "192.0.2.20"
    on_a, on_b = Browser(deployment.a.port, address=address), Browser(deployment.b.port, address=address)
    token = on_a.form(deployment.survey_path)["csrf_token"]
    on_b.cookies = dict(on_a.cookies)  # the same phone, routed to the other node by the proxy
    statuses = [
        on_a.request("POST", deployment.survey_path, _answers(deployment, token))[0] for _ in range(SUBMIT_LIMIT)
    ]
    assert statuses == [303] * SUBMIT_LIMIT
    status, html, headers = on_b.request("POST", deployment.survey_path, _answers(deployment, token))
    assert status == 429 and int(headers["Retry-After"]) > 0
    # The shared counters are keyed by a hash of the address, never the address.
    store = redis.Redis.from_url(REDIS_URL)
    assert not list(store.scan_iter(match=f"*{address}*"))
    store.close()
    # Another address is not affected.
    other = Browser(deployment.b.port, address="192.0.2.21")
    other_token = other.form(deployment.survey_path)["csrf_token"]
    assert other.request("POST", deployment.survey_path, _answers(deployment, other_token))[0] == 303


def _snapshot(session) -> tuple[list[tuple], list[tuple]]:  # type: ignore[no-untyped-def]
    responses = session.execute(select(ResponseTally.__table__).order_by(*ResponseTally.__table__.primary_key)).all()
    answers = session.execute(select(AnswerTally.__table__).order_by(*AnswerTally.__table__.primary_key)).all()
    return [tuple(r) for r in responses], [tuple(r) for r in answers]


def test_concurrent_writes_through_both_nodes_keep_the_tallies_exact(deployment: Deployment) -> None:
    def client(index: int) -> list[str]:
        node = deployment.a if index % 2 == 0 else deployment.b
        acknowledged = []
        for batch in range(CONCURRENT // 8 // (SUBMIT_LIMIT - 1) + 1):
            browser = Browser(node.port, address=f"198.18.{index}.{batch}")
            token = browser.form(deployment.survey_path)["csrf_token"]
            for _ in range(SUBMIT_LIMIT - 1):
                if len(acknowledged) >= CONCURRENT // 8:
                    return acknowledged
                form = _answers(deployment, token, **{f"q_{deployment.items[0]}": str(1 + (index + batch) % 5)})
                status, _, _ = browser.request("POST", deployment.survey_path, form)
                assert status == 303, status
                acknowledged.append(form["submission_id"])
            browser.close()
        return acknowledged

    with ThreadPoolExecutor(8) as pool:
        acknowledged = [sid for part in pool.map(client, range(8)) for sid in part]
    assert len(acknowledged) == CONCURRENT // 8 * 8
    engine = make_engine(deployment.url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            transaction = connection.begin()
            session = Session(bind=connection)
            ids = [uuid.UUID(s) for s in acknowledged]
            stored = session.scalar(select(func.count()).where(Response.submission_id.in_(ids)))
            assert stored == len(ids), "an acknowledged submission is missing or stored twice"
            incremental = _snapshot(session)
            tallies.rebuild(session)
            rebuilt = _snapshot(session)
            session.close()
            transaction.rollback()
            # The rebuild was rolled back: the live table is the incremental one.
            live = connection.execute(text(f"SELECT count(*) FROM {ResponseTally.__tablename__}")).scalar()
            assert live == len(incremental[0])
        assert incremental == rebuilt
    finally:
        engine.dispose()


def test_the_restore_drill_reproduces_the_shared_database(deployment: Deployment, capsys) -> None:  # type: ignore[no-untyped-def]
    from scripts.restore_drill import drill, inventory

    assert drill(deployment.url) == 0
    report = capsys.readouterr().out
    assert "OK, the restore equals the source" in report
    facts = inventory(deployment.url)
    assert facts["rows:responses"] and facts["md5:answers"]  # the drill compared something real

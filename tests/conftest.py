"""Shared fixtures: a database built by running the migrations, one app per test, CSRF on.

``TEST_DATABASE_URL`` (e.g. ``postgresql://postgres@127.0.0.1:5432/postgres``) runs the suite on a
fresh PostgreSQL database created for this run and dropped after it; without it, a SQLite file.
If it is set and the server cannot be reached, the run fails: it never silently skips.
Each test runs inside an outer transaction that is rolled back, so services may commit freely.
"""

from __future__ import annotations

import datetime
import os
import re
import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import Engine, make_url, select

from survey import create_app
from survey.db import db, make_engine, utcnow
from survey.migrate import upgrade
from survey.models import Agency, Answer, Counter, Instrument, Response

ROOT = Path(__file__).resolve().parent.parent
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")


def _compile_translations() -> None:
    """Tests check Vietnamese output, so compile the catalogs from the .po files they ship."""
    for po_path in (ROOT / "translations").glob("*/LC_MESSAGES/messages.po"):
        with po_path.open("rb") as fh:
            catalog = read_po(fh)
        with po_path.with_suffix(".mo").open("wb") as fh:
            write_mo(fh, catalog)


def _admin_conninfo(url: str) -> str:
    parsed = make_url(url).set(drivername="postgresql", database="postgres")
    return parsed.render_as_string(hide_password=False)


@contextmanager
def fresh_database(directory: Path) -> Iterator[str]:
    """An empty database: a SQLite file in ``directory``, or a new PostgreSQL database dropped afterwards."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{directory / 'test.db'}"
        return
    name = f"sipas_test_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        admin = psycopg.connect(_admin_conninfo(TEST_DATABASE_URL), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.exit(f"TEST_DATABASE_URL is set but PostgreSQL is unreachable: {exc}", returncode=3)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(TEST_DATABASE_URL).set(drivername="postgresql+psycopg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_admin_conninfo(TEST_DATABASE_URL), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _compile_translations()
    with fresh_database(tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture
def scratch_database_url(tmp_path: Path) -> Iterator[str]:
    """A second, empty database for tests that build or tear down a schema themselves."""
    with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def dialect(migrated_engine: Engine) -> str:
    return migrated_engine.dialect.name


def environ_for(database_url: str, **extra: str) -> dict[str, str]:
    environ = {
        "SIPAS_ENV": "test",
        "SIPAS_DATABASE_URL": database_url,
        "SIPAS_BASE_URL": "https://khaosat.example.vn",
        "SIPAS_DEFAULT_LOCALE": "vi",
        # Each test's data is rolled back: a report cached by one test must not leak into the next.
        "SIPAS_INDEX_CACHE_SECONDS": "0",
    }
    environ.update(extra)
    return environ


@contextmanager
def app_in_transaction(
    engine: Engine, database_url: str, environ: dict[str, str] | None = None, **overrides: object
) -> Iterator[Flask]:
    """An app whose session lives inside a transaction rolled back afterwards (``environ`` adds variables)."""
    app = create_app(
        overrides={"RATELIMIT_ENABLED": False, **overrides}, environ=environ_for(database_url, **(environ or {}))
    )
    connection = engine.connect()
    outer = connection.begin()
    db.session_factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        with app.app_context():
            yield app
    finally:
        db.session.remove()
        outer.rollback()
        connection.close()
        assert db.engine is not None
        db.engine.dispose()


@pytest.fixture
def app(migrated_engine: Engine, database_url: str) -> Iterator[Flask]:
    """An app whose session lives inside a transaction rolled back after the test (rate limits off)."""
    with app_in_transaction(migrated_engine, database_url) as app:
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def demo(app: Flask):  # type: ignore[no-untyped-def]
    """A small seeded demo province (structure, users, 300 responses)."""
    import datetime as dt

    from survey.services.operations.demo import seed_demo

    return seed_demo(
        db.session, 300, seed=7, append=False, end_month=dt.date(2026, 10, 1), timezone=app.config["TIMEZONE"]
    )


_HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*>')
_ATTR = re.compile(r'(name|value)="([^"]*)"')


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of a page (CSRF token, submission id)."""
    fields = {}
    for tag in _HIDDEN.findall(html):
        attrs = dict(_ATTR.findall(tag))
        if "name" in attrs:
            fields[attrs["name"]] = attrs.get("value", "")
    return fields


@pytest.fixture
def survey_answers() -> Callable[..., dict[str, str]]:
    """A complete, valid set of form values for an instrument (every item answered 4)."""

    def build(instrument, score: str = "4", **extra: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
        data = {f"q_{item.code}": score for item in instrument.items}
        data.update({"respondent_type": "person", "adult": "y", "submission_id": str(uuid.uuid4())})
        data.update(extra)
        return data

    return build


# -- staff pages (issue 5): one seeded province per run, each test inside a rolled-back transaction --------

SEEDED_RESPONSES = 2000
SEEDED_END_MONTH = "2026-10-01"


@pytest.fixture(scope="session")
def seeded_database(tmp_path_factory: pytest.TempPathFactory, database_url: str):  # type: ignore[no-untyped-def]
    """A second database, migrated and seeded once with the demo province (2,000 responses) and its logins."""
    import datetime as dt

    from survey.services.operations.demo import seed_demo

    with fresh_database(tmp_path_factory.mktemp("seeded")) as url:
        engine = make_engine(url)
        upgrade(engine)
        app = create_app(overrides={"RATELIMIT_ENABLED": False}, environ=environ_for(url))
        with app.app_context():
            report = seed_demo(
                db.session,
                SEEDED_RESPONSES,
                seed=11,
                append=False,
                end_month=dt.date.fromisoformat(SEEDED_END_MONTH),
                timezone=app.config["TIMEZONE"],
            )
            db.session.remove()
        assert db.engine is not None
        db.engine.dispose()
        yield engine, url, report
        engine.dispose()


@pytest.fixture
def staff_app(seeded_database):  # type: ignore[no-untyped-def]
    """An app on the seeded province; everything a test writes is rolled back."""
    engine, url, _report = seeded_database
    with app_in_transaction(engine, url) as app:
        # The test holds one app context, which every request reuses, so ``g`` would carry one request's
        # signed-in user, CSRF token and scopes into the next; in production each request has its own.
        @app.before_request
        def fresh_request_globals() -> None:
            for name in ("_login_user", "csrf_token", "sipas_scopes", "_flask_babel"):
                g.pop(name, None)

        yield app


@pytest.fixture
def logins(seeded_database) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Demo logins of the seeded province by role (``.email``, ``.password``, ``.agency``)."""
    return {login.role: login for login in seeded_database[2].logins}


def sign_in_client(client: FlaskClient, email: str, password: str) -> FlaskClient:
    """Sign ``client`` in through the form (CSRF token read from the page, as a browser does)."""
    page = client.get("/auth/sign-in")
    token = hidden_fields(page.get_data(as_text=True))["csrf_token"]
    response = client.post("/auth/sign-in", data={"csrf_token": token, "email": email, "password": password})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return client


@pytest.fixture
def signed_in(staff_app: Flask, logins: dict[str, object]) -> Callable[[str], FlaskClient]:
    """Factory: a new test client signed in as the demo user of ``role``."""

    def make(role: str) -> FlaskClient:
        login = logins[role]
        return sign_in_client(staff_app.test_client(), login.email, login.password)  # type: ignore[attr-defined]

    return make


def add_comment_response(
    agency_code: str, received_on: datetime.date, comment: str, score: int | None = None, **fields: object
) -> Response:
    """Store one valid response with a comment at the agency's first counter, on the first instrument; with
    ``score``, every item is answered with it. Committed, for the staff pages to find."""
    agency = db.session.scalar(select(Agency).where(Agency.code == agency_code))
    assert agency is not None, agency_code
    counter = db.session.scalar(select(Counter).where(Counter.agency_id == agency.id).order_by(Counter.id))
    instrument = db.session.scalar(select(Instrument).order_by(Instrument.id))
    assert counter is not None and instrument is not None
    response = Response(
        submission_id=uuid.uuid4(),
        agency_id=agency.id,
        counter_id=counter.id,
        instrument_id=instrument.id,
        received_at=utcnow(),
        received_on=received_on,
        comment=comment,
        **fields,
    )
    if score is not None:
        response.answers = [Answer(item_id=item.id, score=score) for item in instrument.items]
    db.session.add(response)
    db.session.commit()
    return response

"""Engine, session and declarative base.

The engine is built from ``app.config["DATABASE_URL"]`` inside the factory, never at import time.
Services own their transactions (commit on success, roll back on error); the request teardown
removes the scoped session.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    from flask import Flask

#: Constraint names every migration and model share, so Alembic can find and alter them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 10_000
#: Seconds a writer waits for its turn in the queue before the request gives up (503, Retry-After):
#: well inside gunicorn's 30 s worker timeout.
WRITER_QUEUE_TIMEOUT = 10.0
#: Between tries of a writer waiting outside the main thread (where no timer signal can bound the wait).
_POLL_SECONDS = 0.001


class WriterQueueTimeout(PoolTimeoutError):
    """No turn to write within the queue's time limit (a long maintenance write, an overload).

    A pool timeout to the error handlers: nothing was stored, and the answer is 503 with
    ``Retry-After`` (a translated page; the survey page's offline queue sends again later).
    """


class _Expired(Exception):
    """Raised by the timer signal to interrupt a blocking ``flock``."""


def _expire(_signum: int, _frame: Any) -> None:
    raise _Expired


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every database (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use datetime.now(timezone.utc)")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def driver_connection(conn: Connection) -> Any:
    """The driver's own connection (sqlite3 or psycopg) under ``conn``, for the bulk paths that skip
    SQLAlchemy's row machinery; it runs in ``conn``'s transaction."""
    driver = conn.connection.driver_connection
    assert driver is not None  # a checked-out connection always has one
    return driver


def upsert_insert(dialect: str, table: Any) -> Any:
    """``INSERT`` with ``ON CONFLICT`` clauses, in the dialect of the database (PostgreSQL or SQLite)."""
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, busy timeout; and real BEGIN/SAVEPOINT semantics.

    pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT, so it is switched off and
    SQLAlchemy's ``begin`` event emits the BEGIN. A unit of work that will write can ask for
    ``BEGIN IMMEDIATE`` with the ``sqlite_begin`` execution option (see :func:`Database.write`), which
    takes the write lock up front instead of failing with SQLITE_BUSY when it upgrades later.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        # Straight on the driver connection: a submission begins two transactions, and SQLAlchemy's
        # execution machinery cost more than the BEGIN itself. Errors arrive as SQLAlchemy's all the same.
        statement = f"BEGIN {mode}"
        try:
            conn.connection.driver_connection.execute(statement)
        except sqlite3.Error as exc:
            raise DBAPIError.instance(statement, None, exc, sqlite3.Error, dialect=engine.dialect) from exc


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` with the project's per-dialect settings."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


class WriterQueue:
    """Queues this machine's writers to one SQLite file on an OS file lock, in front of ``BEGIN IMMEDIATE``.

    SQLite lets one writer in at a time and makes the others poll: its busy handler sleeps 1, 2, 5,
    10 ms … between tries, so under load a waiting worker sleeps past the moment the lock is free and
    a core idles (12 % of the CPU in the submission benchmark). A blocking ``flock`` instead wakes the
    next writer as soon as the lock is released. The file lock orders processes; a re-entrant thread
    lock orders the threads of one process, which share the file descriptor. Writers that do not come
    through :meth:`Database.write` (the CLI's bulk loads) still meet SQLite's own busy timeout.

    The wait is bounded (``timeout``, ``SIPAS_WRITER_QUEUE_TIMEOUT``): past it the writer gives up with
    :class:`WriterQueueTimeout`, which a request answers with 503 and ``Retry-After`` instead of
    hanging until gunicorn kills the worker at 30 s.
    """

    def __init__(self, path: str, timeout: float | None = WRITER_QUEUE_TIMEOUT) -> None:
        self.path = path
        #: Seconds to wait for a turn (None: without limit, e.g. the CLI's maintenance writes).
        self.timeout = timeout
        self._threads = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():  # a forked worker opens its own descriptor
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def _acquire(self, fd: int, timeout: float | None) -> None:
        """Take the file lock, within ``timeout`` seconds (else :class:`WriterQueueTimeout`).

        In the main thread (a gunicorn sync worker's request) the blocking ``flock`` is bounded by a
        one-shot timer signal, so the next writer is still woken the moment the lock is free; other
        threads cannot take signals and try every millisecond instead.
        """
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if timeout is None:
                fcntl.flock(fd, fcntl.LOCK_EX)
                return
        if threading.current_thread() is threading.main_thread() and signal.getitimer(signal.ITIMER_REAL) == (0, 0):
            previous = signal.signal(signal.SIGALRM, _expire)
            try:
                signal.setitimer(signal.ITIMER_REAL, timeout)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            except _Expired:
                # The timer may fire just after flock returned: give back a lock this thread may now hold.
                fcntl.flock(fd, fcntl.LOCK_UN)
                raise WriterQueueTimeout(f"no turn to write within {timeout:g} s") from None
            finally:
                signal.signal(signal.SIGALRM, previous)
            return
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WriterQueueTimeout(f"no turn to write within {timeout:g} s") from None
                time.sleep(_POLL_SECONDS)

    @contextmanager
    def turn(self, timeout: float | None = -1.0) -> Iterator[None]:
        """Hold the writers' turn; ``timeout`` overrides the queue's own limit (None: wait as long as it takes)."""
        limit = self.timeout if timeout is not None and timeout < 0 else timeout
        with self._threads:
            if self._depth == 0:
                self._acquire(self._file(), limit)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    fcntl.flock(self._file(), fcntl.LOCK_UN)


def writer_queue_for(engine: Engine, timeout: float | None = WRITER_QUEUE_TIMEOUT) -> WriterQueue | None:
    """A queue beside a SQLite database file (``<file>-writers``); None for other databases and memory."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return WriterQueue(os.path.abspath(database) + "-writers", timeout)


class Database:
    """Holds the engine and the scoped session of one app."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.writers: WriterQueue | None = None
        self.session_factory = sessionmaker(expire_on_commit=False)
        #: One session per thread (request), removed at the end of each app context.
        self.registry: scoped_session[Session] = scoped_session(self.session_factory)
        #: The one way to get a session: services take ``session: Session`` and views pass ``db.session``.
        #: It is the registry itself (it forwards every Session method to the thread's session), typed as
        #: the Session it stands for.
        self.session: Session = cast(Session, self.registry)

    def init_app(self, app: Flask) -> None:
        self.engine = make_engine(app.config["DATABASE_URL"])
        timeout = float(app.config.get("WRITER_QUEUE_TIMEOUT", WRITER_QUEUE_TIMEOUT))
        self.writers = writer_queue_for(self.engine, timeout if timeout > 0 else None)
        self.session_factory.configure(bind=self.engine)
        app.teardown_appcontext(self._remove_session)
        app.extensions["sipas_db"] = self

    def _remove_session(self, _exc: BaseException | None) -> None:
        self.registry.remove()

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    @contextmanager
    def write(self, wait: float | None = -1.0) -> Iterator[Session]:
        """One write transaction (queued on SQLite files): commit on success, roll back on any error.

        The wait for a turn is bounded by the queue's limit (:class:`WriterQueueTimeout` past it);
        ``wait`` overrides it (None: without limit, for maintenance commands that must not give up).
        """
        with self.writers.turn(wait) if self.writers is not None else nullcontext():
            session = self.registry()
            if session.in_transaction():
                # End the read transaction a request may have opened, so the write lock is taken up front.
                session.commit()
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            # Readers that commit opportunistically (stored index roll-ups) must not commit a writer's work.
            session.info["sipas_writing"] = True
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                session.info.pop("sipas_writing", None)


db = Database()

"""A real SIPAS server for browser tests and benchmarks: gunicorn on a free localhost port, SQLite file,
migrated and seeded through the same ``flask`` commands an operator runs."""

from __future__ import annotations

import json
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    database: Path
    counters: list[dict[str, str]]

    def survey_url(self, instrument_prefix: str = "sipas-2017 ") -> str:
        return next(c["url"] for c in self.counters if c["instrument"].startswith(instrument_prefix))

    def count_responses(self, submission_id: str | None = None) -> int:
        with sqlite3.connect(self.database) as conn:
            if submission_id is None:
                return conn.execute("SELECT count(*) FROM responses").fetchone()[0]
            # SQLAlchemy's Uuid type stores 32 hex digits on SQLite.
            key = submission_id.replace("-", "")
            return conn.execute("SELECT count(*) FROM responses WHERE submission_id = ?", (key,)).fetchone()[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(directory: Path, responses: int = 0, workers: int = 1, **env_extra: str) -> Iterator[LiveServer]:
    """Serve a seeded demo province from ``directory``; stop the server on exit."""
    port = free_port()
    database = directory / "live.db"
    env = {
        **os.environ,
        "SIPAS_ENV": "test",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "SIPAS_DATABASE_URL": f"sqlite:///{database}",
        "SIPAS_BASE_URL": f"http://127.0.0.1:{port}",
        "SIPAS_DEFAULT_LOCALE": "vi",
        "SIPAS_LOG_LEVEL": "WARNING",
        **env_extra,
    }
    env.pop("TEST_DATABASE_URL", None)
    flask = [str(BIN / "python"), "-m", "flask", "--app", "wsgi"]

    def run(*args: str) -> str:
        done = subprocess.run([*flask, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed: {done.stderr[-2000:]}")
        return done.stdout

    run("db", "upgrade")
    run("load-instruments")
    run("seed-demo", "--responses", str(responses), "--end-month", "2026-10")
    counters = json.loads(run("list-counters", "--json"))
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base_url + "/healthz", timeout=2) as res:
                    if res.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start: " + server.stderr.read().decode()[-2000:]) from None
                time.sleep(0.2)
        yield LiveServer(base_url, database, counters)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        assert server.stderr is not None
        server.stderr.close()


def app_for(database: Path) -> Flask:
    """An app on a live server's database, for a test to add users or data the way the services do (its own
    secret key: nothing it signs is used by the server)."""
    from survey import create_app

    return create_app(
        environ={
            "SIPAS_ENV": "test",
            "SIPAS_DATABASE_URL": f"sqlite:///{database}",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "SIPAS_LOG_LEVEL": "WARNING",
        }
    )

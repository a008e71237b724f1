"""Serving exactly as ``make run`` does: the configured rate limits are the enforced ones, and every line
gunicorn and the app write is one JSON object without citizen-supplied text (issue 12).

The gunicorn command line is read from the Makefile (``make -n run``), so these tests follow the target.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import hidden_fields
from tests.e2e.live_server import free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make_run_gunicorn(port: int, **variables: str) -> list[str]:
    """The gunicorn command ``make run`` executes, with this venv's gunicorn."""
    args = [f"PORT={port}", *(f"{k}={v}" for k, v in variables.items())]
    plan = subprocess.run(
        ["make", "-n", "--no-print-directory", "run", *args],  # noqa: S607  (make from PATH, as a newcomer runs it)
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    recipe = plan.replace("\\\n", " ")
    line = next(line for line in recipe.splitlines() if "bin/gunicorn" in line)
    words = shlex.split(line)
    assert words[0] == "exec", line
    assert words[1].endswith("bin/gunicorn"), line
    return [str(BIN / "gunicorn"), *words[2:]]


@dataclass
class Served:
    port: int
    proc: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path
    env: dict[str, str]
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        """One request on a fresh connection (no keep-alive), with this client's cookies."""
        headers = {"Connection": "close"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", errors="replace")
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, text

    def hidden(self, path: str) -> dict[str, str]:
        status, html = self.request("GET", path)
        assert status == 200, (path, status)
        return hidden_fields(html)

    def lines(self) -> list[str]:
        return [
            line
            for path in (self.stdout, self.stderr)
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
            if line.strip()
        ]


def _env(directory: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIPAS_", "TEST_DATABASE"))}
    env.update(
        {
            "SIPAS_ENV": "development",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "SIPAS_DATABASE_URL": f"sqlite:///{directory / 'serving.db'}",
            "SIPAS_BASE_URL": f"http://127.0.0.1:{port}",
            "PORT": str(port),
        }
    )
    return env


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("serving")
    port = free_port()
    env = _env(directory, port)
    flask = [str(BIN / "python"), "-m", "flask", "--app", "wsgi"]
    for args in (["db", "upgrade"], ["load-instruments"], ["seed-demo", "--responses", "0", "--end-month", "2026-10"]):
        subprocess.run([*flask, *args], cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)  # noqa: S603
    stdout, stderr = directory / "stdout.log", directory / "stderr.log"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        proc = subprocess.Popen(make_run_gunicorn(port), cwd=ROOT, env=env, stdout=out, stderr=err)  # noqa: S603
    server = Served(port, proc, stdout, stderr, env)
    deadline = time.monotonic() + 60
    try:
        while True:
            assert proc.poll() is None, stderr.read_text()
            try:
                if server.request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not answer /healthz"
            time.sleep(0.2)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_make_run_serves_with_the_no_control_socket_flag_and_the_config_file() -> None:
    command = make_run_gunicorn(8000)
    assert "--no-control-socket" in command
    assert command[command.index("--config") + 1] == "survey/gunicorn_conf.py"


def test_the_eleventh_sign_in_within_a_minute_is_refused(served: Served) -> None:
    """SIPAS_SIGN_IN_RATE_LIMIT defaults to 10 per minute: from the 11th attempt on, 429, whichever worker answers.

    Ten attempts one after the other, then ten at once (so that every worker process, were there several
    counting alone, would take some): all of those must be refused.
    """
    started = time.monotonic()
    token = served.hidden("/auth/sign-in")["csrf_token"]

    def attempt(n: int) -> int:
        form = {"csrf_token": token, "email": f"nobody{n}@example.vn", "password": "wrong-password"}
        return served.request("POST", "/auth/sign-in", form)[0]

    first = [attempt(n) for n in range(10)]
    with ThreadPoolExecutor(max_workers=5) as pool:
        beyond = list(pool.map(attempt, range(10, 20)))
    assert time.monotonic() - started < 60
    assert 429 not in first, first
    assert beyond == [429] * 10, beyond


def test_every_line_is_json_and_a_refused_submission_logs_no_citizen_text(served: Served) -> None:
    marker = "ZQXJ-citizen-wrote-this"
    counters = json.loads(
        subprocess.run(  # noqa: S603
            [str(BIN / "python"), "-m", "flask", "--app", "wsgi", "list-counters", "--json"],
            cwd=ROOT,
            env=served.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
    )
    counter = next(c for c in counters if c["instrument"].startswith("sipas-2017 "))
    path = urllib.parse.urlsplit(counter["url"]).path
    assert served.request("GET", "/")[0] == 200
    assert served.request("GET", "/static/does-not-exist.css")[0] == 404
    hidden = served.hidden(path)
    status, page = served.request("GET", path)
    items = sorted(set(re.findall(r'name="(q_q\d+)"', page)))
    assert items
    form = {
        **hidden,
        **dict.fromkeys(items, "4"),
        "respondent_type": "person",
        "adult": "y",
        "comment": (marker + " ") * 80,  # 1,920 characters, under the 2,000 allowed
        "field": marker * 200,  # no such field of procedure: the service refuses it (400)
    }
    status, _html = served.request("POST", path, form)
    assert status == 400

    deadline = time.monotonic() + 10
    while not any("submission refused" in line for line in served.lines()):
        assert time.monotonic() < deadline, "the refusal was not logged"
        time.sleep(0.2)
    lines = served.lines()
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON line: {line[:300]!r}")
    assert all(isinstance(e, dict) and {"time", "level", "logger", "message"} <= set(e) for e in entries)
    assert not any(marker in line for line in lines)
    refusal = next(e for e in entries if e["message"] == "submission refused")
    assert refusal["reason"] == "unknown_field"
    assert any(e["logger"] == "gunicorn.error" for e in entries)  # gunicorn's own lines are JSON too
    requests = [e for e in entries if e["logger"] == "survey.request"]
    assert {"/", "/s/<token>"} <= {e["route"] for e in requests}
    assert not any(path in line for line in lines)  # no counter token: gunicorn's access log is off


def test_several_worker_processes_on_memory_limits_refuse_to_start(tmp_path: Path) -> None:
    port = free_port()
    env = _env(tmp_path, port)
    done = subprocess.run(  # noqa: S603
        make_run_gunicorn(port, WORKERS="2"), cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    problem = [line for line in done.stderr.splitlines() if "SIPAS configuration error" in line]
    assert len(problem) == 1 and "SIPAS_REDIS_URL" in problem[0] and "--workers 2" in problem[0]

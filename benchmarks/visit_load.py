"""A citizen's whole visit under load, against the bare insert route, interleaved, on SQLite and PostgreSQL.

    python benchmarks/visit_load.py [--database sqlite|postgresql|both] [--rounds 3] [--seconds 10]
                                    [--connections 8] [--workers 1] [--threads 4]
                                    [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres]
                                    [--redis-url redis://127.0.0.1:6379/14]

A visit is what a phone does after scanning the QR code: GET the survey page (a new session cookie and CSRF
token), POST the completed form as the no-JS page does (every rating the page shows, rotated or not), follow
the 303 to the thank-you page and GET it, then close the connection: the next visit opens a fresh one, as the
next citizen's phone does. The load comes from ``wrk`` (Debian package; a C client, one connection per wrk
thread so each carries one visit's state in its Lua script).

The reference is the bare insert route (``benchmarks/bare_submit_app.py``: the same rows and burst check
through the same services, no page, token, CSRF, form or redirect), one request per stored response, on
fresh connections too. Both apps run at once on their own ports under the production gunicorn configuration
(``survey/gunicorn_conf.py``; ``make run`` serves 1 worker × 4 threads on SQLite), and the rounds alternate
visit, bare, visit, bare … so both see the same machine. Printed per round and as medians: visits/s,
bare requests/s, their ratio (target ≥ 1/3), per-request latency p95 (wrk times requests, not visits: a
visit is three of them), and acknowledged vs stored (every acknowledged visit must be stored once).

On PostgreSQL a scratch database is created on ``--postgres-url`` and dropped afterwards; gunicorn then
keeps its rate limits in Redis (``--redis-url``) when it runs more than one worker process, as production
must. Rate limits and the burst rule are raised for the run, as in ``submit_load.py``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))

_VISIT_LUA = r"""
-- One connection per thread: the thread's Lua state is that phone's visit.
-- step 1: GET the survey page; 2: POST the form; 3: GET the thank-you page, then the connection closes.
local paths = {PATHS}
local threads = {}
visits, refused = 0, 0
local step, path, cookie, body, thanks = 1, nil, "", "", nil

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 1000 + id)
  path = paths[(id - 1) % #paths + 1]
end

local function uuid4()
  local r = math.random
  return string.format("%08x-%04x-4%03x-%04x-%04x%08x",
    r(0, 0xffffffff), r(0, 0xffff), r(0, 0xfff), r(0, 0x3fff) + 0x8000, r(0, 0xffff), r(0, 0xffffffff))
end

local function encode(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function request()
  if step == 1 then
    return wrk.format("GET", path, {})
  elseif step == 2 then
    return wrk.format("POST", path, {["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = cookie}, body)
  else
    return wrk.format("GET", thanks, {["Cookie"] = cookie, ["Connection"] = "close"})
  end
end

local function form_of(page)
  local fields, seen = {}, {}
  for tag in page:gmatch('<input[^>]-type="hidden"[^>]->') do
    local name = tag:match('name="([^"]*)"')
    local value = tag:match('value="([^"]*)"') or ""
    if name then
      if name == "submission_id" and value == "" then value = uuid4() end
      seen[name] = true
      table.insert(fields, encode(name) .. "=" .. encode(value))
    end
  end
  if not seen["submission_id"] then table.insert(fields, "submission_id=" .. uuid4()) end
  local rated = {}
  for name in page:gmatch('name="(q_[%w_]+)"') do
    if not rated[name] then rated[name] = true; table.insert(fields, name .. "=4") end
  end
  for _, extra in ipairs({"respondent_type=person", "adult=y", "website="}) do table.insert(fields, extra) end
  return table.concat(fields, "&")
end

function response(status, headers, page)
  if step == 1 then
    if status ~= 200 then refused = refused + 1; return end
    cookie = (headers["Set-Cookie"] or ""):match("^[^;]*") or ""
    body = form_of(page)
    step = 2
  elseif step == 2 then
    if status == 303 and headers["Location"] then
      thanks = headers["Location"]:gsub("^https?://[^/]+", "")
      step = 3
    else
      refused = refused + 1; step = 1
    end
  else
    if status == 200 then visits = visits + 1 else refused = refused + 1 end
    step = 1
  end
end

function done(summary, latency, requests)
  local v, f = 0, 0
  for _, thread in ipairs(threads) do v = v + thread:get("visits"); f = f + thread:get("refused") end
  io.write(string.format("WRK %d %d %d %d %d %d\n", summary.requests, summary.duration, v, f,
    latency:percentile(95),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""

_BARE_LUA = r"""
-- One stored response per request, a fresh id each, on a fresh connection (Connection: close).
local targets = {TARGETS}
local threads = {}
acked, refused, last_refused = 0, 0, 0
local next_target = 1

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 1000 + id)
  next_target = (id - 1) % #targets + 1
end

local function uuid4()
  local r = math.random
  return string.format("%08x-%04x-4%03x-%04x-%04x%08x",
    r(0, 0xffffffff), r(0, 0xffff), r(0, 0xfff), r(0, 0x3fff) + 0x8000, r(0, 0xffff), r(0, 0xffffffff))
end

function request()
  local t = targets[next_target]
  next_target = next_target % #targets + 1
  return wrk.format("POST", t.path, {["Content-Type"] = "application/json", ["Connection"] = "close"},
    '{"answers": ' .. t.answers .. ', "submission_id": "' .. uuid4() .. '"}')
end

function response(status, headers, body)
  if status == 201 or status == 200 then acked = acked + 1 else refused = refused + 1; last_refused = status end
end

function done(summary, latency, requests)
  local a, f = 0, 0
  local status = 0
  for _, thread in ipairs(threads) do
    a = a + thread:get("acked"); f = f + thread:get("refused")
    if thread:get("last_refused") ~= 0 then status = thread:get("last_refused") end
  end
  io.write(string.format("STATUS %d\n", status))
  io.write(string.format("WRK %d %d %d %d %d %d\n", summary.requests, summary.duration, a, f,
    latency:percentile(95),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def _lua(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(database_url: str, port: int, redis_url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "SIPAS_ENV": "development",
        "SIPAS_DATABASE_URL": database_url,
        "SIPAS_BASE_URL": f"http://127.0.0.1:{port}",
        "SIPAS_SUBMIT_RATE_LIMIT": "1000000 per minute",
        "SIPAS_COUNTER_RATE_LIMIT": "1000000 per minute",
        "SIPAS_BURST_WINDOW_SECONDS": "1",
        "SIPAS_BURST_THRESHOLD": "1000",
        "SIPAS_LOG_LEVEL": "WARNING",
    }
    if redis_url:
        env["SIPAS_REDIS_URL"] = redis_url
    return env


def _start(app_path: str, env: dict[str, str], port: int, workers: int, threads: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            GUNICORN,
            "--config",
            "survey/gunicorn_conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--no-control-socket",
            app_path,
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"{app_path} did not start on port {port}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


def _wrk(script: str, port: int, connections: int, seconds: float) -> tuple[int, float, int, int, float, int]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = subprocess.run(
            ["wrk", "-t", str(connections), "-c", str(connections), "-d", f"{seconds:.0f}s", "--timeout", "30s",
             "-s", handle.name, f"http://127.0.0.1:{port}/"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(handle.name)
    line = next(row for row in out.splitlines() if row.startswith("WRK "))
    status = next((row.split()[1] for row in out.splitlines() if row.startswith("STATUS ")), "0")
    if status != "0":
        print(f"    (a refused request answered {status})")
    requests, duration_us, done, refused, p95_us, errors = (int(x) for x in line.split()[1:])
    return requests, duration_us / 1e6, done, refused, p95_us / 1000, errors


def _phase(
    engine: sa.Engine, script: str, port: int, args: argparse.Namespace
) -> tuple[int, float, int, int, float, int, int]:
    """One timed wrk run: its figures (``_wrk``) and the responses stored meanwhile."""
    before = _count(engine)
    figures = _wrk(script, port, args.connections, args.seconds)
    return (*figures, _count(engine) - before)


def _count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM responses")).scalar_one())


@contextmanager
def _database(kind: str, postgres_url: str) -> Iterator[str]:
    """A fresh, migrated database with a demo province: its URL."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'visits.db'}"
        return
    name = f"sipas_visits_{os.getpid()}"
    admin = sa.create_engine(
        postgres_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _prepare(database_url: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Migrate and seed; the survey paths of the active counters and the bare route's (path, answers JSON)."""
    env = _env(database_url, 0, "")
    flask = [PYTHON, "-m", "flask", "--app", "wsgi"]
    for command in (["db", "upgrade"], ["load-instruments"], ["seed-demo", "--responses", "1000"]):
        subprocess.run([*flask, *command], cwd=ROOT, env=env, check=True, capture_output=True)
    listing = subprocess.run(
        [*flask, "list-counters", "--json"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    rows = json.loads(listing)
    paths = [row["url"].split("://", 1)[1].split("/", 1)[1] for row in rows]
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        by_code = {
            (agency, counter): (cid, iid)
            for cid, agency, counter, iid in conn.execute(
                sa.text(
                    "SELECT c.id, a.code, c.code, c.instrument_id FROM counters c JOIN agencies a ON a.id = c.agency_id"
                )
            )
        }
        rotated = {iid for (iid,) in conn.execute(sa.text("SELECT id FROM instruments WHERE rotation IS NOT NULL"))}
        # The counters list-counters prints (open counter, open agency) that ask every criterion: both sides then
        # store the same 19 or 22 answers per response (the bare route cannot know a split questionnaire's
        # assignment).
        rows = [row for row in rows if by_code[(row["agency"], row["counter"])][1] not in rotated]
        paths = [row["url"].split("://", 1)[1].split("/", 1)[1] for row in rows]
        counters = [by_code[(row["agency"], row["counter"])] for row in rows]
        items = {
            iid: [
                code
                for (code,) in conn.execute(
                    sa.text("SELECT code FROM instrument_items WHERE instrument_id = :i ORDER BY position"), {"i": iid}
                )
            ]
            for iid in {c[1] for c in counters}
        }
    engine.dispose()
    bare = [(f"/bare/{cid}", json.dumps(dict.fromkeys(items[iid], 4))) for cid, iid in counters]
    return ["/" + p for p in paths], bare


def _run(kind: str, args: argparse.Namespace) -> None:
    with _database(kind, args.postgres_url) as database_url:
        paths, bare = _prepare(database_url)
        redis_url = args.redis_url if kind == "postgresql" and args.workers > 1 else ""
        visit_port, bare_port = _free_port(), _free_port()
        visit_app = _start(
            "wsgi:app", _env(database_url, visit_port, redis_url), visit_port, args.workers, args.threads
        )
        bare_app = _start(
            "benchmarks.bare_submit_app:app",
            _env(database_url, bare_port, redis_url),
            bare_port,
            args.workers,
            args.threads,
        )
        engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
        visit_script = _VISIT_LUA.replace("{PATHS}", "{" + ", ".join(_lua(p) for p in paths) + "}")
        bare_script = _BARE_LUA.replace(
            "{TARGETS}", "{" + ", ".join(f"{{path = {_lua(p)}, answers = {_lua(a)}}}" for p, a in bare) + "}"
        )
        print(
            f"== {kind}: gunicorn (survey/gunicorn_conf.py) {args.workers} worker(s) × {args.threads} threads per app, "
            f"wrk {args.connections} connections, {args.seconds:.0f} s per run, {args.rounds} rounds interleaved, "
            f"{os.cpu_count()} cores, load average before {os.getloadavg()[0]:.2f}"
            + (", rate limits in Redis" if redis_url else ", rate limits in memory")
        )
        ratios, visit_rates, bare_rates, lost = [], [], [], 0
        try:
            for round_no in range(1, args.rounds + 1):
                requests, wall, visits, refused, p95, errors, stored = _phase(engine, visit_script, visit_port, args)
                visit_rate = visits / wall
                lost += max(0, visits - stored)
                print(
                    f"  round {round_no} visit: {visits:,} whole visits ({requests:,} requests) in {wall:.1f} s = "
                    f"{visit_rate:,.1f} visits/s; request p95 {p95:.1f} ms; refused {refused}, socket errors {errors}; "
                    f"stored {stored:,} ({stored - visits:+d} against completed visits: posts acknowledged while "
                    "their thank-you page was in flight when wrk stopped)"
                )
                requests, wall, acked, refused, p95, errors, stored = _phase(engine, bare_script, bare_port, args)
                bare_rate = acked / wall
                lost += max(0, acked - stored)
                print(
                    f"  round {round_no} bare:  {acked:,} stored responses in {wall:.1f} s = "
                    f"{bare_rate:,.1f} requests/s; request p95 {p95:.1f} ms; refused {refused}, "
                    f"socket errors {errors}; stored {stored:,}"
                )
                visit_rates.append(visit_rate)
                bare_rates.append(bare_rate)
                ratios.append(visit_rate / bare_rate)
        finally:
            _stop(visit_app)
            _stop(bare_app)
            engine.dispose()
        print(
            f"  {kind}: median {statistics.median(visit_rates):,.1f} whole visits/s vs "
            f"{statistics.median(bare_rates):,.1f} bare requests/s; "
            f"ratio per round {', '.join(f'{r:.2f}' for r in ratios)}, median "
            f"{statistics.median(ratios):.2f} (target ≥ 0.33); acknowledged but not stored: {lost}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("visit_load.py needs wrk (Debian package wrk)")
    for kind in ("sqlite", "postgresql") if args.database == "both" else (args.database,):
        _run(kind, args)


if __name__ == "__main__":
    main()

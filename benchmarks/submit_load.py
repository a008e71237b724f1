"""Citizen submissions under load: gunicorn on SQLite, concurrent clients, acknowledged vs stored.

    python benchmarks/submit_load.py [--seconds 20] [--clients 16] [--workers N] [--threads 1]
                                     [--max-requests 50000] [--client wrk|python]
                                     [--redis-url redis://127.0.0.1:6379/14]

1. Builds a scratch SQLite database (migrated, a seeded demo province) and starts gunicorn
   (``--workers`` sync workers, by default one per core; ``--threads`` above 1 uses gthread workers)
   on a free 127.0.0.1 port.
2. ``--clients`` phones each open the survey page of a counter (session cookie and CSRF token), then
   POST complete, valid forms with fresh submission ids until ``--seconds`` pass. A 303 to the
   thank-you page is an acknowledgement. The load comes from ``wrk`` (Debian package; a C client
   that leaves the two cores to the server: ``--clients`` connections, fresh UUIDs made in its Lua
   script) or, without wrk or with ``--client python``, from as many Python processes, which also
   record each acknowledged id.
3. Repeats against a bare route that stores the same rows through the same services without
   token, CSRF, reading the form or the redirect (``benchmarks/bare_submit_app.py``), with the same
   client: the ceiling.
4. Prints submissions/s, p50/p95/p99 latency and acknowledged vs stored (every acknowledged id
   must be in the database exactly once).

Traffic goes only to 127.0.0.1. Rate limits and the burst rule are raised for the run (a province's
whole load on a handful of demo counters would otherwise trip them, as it should in production); the
burst check itself still runs on every submission. With
``--redis-url`` the rate limits live in Redis, as on a production node with several workers.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


REDIS_URL = ""


def _env(db_path: Path, port: int) -> dict[str, str]:
    extra = {"SIPAS_REDIS_URL": REDIS_URL} if REDIS_URL else {}
    return {
        **extra,
        **os.environ,
        "SIPAS_ENV": "development",
        "SIPAS_DATABASE_URL": f"sqlite:///{db_path}",
        "SIPAS_BASE_URL": f"http://127.0.0.1:{port}",
        "SIPAS_SUBMIT_RATE_LIMIT": "1000000 per minute",
        "SIPAS_COUNTER_RATE_LIMIT": "1000000 per minute",
        # Burst detection runs on every submission, reading the counter's window as in production (which
        # stops at 10 entries); a 1-second window keeps that read to a few dozen entries at 500/s over 16
        # counters, and a threshold of 1,000 per second is never reached, so nothing is flagged.
        "SIPAS_BURST_WINDOW_SECONDS": "1",
        "SIPAS_BURST_THRESHOLD": "1000",
        "SIPAS_LOG_LEVEL": "WARNING",
    }


WORKER_ARGS: list[str] = []


def _start(app_path: str, env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            GUNICORN,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            *WORKER_ARGS,
            "--log-level",
            "warning",
            app_path,
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 90  # a loaded machine may take a while to boot the workers
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{app_path} did not start on port {port}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


_HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*>')
_ATTR = re.compile(r'(name|value)="([^"]*)"')


def _form_client(args: tuple[int, str, list[str], float, int, bool]) -> list[tuple[float, str | None]]:
    """One phone: open the survey page once, then submit until the deadline. Returns (latency, acked id)."""
    port, path, items, deadline, limit, bare = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers: dict[str, str] = {"Content-Type": "application/x-www-form-urlencoded"}
    hidden: dict[str, str] = {}
    if not bare:
        conn.request("GET", path)
        page = conn.getresponse()
        html = page.read().decode("utf-8")
        cookie = page.getheader("Set-Cookie", "").split(";", 1)[0]
        headers["Cookie"] = cookie
        for tag in _HIDDEN.findall(html):
            attrs = dict(_ATTR.findall(tag))
            if "name" in attrs:
                hidden[attrs["name"]] = attrs.get("value", "")
    else:
        headers["Content-Type"] = "application/json"
    results: list[tuple[float, str | None]] = []
    while time.monotonic() < deadline and len(results) < limit:
        sid = str(uuid.uuid4())
        if bare:
            body = json.dumps({"submission_id": sid, "answers": dict.fromkeys(items, 4)})
        else:
            form = {**hidden, "submission_id": sid, "respondent_type": "person", "adult": "y", "website": ""}
            form.update({f"q_{code}": "4" for code in items})
            body = urllib.parse.urlencode(form)
        started = time.perf_counter()
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        elapsed = time.perf_counter() - started
        ok = response.status in (303, 201)
        results.append((elapsed, sid if ok else None))
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.close()
    return results


_WRK_SCRIPT = r"""
-- One complete survey form per request, each with a fresh submission id (UUID v4).
local targets = {TARGETS}
local threads = {}
local next_target = 1
acked, refused = 0, 0

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 1000 + id)
  next_target = id
end

local function uuid4()
  local r = math.random
  return string.format("%08x-%04x-4%03x-%04x-%04x%08x",
    r(0, 0xffffffff), r(0, 0xffff), r(0, 0xfff), r(0, 0x3fff) + 0x8000, r(0, 0xffff), r(0, 0xffffffff))
end

function request()
  local t = targets[next_target]
  next_target = next_target % #targets + 1
  return wrk.format("POST", t.path, {["Content-Type"] = t.type, ["Cookie"] = t.cookie},
    t.before .. uuid4() .. t.after)
end

function response(status, headers, body)
  if status == 303 or status == 201 then acked = acked + 1 else refused = refused + 1 end
end

function done(summary, latency, requests)
  local a, f = 0, 0
  for _, thread in ipairs(threads) do
    a = a + thread:get("acked")
    f = f + thread:get("refused")
  end
  io.write(string.format("WRK %d %d %d %d %d %d %d %d\n", summary.requests, summary.duration, a, f,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def _lua(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _phone(port: int, path: str, items: list[str]) -> tuple[str, str]:
    """Open the survey page like a phone: the session cookie and the form body without its id."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    page = conn.getresponse()
    html = page.read().decode("utf-8")
    cookie = page.getheader("Set-Cookie", "").split(";", 1)[0]
    conn.close()
    hidden = {}
    for tag in _HIDDEN.findall(html):
        attrs = dict(_ATTR.findall(tag))
        if "name" in attrs and attrs["name"] != "submission_id":
            hidden[attrs["name"]] = attrs.get("value", "")
    form = {**hidden, "respondent_type": "person", "adult": "y", "website": ""}
    form.update({f"q_{code}": "4" for code in items})
    return cookie, urllib.parse.urlencode(form)


def _bare_body(items: list[str]) -> tuple[str, str]:
    """The bare route's JSON body around its submission id: (text before the id, text after it)."""
    answers = json.dumps(dict.fromkeys(items, 4))
    return '{"answers": ' + answers + ', "submission_id": "', '"}'


def _run_wrk(
    label: str,
    app_path: str,
    db_path: Path,
    targets: list[tuple[str, list[str]]],
    args: argparse.Namespace,
    bare: bool = False,
) -> float:
    port = _free_port()
    proc = _start(app_path, _env(db_path, port), port, args.workers)
    try:
        requests_: list[tuple[str, str, str, str, str]] = []  # path, content type, cookie, before id, after id
        for path, items in targets[: args.clients]:
            if bare:
                requests_.append((path, "application/json", "", *_bare_body(items)))
            else:
                cookie, body = _phone(port, path, items)
                requests_.append((path, "application/x-www-form-urlencoded", cookie, body + "&submission_id=", ""))
        lua = ", ".join(
            f"{{path = {_lua(path)}, type = {_lua(kind)}, cookie = {_lua(cookie)}, "
            f"before = {_lua(before)}, after = {_lua(after)}}}"
            for path, kind, cookie, before, after in requests_
        )
        with sqlite3.connect(db_path) as conn:
            before = conn.execute("SELECT count(*) FROM responses").fetchone()[0]
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(_WRK_SCRIPT.replace("{TARGETS}", "{" + lua + "}"))
        threads = max(1, min(2, args.clients))
        out = subprocess.run(
            ["wrk", "-t", str(threads), "-c", str(args.clients), "-d", f"{args.seconds:.0f}s", "--timeout", "30s",
             "-s", script.name, f"http://127.0.0.1:{port}/"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        os.unlink(script.name)
    finally:
        _stop(proc)
    line = next(row for row in out.splitlines() if row.startswith("WRK "))
    requests, duration_us, acked, refused, p50, p95, p99, socket_errors = (int(x) for x in line.split()[1:])
    with sqlite3.connect(db_path) as conn:
        stored = conn.execute("SELECT count(*) FROM responses").fetchone()[0] - before
    wall = duration_us / 1e6
    rate = acked / wall
    print(
        f"{label}: {requests:,} requests in {wall:.1f} s, {rate:,.0f} acknowledged submissions/s; "
        f"latency p50 {p50 / 1000:.1f} ms, p95 {p95 / 1000:.1f} ms, p99 {p99 / 1000:.1f} ms; "
        f"refused {refused}, socket errors {socket_errors}; acknowledged {acked:,}, stored {stored:,}: "
        + (
            f"missing {acked - stored}"
            if stored < acked
            else f"none missing, {stored - acked} stored while in flight when wrk stopped (at most one per connection)"
        )
        + " (every request carries a fresh id; --client python checks each acknowledged id)"
    )
    return rate


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _run(
    label: str, app_path: str, db_path: Path, targets: list[tuple[str, list[str]]], args: argparse.Namespace, bare: bool
) -> float:
    port = _free_port()
    proc = _start(app_path, _env(db_path, port), port, args.workers)
    try:
        deadline = time.monotonic() + args.seconds
        per_client = max(1, args.max_requests // args.clients)
        jobs = []
        for i in range(args.clients):
            path, items = targets[i % len(targets)]
            jobs.append((port, path, items, deadline, per_client, bare))
        started = time.perf_counter()
        with mp.get_context("spawn").Pool(args.clients) as pool:
            outcomes = [r for part in pool.map(_form_client, jobs) for r in part]
        wall = time.perf_counter() - started
    finally:
        _stop(proc)
    latencies = [lat for lat, _ in outcomes]
    acked = [sid for _, sid in outcomes if sid]
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TEMP TABLE acked (sid TEXT PRIMARY KEY)")
        conn.executemany("INSERT INTO acked VALUES (?)", [(uuid.UUID(s).hex,) for s in acked])
        stored = conn.execute("SELECT count(*) FROM responses r JOIN acked a ON a.sid = r.submission_id").fetchone()[0]
    rate = len(acked) / wall
    print(
        f"{label}: {len(outcomes):,} requests in {wall:.1f} s, {rate:,.0f} acknowledged submissions/s; "
        f"latency p50 {_percentile(latencies, 0.5) * 1000:.1f} ms, p95 {_percentile(latencies, 0.95) * 1000:.1f} ms, "
        f"p99 {_percentile(latencies, 0.99) * 1000:.1f} ms; errors {len(outcomes) - len(acked)}; "
        f"acknowledged {len(acked):,}, stored {stored:,}, missing {len(acked) - stored}"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="gunicorn sync workers (default: one per core)"
    )
    parser.add_argument("--max-requests", type=int, default=50_000)
    parser.add_argument("--client", choices=("wrk", "python"), default="wrk" if shutil.which("wrk") else "python")
    parser.add_argument(
        "--redis-url", default="", help="keep rate limits in this Redis (e.g. redis://127.0.0.1:6379/14)"
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="threads per worker; above 1, gunicorn's gthread workers (keep-alive)"
    )
    args = parser.parse_args()
    global REDIS_URL
    REDIS_URL = args.redis_url
    if args.threads > 1:
        WORKER_ARGS.extend(["--worker-class", "gthread", "--threads", str(args.threads)])
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "load.db"
        env = _env(db_path, 0)
        flask = [PYTHON, "-m", "flask", "--app", "wsgi"]
        subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
        subprocess.run([*flask, "seed-demo", "--responses", "1000"], cwd=ROOT, env=env, check=True, capture_output=True)
        rows = json.loads(
            subprocess.run(
                [*flask, "list-counters", "--json"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
            ).stdout
        )
        with sqlite3.connect(db_path) as conn:
            counters = conn.execute(
                "SELECT c.id, a.code, c.code, i.id FROM counters c JOIN agencies a ON a.id = c.agency_id "
                "JOIN instruments i ON i.id = c.instrument_id WHERE c.active"
            ).fetchall()
            items = {
                iid: [
                    code
                    for (code,) in conn.execute(
                        "SELECT code FROM instrument_items WHERE instrument_id = ? ORDER BY position", (iid,)
                    )
                ]
                for iid in {c[3] for c in counters}
            }
        by_key = {(a, c): (cid, iid) for cid, a, c, iid in counters}
        forms, bares = [], []
        for row in rows:
            cid, iid = by_key[(row["agency"], row["counter"])]
            forms.append((urllib.parse.urlsplit(row["url"]).path, items[iid]))
            bares.append((f"/bare/{cid}", items[iid]))
        client = f"wrk, {args.clients} connections" if args.client == "wrk" else f"{args.clients} client processes"
        limits = "Redis" if REDIS_URL else "memory"
        print(
            f"{client}, gunicorn {args.workers} "
            + (f"gthread workers × {args.threads} threads" if args.threads > 1 else "sync workers")
            + f", SQLite, rate limits in {limits}, "
            f"{args.seconds:.0f} s per run, {os.cpu_count()} cores, load average before {os.getloadavg()[0]:.2f}"
        )
        label = "survey form (token, CSRF, rate limits, validation, redirect)"
        bare_label, bare_app = "bare insert route (ceiling)", "benchmarks.bare_submit_app:app"
        if args.client == "wrk":
            form_rate = _run_wrk(label, "wsgi:app", db_path, forms, args)
            bare_rate = _run_wrk(bare_label, bare_app, db_path, bares, args, bare=True)
        else:
            form_rate = _run(label, "wsgi:app", db_path, forms, args, False)
            bare_rate = _run(bare_label, bare_app, db_path, bares, args, True)
        print(f"survey form throughput = {form_rate / bare_rate:.0%} of the bare-route ceiling")


if __name__ == "__main__":
    main()

"""Citizen submissions under load: gunicorn on SQLite, concurrent clients, acknowledged vs stored.

    python benchmarks/submit_load.py [--seconds 20] [--clients 16] [--workers 4] [--max-requests 50000]

1. Builds a scratch SQLite database (migrated, a seeded demo province) and starts gunicorn
   (``--workers`` sync workers) on a free 127.0.0.1 port.
2. ``--clients`` client processes each open the survey page of a counter (session cookie and CSRF
   token, as a phone does), then POST complete, valid forms with fresh submission ids over a
   keep-alive connection until ``--seconds`` pass or ``--max-requests`` are sent. A 303 to the
   thank-you page is an acknowledgement.
3. Repeats against a bare route that stores the same rows through the same services without
   token, CSRF, form validation or rendering (``benchmarks/bare_submit_app.py``): the ceiling.
4. Prints submissions/s, p50/p95/p99 latency and acknowledged vs stored (every acknowledged id
   must be in the database exactly once).

Traffic goes only to 127.0.0.1. Rate limits and burst flagging are raised for the run (a province's
whole load on a handful of demo counters would otherwise trip them, as it should in production).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import re
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


def _env(db_path: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "SIPAS_ENV": "development",
        "SIPAS_DATABASE_URL": f"sqlite:///{db_path}",
        "SIPAS_BASE_URL": f"http://127.0.0.1:{port}",
        "SIPAS_SUBMIT_RATE_LIMIT": "1000000 per minute",
        "SIPAS_COUNTER_RATE_LIMIT": "1000000 per minute",
        "SIPAS_BURST_THRESHOLD": "1000000",
        "SIPAS_LOG_LEVEL": "WARNING",
    }


def _start(app_path: str, env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [GUNICORN, "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--log-level", "warning", app_path],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
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
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--max-requests", type=int, default=50_000)
    args = parser.parse_args()
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
        print(
            f"{args.clients} client processes, gunicorn {args.workers} sync workers, SQLite, {args.seconds:.0f} s "
            f"per run, {os.cpu_count()} cores, load average before {os.getloadavg()[0]:.2f}"
        )
        form_rate = _run("survey form (token, CSRF, validation, render)", "wsgi:app", db_path, forms, args, False)
        bare_rate = _run("bare insert route (ceiling)", "benchmarks.bare_submit_app:app", db_path, bares, args, True)
        print(f"survey form throughput = {form_rate / bare_rate:.0%} of the bare-route ceiling")


if __name__ == "__main__":
    main()

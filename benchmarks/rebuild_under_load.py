"""Citizen submissions while ``flask rebuild-stats`` runs: the rate kept, timeouts, nothing lost.

    python benchmarks/rebuild_under_load.py [--responses 200000] [--clients 8] [--workers 2]
                                            [--baseline-seconds 15] [--reference]

1. Seeds a scratch SQLite database (``flask seed-demo --responses N``) and starts gunicorn (``--workers``
   sync workers, 30 s worker timeout as in production) on a free 127.0.0.1 port.
2. ``--clients`` phones (one process each) open a counter's survey page, then POST complete, valid
   forms with fresh submission ids; a 303 to the thank-you page is an acknowledgement. Phases, in
   one run, interleaved: no rebuild (``--baseline-seconds``), during ``flask rebuild-stats`` run as a
   user runs it (a separate process, one agency's days of up to 2,000 responses per transaction; the
   phase lasts as long as the rebuild), no rebuild again; with ``--reference`` also during the old
   one-transaction rebuild (every tally rebuilt under one write lock), then no rebuild once more.
3. Prints, per phase: acknowledged submissions/s, the ratio to the mean of the no-rebuild phases,
   latency p50/p95/max, refusals (503 with Retry-After from the bounded writers' queue, which the
   survey page's offline queue sends again), timeouts (no answer within 30 s, or a 502/504), and
   acknowledged vs stored (every acknowledged id must be stored exactly once).

Traffic only to 127.0.0.1; rate limits and the burst rule are raised as in ``submit_load.py``.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing as mp
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.submit_load import _env, _free_port, _start, _stop  # noqa: E402

FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
TIMEOUT = 30.0
_HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*>')
_ATTR = re.compile(r'(name|value)="([^"]*)"')
#: The old ``flask rebuild-stats``: every tally rebuilt in one write transaction (the reference).
ONE_TRANSACTION = (
    "from survey import create_app; from survey.db import db; from survey.services.statistics import tallies\n"
    "app = create_app()\n"
    "with app.app_context():\n"
    "    with db.write(wait=None) as session:\n"
    "        tallies.rebuild(session)\n"
)


def _phone(args: tuple[int, str, list[str], str]) -> list[tuple[float, int, str | None]]:
    """One phone: open the survey page, then submit until the stop file exists; (latency, status, acked id)."""
    port, path, items, stop = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    conn.request("GET", path)
    page = conn.getresponse()
    html = page.read().decode("utf-8")
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": page.getheader("Set-Cookie", "").split(";", 1)[0],
    }
    hidden = {}
    for tag in _HIDDEN.findall(html):
        attrs = dict(_ATTR.findall(tag))
        if "name" in attrs:
            hidden[attrs["name"]] = attrs.get("value", "")
    conn.close()
    results: list[tuple[float, int, str | None]] = []
    while not os.path.exists(stop):
        sid = str(uuid.uuid4())
        form = {**hidden, "submission_id": sid, "respondent_type": "person", "adult": "y", "website": ""}
        form.update({f"q_{code}": "4" for code in items})
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)  # a fresh connection, as phones do
        try:
            conn.request("POST", path, body=urllib.parse.urlencode(form), headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except TimeoutError:
            status = 0
        except OSError:
            status = -1
        finally:
            conn.close()
        results.append((time.perf_counter() - started, status, sid if status == 303 else None))
    return results


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _phase(
    label: str, port: int, targets: list[tuple[str, list[str]]], clients: int, tmp: str, during: list[str] | None,
    seconds: float, env: dict[str, str],
) -> dict[str, object]:  # fmt: skip
    stop = os.path.join(tmp, f"stop-{uuid.uuid4().hex}")
    jobs = [(port, *targets[i % len(targets)], stop) for i in range(clients)]
    with mp.get_context("spawn").Pool(clients) as pool:
        pending = pool.map_async(_phone, jobs)
        time.sleep(1.0)  # the phones have opened their pages and are submitting
        started = time.perf_counter()
        held = None
        if during is None:
            time.sleep(seconds)
        else:
            done = subprocess.run(during, cwd=ROOT, env=env, capture_output=True, text=True)
            assert done.returncode == 0, done.stderr[-2000:]
            held = time.perf_counter() - started
        Path(stop).touch()
        wall = time.perf_counter() - started + 1.0
        outcomes = [r for part in pending.get() for r in part]
    latencies = [lat for lat, _, _ in outcomes]
    acked = [sid for _, _, sid in outcomes if sid]
    refused = sum(1 for _, status, _ in outcomes if status == 503)
    timeouts = sum(1 for lat, status, _ in outcomes if status in (0, -1, 502, 504) or lat >= TIMEOUT)
    other = len(outcomes) - len(acked) - refused - timeouts
    return {
        "label": label, "wall": wall, "rate": len(acked) / wall, "acked": acked, "refused": refused,
        "timeouts": timeouts, "other": other, "p50": _percentile(latencies, 0.5), "p95": _percentile(latencies, 0.95),
        "max": max(latencies, default=float("nan")), "rebuild": held,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline-seconds", type=float, default=15.0)
    parser.add_argument("--reference", action="store_true", help="also run the old one-transaction rebuild")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "rebuild.db"
        port = _free_port()
        env = {**_env(db_path, port), "SIPAS_WRITER_QUEUE_TIMEOUT": os.environ.get("SIPAS_WRITER_QUEUE_TIMEOUT", "10")}
        subprocess.run([*FLASK, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
        started = time.perf_counter()
        subprocess.run(
            [*FLASK, "seed-demo", "--responses", str(args.responses), "--end-month", "2026-10"],
            cwd=ROOT, env=env, check=True, capture_output=True,
        )  # fmt: skip
        seeded = time.perf_counter() - started
        with sqlite3.connect(db_path) as conn:
            counters = conn.execute(
                "SELECT a.code, c.code, c.instrument_id FROM counters c JOIN agencies a ON a.id = c.agency_id "
                "WHERE c.active ORDER BY c.id"
            ).fetchall()
            items = {
                iid: [code for (code,) in conn.execute(
                    "SELECT code FROM instrument_items WHERE instrument_id = ? ORDER BY position", (iid,))]
                for iid in {c[2] for c in counters}
            }  # fmt: skip
            agency_months = conn.execute(
                "SELECT count(*) FROM (SELECT DISTINCT agency_id, month FROM stat_response_tallies)"
            ).fetchone()[0]  # noqa: E501
        listed = subprocess.run(
            [*FLASK, "list-counters", "--json"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        ).stdout
        import json

        by_key = {(a, c): iid for a, c, iid in counters}
        targets = [
            (urllib.parse.urlsplit(row["url"]).path, items[by_key[(row["agency"], row["counter"])]])
            for row in json.loads(listed)
        ][:16]
        server = _start("wsgi:app", env, port, args.workers)
        phases = []
        try:
            plan: list[tuple[str, list[str] | None]] = [
                ("no rebuild", None),
                ("during flask rebuild-stats (short transactions, ≤ 2,000 responses each)", [*FLASK, "rebuild-stats"]),
                ("no rebuild", None),
            ]
            if args.reference:
                plan += [
                    ("during the one-transaction rebuild (reference: the old rebuild-stats)",
                     [sys.executable, "-c", ONE_TRANSACTION]),
                    ("no rebuild", None),
                ]  # fmt: skip
            for label, during in plan:
                phases.append(_phase(label, port, targets, args.clients, tmp, during, args.baseline_seconds, env))
        finally:
            _stop(server)
        acked = [sid for p in phases for sid in p["acked"]]  # type: ignore[attr-defined]
        with sqlite3.connect(db_path) as conn:
            conn.execute("CREATE TEMP TABLE acked (sid TEXT PRIMARY KEY)")
            conn.executemany("INSERT INTO acked VALUES (?)", [(uuid.UUID(s).hex,) for s in acked])
            stored = conn.execute(
                "SELECT count(*) FROM responses r JOIN acked a ON a.sid = r.submission_id"
            ).fetchone()[0]
    baseline = [float(p["rate"]) for p in phases if p["rebuild"] is None]  # type: ignore[arg-type]
    normal = sum(baseline) / len(baseline)
    print(
        f"{args.responses:,} seeded responses ({agency_months} agency-months, seeded in {seeded:.0f} s), SQLite, "
        f"gunicorn {args.workers} sync workers (timeout 30 s), {args.clients} client processes, fresh connection "
        f"per POST, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"
    )
    for p in phases:
        during = f", rebuild took {p['rebuild']:.1f} s" if p["rebuild"] is not None else ""
        print(
            f"  {p['label']}: {p['rate']:.0f} acknowledged/s ({float(p['rate']) / normal:.0%} of the no-rebuild mean)"  # type: ignore[arg-type]
            f"{during}; latency p50 {float(p['p50']) * 1000:.0f} ms, p95 {float(p['p95']) * 1000:.0f} ms, "  # type: ignore[arg-type]
            f"max {float(p['max']) * 1000:.0f} ms; 503 refusals {p['refused']}, timeouts {p['timeouts']}, "  # type: ignore[arg-type]
            f"other errors {p['other']}"
        )
    print(f"  acknowledged {len(acked):,}, stored {stored:,}, missing {len(acked) - stored}")


if __name__ == "__main__":
    main()

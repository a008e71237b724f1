"""Soak under faults: gunicorn on a private PostgreSQL, workers SIGKILLed, a graceful reload, a database restart.

    python benchmarks/soak.py [--seconds 60] [--clients 8] [--readers 2] [--workers 3] [--kill-every 5]
                              [--outage 6] [--recovery 8]

1. Starts a private PostgreSQL cluster (initdb in a temporary directory, its own port: the shared
   server is never touched), migrates and seeds a demo province, starts gunicorn (sync workers).
2. For ``--seconds``: ``--clients`` threads submit complete surveys (fresh submission id each, a 303 is
   an acknowledgement; a dropped connection or a 503 is retried with the *same* id, as the survey
   page's offline queue does) while ``--readers`` signed-in staff read dashboards. Every
   ``--kill-every`` seconds one gunicorn worker gets SIGKILL; half-way the master gets SIGHUP
   (graceful reload).
3. Then PostgreSQL is stopped for ``--outage`` seconds (the app must answer 503 with Retry-After) and
   started again; the clients keep going for ``--recovery`` seconds (the app must recover by itself).
4. Prints throughput, latency percentiles, responses by status, dropped connections, acknowledged vs
   stored, duplicates, and whether the tallies equal a rebuild from raw responses; exits 1 if a
   target is missed (no acknowledged response lost, no duplicate, no 5xx other than the outage's
   503s, tallies exact, recovery after the restart).
5. The node's output (gunicorn's and the app's JSON log lines) goes to ``--log`` (default: a file in
   the temporary directory, kept and named at the end); its errors are summarised by logger and
   message, so a stray 500 shows its cause.

Traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import re
import secrets
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter as Tally
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from scripts.nodes import Browser, Node, PageError, base_env  # noqa: E402
from scripts.pgcluster import PrivateCluster, free_port  # noqa: E402

DROPPED = (http.client.HTTPException, ConnectionError, TimeoutError, OSError)


@dataclass
class Shared:
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    outage: bool = False
    #: (phase, kind, status, latency) per request; kind is "submit" or "read".
    records: list[tuple[str, str, int, float]] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)
    retried_ids: set[str] = field(default_factory=set)
    first_ack_after_outage: float | None = None
    outage_ended_at: float | None = None
    missing_retry_after: int = 0

    def phase(self) -> str:
        return "outage" if self.outage else "main"

    def note(self, kind: str, status: int, latency: float) -> None:
        with self.lock:
            self.records.append((self.phase(), kind, status, latency))


def _submitter(shared: Shared, port: int, targets: list[tuple[str, list[str]]], seed: int) -> None:
    rng = random.Random(seed)
    path, items = targets[seed % len(targets)]
    browser = Browser(port, timeout=60)
    token = ""
    while not shared.stop.is_set():
        sid = str(uuid.uuid4())
        form = {f"q_{code}": str(rng.randint(1, 5)) for code in items}
        form.update(submission_id=sid, respondent_type="person", adult="y")
        while not shared.stop.is_set():  # until this submission is acknowledged
            started = time.perf_counter()
            try:
                if not token:
                    token = browser.form(path).get("csrf_token", "")
                status, _body, headers = browser.request("POST", path, {**form, "csrf_token": token})
            except TimeoutError:
                shared.note("submit", -1, time.perf_counter() - started)  # -1: no answer within the client timeout
                shared.retried_ids.add(sid)
                continue
            except DROPPED:
                shared.note("submit", 0, time.perf_counter() - started)  # 0: connection dropped, no answer
                shared.retried_ids.add(sid)
                time.sleep(0.05)
                continue
            except PageError as exc:  # the survey page itself failed (503 during the outage)
                shared.note("submit", exc.status, time.perf_counter() - started)
                time.sleep(0.5)
                continue
            shared.note("submit", status, time.perf_counter() - started)
            if status == 303:
                with shared.lock:
                    shared.acknowledged.append(sid)
                    if shared.outage_ended_at and shared.first_ack_after_outage is None:
                        shared.first_ack_after_outage = time.monotonic() - shared.outage_ended_at
                break
            if status == 503 and "Retry-After" not in headers:
                shared.missing_retry_after += 1
            if status == 400:
                token = ""  # a stale session: fetch the form again
            shared.retried_ids.add(sid)
            time.sleep(0.5 if status == 503 else 0.05)
    browser.close()


def _reader(shared: Shared, port: int, email: str, password: str, pages: list[str], think: float) -> None:
    browser = Browser(port, timeout=60)
    signed_in = False
    turn = 0
    while not shared.stop.is_set():
        started = time.perf_counter()
        try:
            if not signed_in:
                token = browser.form("/auth/sign-in")["csrf_token"]
                status, _, _ = browser.request(
                    "POST", "/auth/sign-in", {"csrf_token": token, "email": email, "password": password}
                )
                signed_in = status == 303
                if not signed_in:
                    shared.note("read", status, time.perf_counter() - started)
                    time.sleep(0.5)
                    continue
            status, _, _ = browser.request("GET", pages[turn % len(pages)])
            turn += 1
        except DROPPED:
            shared.note("read", 0, time.perf_counter() - started)
            time.sleep(0.05)
            continue
        except PageError as exc:
            shared.note("read", exc.status, time.perf_counter() - started)
            time.sleep(0.5)
            continue
        shared.note("read", status, time.perf_counter() - started)
        if status == 302:
            signed_in = False
        time.sleep(think)  # a person reading a dashboard, not a crawler


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _prepare(
    cluster: PrivateCluster, secret: str
) -> tuple[str, list[tuple[str, list[str]]], tuple[str, str], list[str]]:
    from sqlalchemy import select

    from survey import create_app
    from survey.db import db, make_engine
    from survey.migrate import upgrade
    from survey.models import Counter
    from survey.services.operations.demo import seed_demo
    from survey.services.submissions.links import counter_survey_path

    url = cluster.create_database("soak")
    engine = make_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    upgrade(engine)
    engine.dispose()
    app = create_app(environ={"SIPAS_ENV": "test", "SIPAS_DATABASE_URL": url, "SECRET_KEY": secret})
    with app.app_context():
        report = seed_demo(
            db.session, 1000, seed=9, append=False, end_month=dt.date(2026, 10, 1), timezone=app.config["TIMEZONE"]
        )
        login = next(item for item in report.logins if item.role == "system_admin")
        counters = db.session.scalars(select(Counter).where(Counter.active).order_by(Counter.id)).all()[:12]
        targets = [(counter_survey_path(app.config, c), [i.code for i in c.instrument.items]) for c in counters]
        agencies = sorted({c.agency.code for c in counters})[:3]
        db.session.remove()
    db.engine.dispose()  # type: ignore[union-attr]
    pages = [f"/agency/{code}/{page}" for code in agencies for page in ("", "comments")]
    return url, targets, (login.email, login.password), pages


def _verify(url: str, acknowledged: list[str]) -> dict[str, object]:
    from sqlalchemy import func, select, text
    from sqlalchemy.orm import Session

    from survey.db import make_engine
    from survey.models import AnswerTally, Response, ResponseTally
    from survey.services.statistics import tallies

    engine = make_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    result: dict[str, object] = {}
    with engine.connect() as connection:
        transaction = connection.begin()
        session = Session(bind=connection)
        ids = [uuid.UUID(s) for s in acknowledged]
        stored = 0
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            stored += session.scalar(select(func.count()).where(Response.submission_id.in_(chunk))) or 0
        result["stored"] = stored
        result["duplicates"] = (
            session.execute(
                text("SELECT count(*) FROM (SELECT submission_id FROM responses GROUP BY 1 HAVING count(*) > 1) d")
            ).scalar()
            or 0
        )

        def snapshot() -> tuple[list[tuple], list[tuple]]:
            rows = []
            for model in (ResponseTally, AnswerTally):
                table = model.__table__
                rows.append([tuple(r) for r in session.execute(select(table).order_by(*table.primary_key))])
            return rows[0], rows[1]

        before = snapshot()
        tallies.rebuild(session)
        result["tallies_equal"] = before == snapshot()
        result["tally_rows"] = len(before[0]) + len(before[1])
        session.close()
        transaction.rollback()
    engine.dispose()
    return result


def _log_errors(log: Path) -> Tally[tuple[str, str]]:
    """ERROR and CRITICAL lines of the node's JSON log, by logger and first line of message/exception."""
    errors: Tally[tuple[str, str]] = Tally()
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a worker killed mid-line, or a line of a non-JSON tool
        if not isinstance(record, dict):
            continue
        if isinstance(record.get("status"), int) and record["status"] >= 500:
            errors[("request", f"{record.get('method')} {record.get('route')} → {record['status']}")] += 1
        if record.get("level") not in ("ERROR", "CRITICAL"):
            continue
        detail = str(record.get("exception") or record.get("message", "")).strip().splitlines()
        message = re.sub(r"\d+", "N", detail[-1] if detail else "")[:160]
        errors[(str(record.get("logger", "?")), message)] += 1
    return errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="main phase (kills and a reload)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--kill-every", type=float, default=5.0)
    parser.add_argument("--think", type=float, default=1.0, help="seconds a reader waits between pages")
    parser.add_argument("--outage", type=float, default=10.0, help="seconds PostgreSQL stays down")
    parser.add_argument("--recovery", type=float, default=8.0, help="seconds of traffic after it is back")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14", help="a Redis database it may flush")
    parser.add_argument("--log", type=Path, default=None, help="where the node's output goes (kept)")
    args = parser.parse_args()
    log = args.log or Path(tempfile.mkdtemp(prefix="sipas-soak-")) / "node.log"

    cluster = PrivateCluster().init()
    node: Node | None = None
    shared = Shared()
    events: Tally[str] = Tally()
    try:
        secret = secrets.token_urlsafe(48)
        url, targets, (email, password), pages = _prepare(cluster, secret)
        env = base_env(
            url,
            secret,
            SIPAS_PROXY_HOPS="0",
            SIPAS_SUBMIT_RATE_LIMIT="1000000 per minute",
            SIPAS_COUNTER_RATE_LIMIT="1000000 per minute",
            SIPAS_SIGN_IN_RATE_LIMIT="1000 per minute",
            SIPAS_BURST_THRESHOLD="1000000",
            SIPAS_OUTAGE_RETRY_AFTER="2",
            # Several worker processes count rate limits in Redis (the gunicorn config refuses otherwise).
            SIPAS_REDIS_URL=args.redis_url,
        )
        redis.Redis.from_url(args.redis_url, socket_connect_timeout=2).flushdb()
        node = Node(free_port(), env, workers=args.workers).start(log=log)
        print(
            f"soak: gunicorn {args.workers} sync workers on PostgreSQL {cluster.port} (private), {args.clients} "
            f"submitters, {args.readers} dashboard readers, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        threads = [
            threading.Thread(target=_submitter, args=(shared, node.port, targets, i), daemon=True)
            for i in range(args.clients)
        ]
        threads += [
            threading.Thread(target=_reader, args=(shared, node.port, email, password, pages, args.think), daemon=True)
            for _ in range(args.readers)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        reloaded = False
        next_kill = started + args.kill_every
        while time.monotonic() - started < args.seconds:
            time.sleep(0.2)
            now = time.monotonic()
            if not reloaded and now - started >= args.seconds / 2:
                node.signal(signal.SIGHUP)
                reloaded = True
                events["graceful reload (SIGHUP)"] += 1
                next_kill = now + args.kill_every  # let the new workers boot before the next kill
            if now >= next_kill:
                workers = node.worker_pids()
                if workers:
                    os.kill(random.choice(workers), signal.SIGKILL)  # noqa: S311  (not security)
                    events["worker SIGKILL"] += 1
                next_kill = now + args.kill_every
        main_acked = len(shared.acknowledged)
        main_wall = time.monotonic() - started

        # gunicorn's HUP retires old workers as soon as new ones are forked, not when they are ready: on a
        # busy machine requests queue (they do not fail) while the new workers import the app. Let the node
        # settle, so the database outage below meets a serving node, not a queue.
        settle_deadline = time.monotonic() + 90
        while time.monotonic() < settle_deadline:
            try:
                if node.get_status("/readyz") == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)

        with shared.lock:
            shared.outage = True
        down_at = time.monotonic()
        cluster.stop()
        events["PostgreSQL stopped"] += 1
        time.sleep(args.outage)
        cluster.start()
        with shared.lock:
            shared.outage_ended_at = time.monotonic()
        events["PostgreSQL started"] += 1
        downtime = time.monotonic() - down_at
        time.sleep(args.recovery)
        shared.stop.set()
        for thread in threads:
            thread.join(timeout=30)
        readyz = node.get_status("/readyz")
    finally:
        if node is not None:
            node.stop()
    try:
        verdict = _verify(url, shared.acknowledged)
    finally:
        cluster.destroy()

    submits = [r for r in shared.records if r[1] == "submit"]
    reads = [r for r in shared.records if r[1] == "read"]
    by_status = Tally((phase, kind, status) for phase, kind, status, _ in shared.records)
    main_5xx = sum(n for (phase, _k, status), n in by_status.items() if phase == "main" and status >= 500)
    outage_5xx_not_503 = sum(
        n for (phase, _k, status), n in by_status.items() if phase == "outage" and status >= 500 and status != 503
    )
    acknowledged = len(shared.acknowledged)
    stored = int(verdict["stored"])  # type: ignore[call-overload]
    ok_latency = [lat for _p, _k, status, lat in submits if status == 303]
    read_latency = [lat for _p, _k, status, lat in reads if status == 200]
    print(f"events: {dict(events)}; PostgreSQL down {downtime:.1f} s")
    print(
        f"main phase: {main_acked:,} acknowledged submissions in {main_wall:.1f} s = {main_acked / main_wall:.1f}/s; "
        f"{sum(1 for r in reads if r[0] == 'main' and r[2] == 200):,} dashboard pages read"
    )
    print(
        f"submit latency (303): p50 {_percentile(ok_latency, 0.5) * 1000:.0f} ms, "
        f"p95 {_percentile(ok_latency, 0.95) * 1000:.0f} ms, p99 {_percentile(ok_latency, 0.99) * 1000:.0f} ms; "
        f"dashboard (200): p50 {_percentile(read_latency, 0.5) * 1000:.0f} ms, "
        f"p95 {_percentile(read_latency, 0.95) * 1000:.0f} ms, p99 {_percentile(read_latency, 0.99) * 1000:.0f} ms"
    )
    for phase in ("main", "outage"):
        counts = {
            f"{kind} {({0: 'dropped', -1: 'timed out'}).get(status, status)}": n
            for (p, kind, status), n in sorted(by_status.items())
            if p == phase
        }
        print(f"responses by status ({phase}{' + recovery' if phase == 'outage' else ''}): {counts}")
    recovery = shared.first_ack_after_outage
    print(
        f"dropped connections (in flight on a killed or reloading worker, retried with the same id): "
        f"{sum(1 for r in submits if r[2] == 0)} submissions, {sum(1 for r in reads if r[2] == 0)} reads; "
        f"client timeouts (60 s): {sum(1 for r in shared.records if r[2] == -1)}; "
        f"submissions retried: {len(shared.retried_ids):,}"
    )
    print(
        f"acknowledged {acknowledged:,}, stored {stored:,}, lost {acknowledged - stored}, "
        f"duplicates {verdict['duplicates']}; tallies equal to a rebuild: {verdict['tallies_equal']} "
        f"({verdict['tally_rows']:,} rows)"
    )
    back = "never" if recovery is None else f"{recovery:.1f} s"
    print(
        f"first acknowledgement after PostgreSQL was back: {back}; /readyz at the end: {readyz}; "
        f"503s without Retry-After: {shared.missing_retry_after}"
    )
    errors = _log_errors(log)
    print(f"node log: {log}; error lines: {sum(errors.values())}")
    for (logger, message), n in errors.most_common(10):
        print(f"  {n:>4} × {logger}: {message}")
    failures = []
    if acknowledged != stored:
        failures.append("acknowledged responses lost")
    if verdict["duplicates"]:
        failures.append("duplicates")
    if main_5xx or outage_5xx_not_503:
        failures.append(f"5xx outside the outage: {main_5xx + outage_5xx_not_503}")
    if not verdict["tallies_equal"]:
        failures.append("tallies differ from a rebuild")
    if recovery is None or readyz != 200:
        failures.append("no recovery after the PostgreSQL restart")
    if shared.missing_retry_after:
        failures.append("503 without Retry-After")
    if not any(status == 503 for p, _k, status, _l in shared.records if p == "outage"):
        failures.append("no 503 seen while PostgreSQL was down")
    print("targets: " + ("all met" if not failures else "MISSED: " + "; ".join(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""Agency dashboards at national scale: latency of dashboard pages, cache hits and misses apart.

    python benchmarks/dashboard_load.py [--responses 1000000] [--requests 200] [--workers 2]
                                        [--pages overview,trends] [--cache on|off] [--cache-seconds 60]
                                        [--redis-url redis://127.0.0.1:6379/14]

Seeds a scratch SQLite database (``--responses``), serves it with gunicorn, signs in as the demo
province administrator and requests each dashboard page (year period) of every agency in turn,
``--requests`` times per page, from one client, a fresh connection per request: the overview, the
monthly trend, the counter and field breakdowns, the answer distributions, the response rate and the
comments. The server says in a ``Server-Timing`` header (``SIPAS_SERVER_TIMING``) how each page met the
index report cache and which worker served it, so the benchmark reports, per page: the first request
of every worker (a fresh process), then p50/p95/max of the cache hits, of the stale reports (served
while a background thread recomputes them) and of the misses (the request computed its reports)
separately. ``--cache off`` switches the cache off (``SIPAS_INDEX_CACHE_SECONDS=0``): every request
computes, the cost of a miss. ``--redis-url`` shares the reports between the workers through Redis, as
on a production node (give it a Redis database of its own: its ``sipas:indices:*`` keys are deleted
afterwards). Traffic only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Client:
    """A browser-like client: one cookie jar, a fresh connection per request (gunicorn sync workers)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str, float, dict[str, str]]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8")
        elapsed = time.perf_counter() - started
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        timing = response.headers.get("Server-Timing", "")
        conn.close()
        return response.status, text, elapsed, dict(re.findall(r'(\w+);desc="([^"]*)"', timing))


#: Dashboard pages by name: the path after ``/agency/<code>/``.
PAGES = {
    "overview": "",
    "trends": "trends",
    "breakdowns": "breakdowns",
    "answers": "answers",
    "response-rate": "response-rate",
    "comments": "comments",
}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _summary(label: str, times: list[float]) -> str:
    if not times:
        return f"{label} none"
    return (
        f"{label} {len(times)}: p50 {_percentile(times, 0.5) * 1000:.0f} ms, "
        f"p95 {_percentile(times, 0.95) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pages", default=",".join(PAGES), help="comma-separated: " + ", ".join(PAGES))
    parser.add_argument("--cache", choices=("on", "off"), default="on", help="off: every request computes")
    parser.add_argument("--cache-seconds", type=int, default=60, help="how long a report is fresh (cache on)")
    parser.add_argument("--redis-url", default="", help="share the reports through this Redis")
    args = parser.parse_args()
    pages = [name.strip() for name in args.pages.split(",") if name.strip()]
    unknown = sorted(set(pages) - set(PAGES))
    if unknown:
        parser.error(f"unknown pages: {', '.join(unknown)}")
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "dash.db"
        port = _free_port()
        env = {
            **os.environ,
            "SIPAS_ENV": "development",
            "SIPAS_DATABASE_URL": f"sqlite:///{db_path}",
            "SIPAS_BASE_URL": f"http://127.0.0.1:{port}",
            "SIPAS_LOG_LEVEL": "WARNING",
            "SIPAS_SIGN_IN_RATE_LIMIT": "1000 per minute",
            "SIPAS_SERVER_TIMING": "1",
            "SIPAS_INDEX_CACHE_SECONDS": str(args.cache_seconds if args.cache == "on" else 0),
        }
        if args.redis_url:
            env["SIPAS_REDIS_URL"] = args.redis_url
        flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
        subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
        started = time.perf_counter()
        subprocess.run(
            [*flask, "seed-demo", "--responses", str(args.responses), "--end-month", "2026-10"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        print(f"seeded {args.responses:,} responses in {time.perf_counter() - started:.0f} s")
        email, password = next(
            line.split("\t")[:2]
            for line in (ROOT / "instance" / "demo-logins.txt").read_text().splitlines()
            if "\tprovince_admin\t" in line
        )
        with sqlite3.connect(db_path) as conn:
            agencies = [
                code
                for (code,) in conn.execute(
                    "SELECT DISTINCT a.code FROM agencies a JOIN counters c ON c.agency_id = a.id ORDER BY a.code"
                )
            ]
        server = subprocess.Popen(
            [GUNICORN, "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers), "--timeout", "120", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            client = Client(port)
            for _ in range(100):
                try:
                    if client.request("GET", "/healthz")[0] == 200:
                        break
                except OSError:
                    time.sleep(0.2)
            status, html, _, _ = client.request("GET", "/auth/sign-in")
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
            assert token, "no CSRF token on the sign-in page"
            status, _, _, _ = client.request(
                "POST", "/auth/sign-in", {"csrf_token": token.group(1), "email": email, "password": password}
            )
            assert status in (302, 303), f"sign-in failed with {status}"
            seen_workers: set[str] = set()
            # page → list of (seconds, cache status, worker, first request of that worker)
            timings: dict[str, list[tuple[float, str, str, bool]]] = {}
            for page in pages:
                timings[page] = []
                for i in range(args.requests):
                    code = agencies[i % len(agencies)]
                    path = f"/agency/{code}/{PAGES[page]}?period=year&year=2026"
                    status, _, elapsed, timing = client.request("GET", path)
                    assert status == 200, f"{path}: HTTP {status}"
                    worker = timing.get("worker", "?")
                    first = worker not in seen_workers
                    seen_workers.add(worker)
                    timings[page].append((elapsed, timing.get("indices", "none"), worker, first))
        finally:
            server.terminate()
            server.wait(timeout=30)
    if args.redis_url:
        import redis

        client_redis = redis.Redis.from_url(args.redis_url)
        keys = list(client_redis.scan_iter(match="sipas:indices:*"))
        if keys:
            client_redis.delete(*keys)
    cache = f"cache on ({args.cache_seconds} s fresh, stale-while-revalidate" if args.cache == "on" else "cache off"
    if args.cache == "on":
        cache += ", shared through Redis)" if args.redis_url else ", per process)"
    print(
        f"dashboard pages (year 2026, {len(agencies)} agencies in turn), {args.workers} gunicorn workers, {cache}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"
    )
    for page, rows in timings.items():
        firsts = [(t, status, worker) for t, status, worker, first in rows if first]
        rest = [(t, status) for t, status, _, first in rows if not first]
        print(
            f"  {page}: first request of each worker: "
            + ", ".join(f"worker {worker} {t:.2f} s ({status})" for t, status, worker in firsts)
            if firsts
            else f"  {page}: every worker had served an earlier page"
        )
        for kind in ("hit", "stale", "miss", "none"):
            times = [t for t, s in rest if s == kind]
            if times or kind in ("hit", "miss"):
                label = {"none": "no index report used", "stale": "stale (recomputed in the background)"}.get(
                    kind, f"cache {kind}" + ("es" if kind == "miss" else "s")
                )
                print(f"    {_summary(label, times)}")


if __name__ == "__main__":
    main()

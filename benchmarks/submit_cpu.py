"""CPU per citizen submission inside the app, without a server or a client: where the time goes.

    python benchmarks/submit_cpu.py [--requests 3500] [--profile]

Builds a scratch SQLite database (migrated, a seeded demo province), opens one counter's survey page
for its session cookie and CSRF token, then POSTs complete, valid forms with fresh submission ids
straight into the WSGI app (``app.wsgi_app``, no test client), every one a 303 to the thank-you page
and a stored response, with the rate limits and the burst check on as in production (raised so the
load does not trip them). Prints the CPU time per submission, best and median of seven batches (the
machine's speed drifts; the best batch is the least disturbed). ``--profile`` adds a cProfile of one
more run, by cumulative and own time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*>')
_ATTR = re.compile(r'(name|value)="([^"]*)"')


def _prepare(directory: Path) -> tuple[Any, str, str, str]:
    """The app, a survey path, its session cookie and the form body without a submission id."""
    env = {
        **os.environ,
        "SIPAS_ENV": "development",
        "SIPAS_DATABASE_URL": f"sqlite:///{directory / 'cpu.db'}",
        "SIPAS_BASE_URL": "http://127.0.0.1:8000",
        "SIPAS_SUBMIT_RATE_LIMIT": "1000000 per minute",
        "SIPAS_COUNTER_RATE_LIMIT": "1000000 per minute",
        "SIPAS_BURST_WINDOW_SECONDS": "1",
        "SIPAS_BURST_THRESHOLD": "1000",
        "SIPAS_LOG_LEVEL": "WARNING",
    }
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*flask, "seed-demo", "--responses", "1000"], cwd=ROOT, env=env, check=True, capture_output=True)
    listing = subprocess.run(
        [*flask, "list-counters", "--json"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    path = urllib.parse.urlsplit(json.loads(listing.stdout)[0]["url"]).path
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    from survey import create_app

    app = create_app()
    page = app.test_client().get(path)
    html = page.get_data(as_text=True)
    cookie = page.headers["Set-Cookie"].split(";", 1)[0]
    form = {}
    for tag in _HIDDEN.findall(html):
        attrs = dict(_ATTR.findall(tag))
        if "name" in attrs and attrs["name"] != "submission_id":
            form[attrs["name"]] = attrs.get("value", "")
    form.update({"respondent_type": "person", "adult": "y", "website": ""})
    form.update(dict.fromkeys(re.findall(r'name="(q_[^"]+)"', html), "4"))
    return app, path, cookie, urllib.parse.urlencode(form)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3500)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app, path, cookie, body = _prepare(Path(tmp))

        def submit() -> None:
            data = f"{body}&submission_id={uuid.uuid4()}".encode()
            environ = {
                "REQUEST_METHOD": "POST",
                "PATH_INFO": path,
                "SCRIPT_NAME": "",
                "QUERY_STRING": "",
                "SERVER_NAME": "127.0.0.1",
                "SERVER_PORT": "8000",
                "SERVER_PROTOCOL": "HTTP/1.1",
                "REMOTE_ADDR": "127.0.0.1",
                "HTTP_HOST": "127.0.0.1:8000",
                "HTTP_COOKIE": cookie,
                "CONTENT_TYPE": "application/x-www-form-urlencoded",
                "CONTENT_LENGTH": str(len(data)),
                "wsgi.input": io.BytesIO(data),
                "wsgi.url_scheme": "http",
                "wsgi.errors": sys.stderr,
                "wsgi.multithread": False,
                "wsgi.multiprocess": True,
                "wsgi.run_once": False,
                "wsgi.version": (1, 0),
            }
            status: list[str] = []
            result = app.wsgi_app(environ, lambda s, _h, _e=None: status.append(s))
            b"".join(result)
            if not status[0].startswith("303"):
                raise SystemExit(f"submission refused: {status[0]}")

        for _ in range(300):  # warm caches (rules, compiled SQL, token signatures)
            submit()
        batch = max(1, args.requests // 7)
        per_batch = []
        for _ in range(7):
            started = time.process_time()
            for _ in range(batch):
                submit()
            per_batch.append(1000 * (time.process_time() - started) / batch)
        per_batch.sort()
        print(
            f"{7 * batch:,} submissions in process (SQLite file, rate limits in memory, burst check on): "
            f"CPU per submission best {per_batch[0]:.2f} ms, median {per_batch[3]:.2f} ms"
        )
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(batch):
                submit()
            profile.disable()
            for order in ("cumulative", "tottime"):
                out = io.StringIO()
                pstats.Stats(profile, stream=out).sort_stats(order).print_stats(40)
                print(out.getvalue())


if __name__ == "__main__":
    main()

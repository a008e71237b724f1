"""App nodes for the multi-node test and the soak benchmark: gunicorn processes and a small browser.

Loopback only. ``Node`` starts ``gunicorn wsgi:app`` with a given environment and waits for /readyz;
``Browser`` keeps one keep-alive connection and its cookies, reads hidden form fields, and never
follows redirects (a 303 after a survey POST is the acknowledgement).
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))

_HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*>')
_ATTR = re.compile(r'(name|value)="([^"]*)"')


def hidden_fields(html: str) -> dict[str, str]:
    fields = {}
    for tag in _HIDDEN.findall(html):
        attrs = dict(_ATTR.findall(tag))
        if "name" in attrs:
            fields[attrs["name"]] = attrs.get("value", "")
    return fields


class Node:
    """One gunicorn master on 127.0.0.1:``port``."""

    def __init__(self, port: int, env: dict[str, str], workers: int = 2, extra: list[str] | None = None) -> None:
        self.port = port
        self.env = env
        self.args = [
            GUNICORN,
            # The production settings (JSON logs, no access log, the shared-limits check), as documented.
            "--config",
            "survey/gunicorn_conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--graceful-timeout",
            "10",
            "--timeout",
            "30",
            # Several masters on one machine must not share the default control socket in the home directory.
            "--no-control-socket",
            *(extra or []),
            "wsgi:app",
        ]
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    def start(self, log: Path | None = None, wait: float = 60) -> Node:
        self._log = log.open("ab") if log else None
        out = self._log or subprocess.DEVNULL
        # Fixed gunicorn command line built above; the environment is the caller's.
        self.proc = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=out, stderr=out)  # noqa: S603
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn on port {self.port} exited with {self.proc.returncode}")
            try:
                if self.get_status("/readyz") == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn on port {self.port} did not become ready")

    def get_status(self, path: str) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    def worker_pids(self) -> list[int]:
        """The master's children (its workers), read from /proc."""
        assert self.proc is not None
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                # Field 4 is the parent pid; the command name (field 2) may hold spaces, so split after ')'.
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    pids.append(int(entry.name))
        return sorted(pids)

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None


class Browser:
    """A cookie-keeping HTTP/1.1 client for one node (or several: cookies are per browser, not per host)."""

    def __init__(self, port: int, address: str | None = None, timeout: float = 30) -> None:
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.address = address  # sent as X-Forwarded-For: the test plays the reverse proxy
        self.conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
        headers = {"Connection": "keep-alive"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.address:
            headers["X-Forwarded-For"] = self.address
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = self._connection()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", errors="replace")
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if (response.getheader("Connection") or "").lower() == "close":
            self.close()
        return response.status, text, dict(response.headers)

    def form(self, path: str) -> dict[str, str]:
        status, html, _headers = self.request("GET", path)
        if status != 200:
            raise PageError(path, status)
        return hidden_fields(html)


class PageError(RuntimeError):
    """A form page answered something other than 200 (its status is kept for the caller's tally)."""

    def __init__(self, path: str, status: int) -> None:
        super().__init__(f"GET {path}: {status}")
        self.status = status


def base_env(database_url: str, secret_key: str, **extra: str) -> dict[str, str]:
    """The environment every node of one deployment shares."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIPAS_", "TEST_DATABASE"))}
    env.update(
        {
            "SIPAS_ENV": "development",
            "SIPAS_DATABASE_URL": database_url,
            "SECRET_KEY": secret_key,
            "SIPAS_BASE_URL": "http://127.0.0.1:8000",
            "SIPAS_LOG_LEVEL": "WARNING",
            "SIPAS_PROXY_HOPS": "1",
        }
    )
    env.update(extra)
    return env

"""TLS in front of app nodes, as deployed: a test CA, nginx built from docs/production.md, trust for Chromium.

For the production end-to-end test (``tests/multinode/test_tls_browser.py``). Loopback only.

- :func:`make_certificates` writes a throw-away CA and a ``localhost`` / ``127.0.0.1`` server certificate
  signed by it (``openssl``, Debian's package).
- :func:`trust_for_chromium` puts that CA into an NSS database under a given home directory (Debian's
  ``libnss3-tools``): Chromium launched with that ``HOME`` trusts it like any public CA, so service workers
  register and no certificate check is ever disabled.
- :func:`nginx_config` takes the nginx block of ``docs/production.md`` and changes only what a test host
  must change (addresses, port, certificate paths, log and temporary paths), so the documented proxy
  configuration is the one under test.
- :class:`Nginx` runs ``nginx -g 'daemon off;'`` with that configuration until :meth:`Nginx.stop`.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_DOC = ROOT / "docs" / "production.md"
HOSTNAME = "localhost"


@dataclass(frozen=True)
class Certificates:
    ca: Path
    cert: Path
    key: Path


def _openssl(*args: str, cwd: Path) -> None:
    # Fixed openssl arguments built here, never user input.
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)  # noqa: S603, S607


def make_certificates(directory: Path) -> Certificates:
    """A CA (two days) and a server certificate for ``localhost`` and ``127.0.0.1`` signed by it."""
    directory.mkdir(parents=True, exist_ok=True)
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=SIPAS test CA",
        "-keyout", "ca.key", "-out", "ca.pem",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=directory,
    )  # fmt: skip
    (directory / "server.ext").write_text(
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
        f"extendedKeyUsage=serverAuth\nsubjectAltName=DNS:{HOSTNAME},IP:127.0.0.1\n"
    )
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={HOSTNAME}",
        "-keyout", "server.key", "-out", "server.csr",
        cwd=directory,
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
        "-extfile", "server.ext", "-out", "server.pem",
        cwd=directory,
    )  # fmt: skip
    return Certificates(directory / "ca.pem", directory / "server.pem", directory / "server.key")


def trust_for_chromium(home: Path, ca: Path) -> None:
    """Trust ``ca`` for TLS servers in the NSS database Chromium reads on Linux (``$HOME/.pki/nssdb``)."""
    certutil = shutil.which("certutil")
    if certutil is None:
        raise FileNotFoundError("certutil not found (apt-get install libnss3-tools)")
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True, exist_ok=True)
    database = f"sql:{nssdb}"
    # Fixed certutil arguments; the paths are the caller's temporary directory.
    subprocess.run([certutil, "-N", "-d", database, "--empty-password"], check=True, capture_output=True)  # noqa: S603
    subprocess.run(  # noqa: S603
        [certutil, "-A", "-d", database, "-n", "SIPAS test CA", "-t", "C,,", "-i", str(ca)],
        check=True,
        capture_output=True,
    )


def documented_nginx_block(doc: Path = PRODUCTION_DOC) -> str:
    """The ```nginx block of the production guide (there is exactly one)."""
    blocks = re.findall(r"```nginx\n(.*?)```", doc.read_text(encoding="utf-8"), flags=re.S)
    if len(blocks) != 1:
        raise ValueError(f"{doc.name}: expected one nginx block, found {len(blocks)}")
    return blocks[0]


def nginx_config(port: int, upstreams: list[int], certs: Certificates, directory: Path) -> str:
    """The documented configuration with this host's addresses, port, certificate and paths."""
    documented = documented_nginx_block()
    block = documented
    upstream = "\n".join(f"    server 127.0.0.1:{p} max_fails=3 fail_timeout=10s;" for p in upstreams)
    block, found = re.subn(r"(upstream sipas \{\n)(?:\s*server [^\n]+\n)+", rf"\g<1>{upstream}\n", block)
    if not found:
        raise ValueError("the documented nginx block has no upstream sipas { server ... } list")
    replacements = [
        # The plain-http redirect server is not needed on a test host (port 80 may be taken).
        (re.compile(r"server \{\n    listen 80;.*?\n\}\n", re.S), ""),
        (re.compile(r"listen 443 ssl"), f"listen 127.0.0.1:{port} ssl"),
        (re.compile(r"server_name [^;]+;"), f"server_name {HOSTNAME};"),
        (re.compile(r"ssl_certificate\s+[^;]+;"), f"ssl_certificate {certs.cert};"),
        (re.compile(r"ssl_certificate_key\s+[^;]+;"), f"ssl_certificate_key {certs.key};"),
        (re.compile(r"access_log [^ ;]+"), f"access_log {directory / 'access.log'}"),
        # The log_format line is documented as belonging to the http {} block: it goes there below.
        (re.compile(r"#[^\n]*http \{\} block[^\n]*\nlog_format [^\n]+\n"), ""),
    ]
    for pattern, replacement in replacements:
        block, found = pattern.subn(replacement, block)
        if not found and replacement:
            raise ValueError(f"the documented nginx block no longer matches {pattern.pattern!r}")
    log_format = re.search(r"^log_format [^\n]+$", documented, flags=re.M)
    temp = {name: directory / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(parents=True, exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers may read the root-owned temporary files
    return (
        f"{user}worker_processes 1;\npid {directory / 'nginx.pid'};\nerror_log {directory / 'error.log'} warn;\n"
        "events { worker_connections 512; }\n"
        "http {\n"
        f"  client_body_temp_path {temp['body']};\n  proxy_temp_path {temp['proxy']};\n"
        f"  fastcgi_temp_path {temp['fastcgi']};\n  uwsgi_temp_path {temp['uwsgi']};\n"
        f"  scgi_temp_path {temp['scgi']};\n"
        f"  {log_format.group(0) if log_format else ''}\n"
        f"{block}\n}}\n"
    )


class Nginx:
    """nginx in the foreground with one configuration file; :meth:`stop` ends it."""

    def __init__(self, config: str, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "nginx.conf"
        self.path.write_text(config)
        self.proc: subprocess.Popen[bytes] | None = None
        self._stderr: Any = None

    def start(self, port: int, wait: float = 15) -> Nginx:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(binary).exists():
            raise FileNotFoundError("nginx not found (apt-get install nginx-light)")
        check = subprocess.run(  # noqa: S603
            [binary, "-t", "-c", str(self.path), "-p", str(self.directory)], capture_output=True, text=True
        )
        if check.returncode != 0:
            raise RuntimeError(f"nginx refuses the documented configuration: {check.stderr.strip()}")
        self._stderr = (self.directory / "stderr.log").open("ab")
        self.proc = subprocess.Popen(  # noqa: S603
            [binary, "-c", str(self.path), "-p", str(self.directory), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.proc.returncode}: {self.error_log()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("nginx did not start listening")

    def error_log(self) -> str:
        path = self.directory / "error.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

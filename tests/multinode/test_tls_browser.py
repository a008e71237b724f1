"""Production as deployed: Chromium → nginx (TLS) → two gunicorn nodes → PostgreSQL and Redis.

Runs only when ``SIPAS_MULTINODE=1`` (``make multinode``; .ci/run sets it) and then fails, never skips,
when nginx, certutil, Chromium, PostgreSQL or Redis is missing. Everything a citizen or a staff member
does goes over https through the nginx configuration of ``docs/production.md`` (only addresses, port,
certificate and paths changed, see ``scripts/tls_proxy.py``) to nodes in the production configuration
(``SIPAS_ENV=production``, ``SIPAS_PROXY_HOPS=1``, https base URL, Redis rate limits). The test CA is
trusted in Chromium's own certificate store, so nothing disables a certificate check, and service
workers (which Chromium refuses on an untrusted certificate) really run.

PostgreSQL is a private cluster (``scripts/pgcluster.py``): the last test stops it to see the 503 page.
Web exports go on the Redis queue, run by one ``flask --app wsgi export-worker`` beside the nodes (as in
``docs/production.md``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import redis
from sqlalchemy import select

from scripts.nodes import Node, base_env
from scripts.pgcluster import PrivateCluster, free_port
from scripts.tls_proxy import HOSTNAME, Nginx, make_certificates, nginx_config, trust_for_chromium
from survey import create_app
from survey.db import db, make_engine
from survey.migrate import upgrade
from survey.models import Counter
from survey.services.submissions.links import counter_survey_path
from tests.conftest import environ_for
from tests.e2e.conftest import THANKS, answer_everything, worker_ready

pytestmark = pytest.mark.skipif(
    os.environ.get("SIPAS_MULTINODE") != "1", reason="production end-to-end test: set SIPAS_MULTINODE=1"
)

REDIS_URL = os.environ.get("SIPAS_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
CHROMIUM = os.environ.get("SIPAS_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@dataclass
class Site:
    origin: str
    cluster: PrivateCluster
    database: str
    nodes: list[Node]
    survey_path: str
    agency_code: str
    email: str
    password: str
    home: Path
    seen: list[dict] = field(default_factory=list)
    export_queue: str = ""

    def count(self, submission_id: str) -> int:
        with psycopg.connect(self.cluster.url(self.database), connect_timeout=5) as conn:
            row = conn.execute("SELECT count(*) FROM responses WHERE submission_id = %s", (submission_id,)).fetchone()
            return int(row[0]) if row else 0


def _require(tool: str, package: str) -> None:
    if shutil.which(tool) is None and not Path(tool).exists():
        pytest.fail(f"{tool} is needed for the production end-to-end test (apt-get install {package})")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from survey.services.operations.demo import seed_demo

    _require("nginx", "nginx-light")
    _require("certutil", "libnss3-tools")
    _require(CHROMIUM, "chromium")
    store = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        store.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is unreachable for the production end-to-end test at {REDIS_URL}: {exc}")
    work = tmp_path_factory.mktemp("tls")
    certs = make_certificates(work / "certs")
    home = work / "chromium-home"
    trust_for_chromium(home, certs.ca)
    cluster = PrivateCluster().init()
    nodes: list[Node] = []
    proxy: Nginx | None = None
    exporter: subprocess.Popen[bytes] | None = None
    prefix = f"sipas-tls-{secrets.token_hex(4)}"
    try:
        url = cluster.create_database("sipas")
        engine = make_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        upgrade(engine)
        engine.dispose()
        app = create_app(environ=environ_for(url))
        secret = secrets.token_urlsafe(48)
        with app.app_context():
            report = seed_demo(
                db.session, 200, seed=7, append=False, end_month=dt.date(2026, 10, 1), timezone=app.config["TIMEZONE"]
            )
            login = next(login for login in report.logins if login.role == "system_admin")
            counter = db.session.scalars(select(Counter).where(Counter.active).order_by(Counter.id)).first()
            survey_path = counter_survey_path({**app.config, "SECRET_KEY": secret}, counter)
            agency_code = counter.agency.code
            db.session.remove()
        db.engine.dispose()  # type: ignore[union-attr]
        port = free_port()
        origin = f"https://{HOSTNAME}:{port}"
        env = base_env(
            url,
            secret,
            SIPAS_ENV="production",
            SIPAS_BASE_URL=origin,
            SIPAS_REDIS_URL=REDIS_URL,
            SIPAS_RATELIMIT_KEY_PREFIX=prefix,
            SIPAS_PROXY_HOPS="1",
            SIPAS_EXPORT_DIR=str(work / "exports"),  # shared storage, as on a deployment with two nodes
            SIPAS_EXPORT_QUEUE=f"{prefix}-exports",
            SIPAS_LOG_LEVEL="INFO",
        )
        with (work / "export-worker.log").open("ab") as log:  # the worker keeps its own copy of the file
            # The documented worker command; the environment is the nodes' own.
            exporter = subprocess.Popen(  # noqa: S603
                [str(Path(sys.executable).with_name("flask")), "--app", "wsgi", "export-worker"],
                cwd=Path(__file__).resolve().parents[2],
                env=env,
                stdout=log,
                stderr=log,
            )
        for index in range(2):
            nodes.append(Node(free_port(), env).start(log=work / f"node-{index}.log"))
        proxy = Nginx(nginx_config(port, [n.port for n in nodes], certs, work), work).start(port)
        yield Site(
            origin,
            cluster,
            "sipas",
            nodes,
            survey_path,
            agency_code,
            login.email,
            login.password,
            home,
            export_queue=f"{prefix}-exports",
        )
    finally:
        if proxy is not None:
            proxy.stop()
        for node in nodes:
            node.stop()
        if exporter is not None:
            exporter.send_signal(signal.SIGTERM)  # RQ's warm shut-down
            try:
                exporter.wait(timeout=30)
            except subprocess.TimeoutExpired:
                exporter.kill()
                exporter.wait(timeout=10)
        for key in store.scan_iter(match=f"*{prefix}*"):
            store.delete(key)
        for members in ("rq:queues", "rq:workers"):
            for member in store.smembers(members):
                if prefix in (member.decode() if isinstance(member, bytes) else member):
                    store.srem(members, member)
        store.close()
        cluster.destroy()


@pytest.fixture(scope="module")
def chromium(site: Site) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            # Chromium reads trusted CAs from $HOME/.pki/nssdb: the test CA is there, nothing else changes.
            env={**os.environ, "HOME": str(site.home)},
        )
        yield browser
        browser.close()


def _context(chromium, site: Site, **options):  # type: ignore[no-untyped-def]
    """A fresh browser profile that records the headers of every page the site answers."""
    context = chromium.new_context(viewport={"width": 360, "height": 740}, **options)

    def record(response) -> None:  # type: ignore[no-untyped-def]
        if response.url.startswith(site.origin) and response.request.resource_type == "document":
            site.seen.append({"url": response.url, "status": response.status, **response.headers})

    context.on("response", record)
    return context


def _assert_secure_cookies(context) -> None:  # type: ignore[no-untyped-def]
    cookies = context.cookies()
    assert cookies, "the site set no cookie"
    for cookie in cookies:
        assert cookie["secure"], f"cookie {cookie['name']} is not Secure"


def test_the_certificate_is_trusted_not_ignored(chromium, site: Site) -> None:  # type: ignore[no-untyped-def]
    context = _context(chromium, site)
    page = context.new_page()
    response = page.goto(site.origin + "/healthz")
    assert response is not None and response.ok
    assert page.evaluate("window.isSecureContext")
    security = response.security_details()
    assert security is not None and security["subjectName"] == HOSTNAME
    context.close()


def test_a_citizen_submits_with_javascript(chromium, site: Site) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    context = _context(chromium, site, is_mobile=True, device_scale_factor=2)
    page = context.new_page()
    page.goto(site.origin + site.survey_path)
    answer_everything(page)
    submission_id = page.locator("#submission_id").input_value()
    page.locator("button[type=submit]").click()
    expect(page).to_have_url(THANKS)
    page.screenshot(path=str(ARTIFACTS / "tls-survey-thanks.png"))
    assert site.count(submission_id) == 1
    _assert_secure_cookies(context)
    context.close()


def test_a_citizen_submits_without_javascript(chromium, site: Site) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    context = _context(chromium, site, java_script_enabled=False)
    page = context.new_page()
    page.goto(site.origin + site.survey_path)
    answer_everything(page, label_index=3)
    submission_id = page.locator("#submission_id").input_value()
    page.locator("button[type=submit]").click()
    expect(page).to_have_url(THANKS)
    assert site.count(submission_id) == 1
    context.close()


def test_an_offline_submission_is_sent_once_through_the_service_worker(chromium, site: Site) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    context = _context(chromium, site, is_mobile=True)
    page = context.new_page()
    page.goto(site.origin + site.survey_path)
    # Chromium registers the worker only on a trusted certificate: this is what the CA in NSS buys.
    worker_ready(page)
    answer_everything(page, label_index=5)
    submission_id = page.locator("#submission_id").input_value()
    context.set_offline(True)
    page.locator("button[type=submit]").click()
    expect(page.locator("#status")).to_contain_text("đã được lưu trên điện thoại này")
    assert site.count(submission_id) == 0
    page.screenshot(path=str(ARTIFACTS / "tls-offline-queued.png"))
    context.set_offline(False)
    expect(page).to_have_url(THANKS, timeout=20_000)
    page.wait_for_timeout(500)  # a second delivery, if the queue sent one, would have arrived by now
    assert site.count(submission_id) == 1
    context.close()


def test_staff_sign_in_dashboard_export_and_sign_out(chromium, site: Site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    context = _context(chromium, site)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(site.origin + "/auth/sign-in")
    page.locator("#email").fill(site.email)
    page.locator("#password").fill(site.password)
    page.locator("button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/auth/sign-in"))
    assert page.locator(".error-summary").count() == 0

    response = page.goto(f"{site.origin}/agency/{site.agency_code}/")
    assert response is not None and response.status == 200
    assert page.locator("h1").count() == 1
    page.screenshot(path=str(ARTIFACTS / "tls-dashboard.png"), full_page=True)

    page.goto(site.origin + "/downloads/exports")
    page.locator("form.export-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/downloads/exports/"))
    download_link = page.locator("a", has_text=re.compile(r"\.zip"))
    expect(download_link).to_be_visible(timeout=60_000)
    with page.expect_download() as info:
        download_link.click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    with zipfile.ZipFile(saved) as bundle:
        names = bundle.namelist()
    assert any(n.endswith(".csv") for n in names), names
    with redis.Redis.from_url(REDIS_URL) as store:  # written by the export worker, not by a web node
        assert store.zcard(f"rq:finished:{site.export_queue}") == 1
    _assert_secure_cookies(context)

    saved_cookies = context.cookies()
    page.goto(site.origin + "/agency/")
    page.locator("form[action$='/auth/sign-out'] button").first.click()
    expect(page).to_have_url(re.compile(r"/auth/sign-in"))
    # The cookie saved before signing out opens nothing any more (on either node).
    replay = _context(chromium, site)
    replay.add_cookies(saved_cookies)
    again = replay.new_page()
    for _ in range(2):
        again.goto(site.origin + "/agency/")
        expect(again).to_have_url(re.compile(r"/auth/sign-in"))
    replay.close()
    context.close()


def test_every_page_carried_hsts_and_the_csp(site: Site) -> None:
    pages = [seen for seen in site.seen if "/healthz" not in seen["url"]]
    assert len(pages) >= 10, pages
    for seen in pages:
        assert seen.get("strict-transport-security", "").startswith("max-age="), seen["url"]
        assert "default-src 'self'" in seen.get("content-security-policy", ""), seen["url"]
        assert seen.get("referrer-policy") == "same-origin", seen["url"]


def test_the_outage_page_while_postgresql_is_stopped(chromium, site: Site) -> None:  # type: ignore[no-untyped-def]
    site.cluster.stop()
    try:
        context = _context(chromium, site)
        page = context.new_page()
        response = page.goto(site.origin + site.survey_path)
        assert response is not None and response.status == 503
        assert response.headers.get("retry-after")
        assert response.headers.get("strict-transport-security", "").startswith("max-age=")
        assert "default-src 'self'" in response.headers.get("content-security-policy", "")
        assert page.locator("h1").count() == 1
        page.screenshot(path=str(ARTIFACTS / "tls-outage.png"))
        context.close()
    finally:
        site.cluster.start()
    for node in site.nodes:
        deadline = time.monotonic() + 30
        while node.get_status("/readyz") != 200:
            assert time.monotonic() < deadline, "a node did not recover after PostgreSQL came back"
            time.sleep(0.2)

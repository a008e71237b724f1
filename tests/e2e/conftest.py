"""Browser tests: headless Debian Chromium driven by Playwright against a real gunicorn server.

They run in the SQLite pass of ``make test`` only (the server has its own SQLite file either way).
Without Chromium they skip, except under ``CI=true``, where a missing browser fails the run.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.live_server import ROOT, LiveServer, live_server

CHROMIUM = os.environ.get("SIPAS_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
IN_CI = os.environ.get("CI", "").lower() == "true"


def _unavailable() -> str | None:
    if os.environ.get("TEST_DATABASE_URL"):
        return "browser tests run in the SQLite pass only"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -r requirements-dev.txt)"
    if not AXE.exists():
        return "axe-core is not installed (npm ci)"
    return None


@pytest.fixture(scope="session", autouse=True)
def _browser_available() -> None:
    reason = _unavailable()
    if reason is None:
        return
    if IN_CI and not os.environ.get("TEST_DATABASE_URL"):
        pytest.fail(f"CI=true, so browser tests must run, but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("e2e")) as live:
        yield live


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def phone(browser, server: LiveServer) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A 360×740 phone with JavaScript; fails the test if the page asks any other host for anything."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True)
    foreign: list[str] = []
    context.on("request", lambda r: None if r.url.startswith(server.base_url) else foreign.append(r.url))
    yield context
    context.close()
    assert foreign == [], f"requests to other hosts: {foreign}"


# A 303 keeps the fragment of the page it answers (e.g. #q_q02-0 after following an error link).
THANKS = re.compile(r"/s/[^/]+/thanks(#[\w-]*)?$")


def answer_everything(page, label_index: int = 4) -> None:  # type: ignore[no-untyped-def]
    """Tap one option of every rating item (the 4th, "satisfied"), say who answers (nothing is chosen in
    advance) and confirm 18+."""
    groups = page.locator("fieldset.scale")
    for i in range(groups.count()):
        groups.nth(i).locator("label.o").nth(label_index - 1).click()
    page.locator("#respondent_type-0").check()
    page.locator("#adult").check()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def worker_ready(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until the survey's service worker controls the page (it claims the page it was installed from)."""
    page.wait_for_function("() => !!(navigator.serviceWorker && navigator.serviceWorker.controller)", timeout=15_000)


#: The service worker's offline queue, read from the page (same origin, same IndexedDB database).
WORKER_QUEUE_JS = """() => new Promise((ok, fail) => {
  const req = indexedDB.open('sipas', 1);
  req.onerror = () => fail(req.error);
  req.onsuccess = () => {
    const get = req.result.transaction('queue').objectStore('queue').getAll();
    get.onsuccess = () => { req.result.close(); ok(get.result); };
  };
})"""

#: Put entries back into the service worker's queue and ask it to send them (a replay).
WORKER_REPLAY_JS = """entries => new Promise((ok, fail) => {
  const req = indexedDB.open('sipas', 1);
  req.onerror = () => fail(req.error);
  req.onsuccess = () => {
    const tx = req.result.transaction('queue', 'readwrite');
    entries.forEach(e => tx.objectStore('queue').put(e));
    tx.oncomplete = () => {
      req.result.close();
      navigator.serviceWorker.controller.postMessage({type: 'flush'});
      navigator.serviceWorker.controller.postMessage({type: 'flush'});
      ok(true);
    };
  };
})"""

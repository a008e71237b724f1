"""Weight and speed of the citizen's survey page (22-item instrument) in headless Chromium.

Starts gunicorn on a seeded SQLite demo (localhost only), opens a survey link on a 360×740 phone and
prints the bytes of HTML, CSS and JS including the service worker (uncompressed, and what gzip would
make of them), every host contacted, and timings on WebPageTest's documented connectivity profiles
("3G Slow": 400 ms RTT, 400/400 kbit/s; "3G": 300 ms RTT, 1.6 Mbit/s down, 768 kbit/s up), applied with
the DevTools protocol's ``Network.emulateNetworkConditions`` (latency per request, shared bandwidth).

Timings come from the browser itself, after navigation start: first contentful paint, and "usable":
the first frame in which the first rating button is laid out inside the viewport, enabled, with the
stylesheet applied (the form works from then on without JavaScript). Each profile is measured twice:
as gunicorn serves the page (no compression) and through a local gzip proxy standing in for nginx's
``gzip on`` (text/html, text/css and JavaScript). Only first visits are timed: the emulation applies
to the page, not to the service worker that serves repeat visits from its cache.

    .venv/bin/python benchmarks/survey_page_weight.py [--runs 3]
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import statistics
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.live_server import live_server  # noqa: E402

BUDGET_BYTES = 40 * 1024
TARGET_MS = 1000
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 360, "height": 740}
#: (name, RTT ms, down kbit/s, up kbit/s): WebPageTest's connectivity profiles (connectivity.ini.sample).
PROFILES = [("WebPageTest 3G Slow", 400, 400, 400), ("WebPageTest 3G", 300, 1600, 768)]
COMPRESSIBLE = ("text/html", "text/css", "text/javascript", "application/javascript")
#: Records when the first rating button is first usable, checked once per rendered frame.
USABLE_JS = """(() => {
  const tick = () => {
    const radio = document.querySelector('fieldset.scale input[type=radio]');
    const sheet = document.styleSheets.length > 0;  // the page's own styles (inlined) are applied
    if (radio && sheet && !radio.disabled) {
      const box = radio.getBoundingClientRect();
      if (box.width > 0 && box.top >= 0 && box.bottom <= innerHeight) { window.__usable = performance.now(); return; }
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();"""
TIMING_JS = """() => {
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  return {fcp: fcp ? fcp.startTime : null, usable: window.__usable ?? null,
          load: performance.getEntriesByType('navigation')[0].loadEventEnd};
}"""


@contextmanager
def gzip_proxy(upstream: str) -> Iterator[str]:
    """A localhost reverse proxy that gzips text responses, like nginx with ``gzip on``."""
    target = urlsplit(upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # quiet
            pass

        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=30)
            skip = {"host", "accept-encoding", "connection"}
            headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
            conn.request(self.command, self.path, body, headers)
            res = conn.getresponse()
            data = res.read()
            conn.close()
            compress = "gzip" in self.headers.get("Accept-Encoding", "") and res.getheader(
                "Content-Type", ""
            ).startswith(COMPRESSIBLE)
            if compress:
                data = gzip.compress(data, compresslevel=6)
            self.send_response(res.status)
            for key, value in res.getheaders():
                if key.lower() not in ("content-length", "connection", "transfer-encoding", "content-encoding"):
                    self.send_header(key, value)
            if compress:
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Vary", "Accept-Encoding")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the browser context closed while a background (service worker) fetch was under way

        do_GET = do_POST = _forward  # noqa: N815  (http.server's naming)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def measure(browser, url: str, profile: tuple[str, int, int, int]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """One throttled first visit in a fresh phone context (empty cache, no service worker yet)."""
    _name, rtt, down, up = profile
    context = browser.new_context(viewport=VIEWPORT, is_mobile=True)
    context.add_init_script(USABLE_JS)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": rtt, "downloadThroughput": down * 125, "uploadThroughput": up * 125},
    )
    page.goto(url, wait_until="load")
    page.wait_for_function("() => window.__usable !== undefined && performance.getEntriesByType('paint').length > 0")
    result = page.evaluate(TIMING_JS)
    context.close()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="Throttled page loads per case (median reported).")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with (
        tempfile.TemporaryDirectory() as tmp,
        live_server(Path(tmp)) as server,
        gzip_proxy(server.base_url) as proxy,
        sync_playwright() as pw,
    ):
        url = server.survey_url()
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport=VIEWPORT, is_mobile=True)
        sizes: dict[str, int] = {}
        hosts: set[str] = set()

        def on_response(response) -> None:  # type: ignore[no-untyped-def]
            # Each resource once by path (the service worker fetches the page, CSS and script again to cache them).
            path = urlsplit(response.url).path
            kinds = {"/sw.js": "sw", urlsplit(url).path: "html"}
            kind = kinds.get(path) or ("css" if path.endswith(".css") else "js" if path.endswith(".js") else "")
            if kind and path not in seen and response.status == 200:
                seen.add(path)
                body = response.body()
                sizes[kind] = sizes.get(kind, 0) + len(body)
                gz[kind] = gz.get(kind, 0) + len(gzip.compress(body, compresslevel=6))

        seen: set[str] = set()
        gz: dict[str, int] = {}
        context.on("response", on_response)
        context.on("request", lambda r: hosts.add(urlsplit(r.url).netloc))
        page = context.new_page()
        page.goto(url, wait_until="load")
        page.wait_for_function("() => !!(navigator.serviceWorker && navigator.serviceWorker.controller)")
        page.wait_for_timeout(500)
        items = page.locator("fieldset.scale").count()
        context.close()

        total, total_gz = sum(sizes.values()), sum(gz.values())
        html, css, js, sw = (sizes.get(k, 0) for k in ("html", "css", "js", "sw"))
        print(f"Survey page, {items}-item instrument, 360×740 phone, Chromium {browser.version}")
        print(f"  HTML {html:,} B + CSS {css:,} B + JS {js:,} B + service worker {sw:,} B")
        verdict = "ok" if total <= BUDGET_BYTES else "OVER"
        print(f"  total {total:,} B uncompressed ({total / 1024:.1f} KiB; budget 40 KiB: {verdict})")
        print(f"  with gzip (level 6, as nginx would send it): {total_gz:,} B")
        print(f"  hosts contacted: {', '.join(sorted(hosts))}")

        cases = [("no compression", url), ("gzip", proxy + urlsplit(url).path)]
        for profile in PROFILES:
            for label, address in cases:
                runs = [measure(browser, address, profile) for _ in range(args.runs)]
                fcp = statistics.median(r["fcp"] for r in runs)
                usable = statistics.median(r["usable"] for r in runs)
                load = statistics.median(r["load"] for r in runs)
                verdict = "ok" if usable < TARGET_MS else "over 1 s"
                print(
                    f"  {profile[0]}, {label}: FCP {fcp:.0f} ms, usable {usable:.0f} ms ({verdict}), "
                    f"load {load:.0f} ms (median of {args.runs})"
                )
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

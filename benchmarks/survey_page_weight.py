"""Weight and speed of the citizen's survey page (22-item instrument) in headless Chromium.

Starts gunicorn on a seeded SQLite demo (localhost only), opens a survey link on a 360×740 phone,
and prints: bytes of HTML, CSS and JS (uncompressed), every host contacted, and timings on
throttled networks (Chrome DevTools' "Slow 3G" preset and a milder 3G profile) measured by the
browser's own Navigation and Paint Timing. "Usable" = first contentful paint with the stylesheet
applied and the DOM parsed (the form works from then on without JavaScript).

    .venv/bin/python benchmarks/survey_page_weight.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.live_server import live_server  # noqa: E402

BUDGET_BYTES = 40 * 1024
CHROMIUM = "/usr/bin/chromium"
#: (name, latency ms, download bytes/s, upload bytes/s): DevTools' presets (front_end/core/sdk/NetworkManager.ts).
PROFILES = [
    ("DevTools Slow 3G (2,000 ms RTT, 400 kbit/s)", 2000, 500_000 / 8 * 0.8, 500_000 / 8 * 0.8),
    ("DevTools Fast 3G (563 ms RTT, 1.44 Mbit/s)", 562.5, 1_600_000 / 8 * 0.9, 750_000 / 8 * 0.9),
    ("Regular 3G (300 ms RTT, 750 kbit/s)", 300, 750_000 / 8, 250_000 / 8),
]
TIMING_JS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  return {ttfb: nav.responseStart, dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
          fcp: fcp ? fcp.startTime : null};
}"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="Throttled page loads per profile (median reported).")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, live_server(Path(tmp)) as server, sync_playwright() as pw:
        url = server.survey_url()
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
        page = context.new_page()
        sizes: dict[str, int] = {}
        hosts: set[str] = set()

        def on_response(response) -> None:  # type: ignore[no-untyped-def]
            hosts.add(urlsplit(response.url).netloc)
            kind = response.request.resource_type
            if kind in ("document", "stylesheet", "script"):
                sizes[kind] = sizes.get(kind, 0) + len(response.body())

        page.on("response", on_response)
        page.goto(url, wait_until="load")
        page.remove_listener("response", on_response)
        items = page.locator("fieldset.scale").count()
        total = sum(sizes.values())
        print(f"Survey page, {items}-item instrument, 360×740 phone, Chromium {browser.version}")
        html, css, js = (sizes.get(k, 0) for k in ("document", "stylesheet", "script"))
        verdict = "ok" if total <= BUDGET_BYTES else "OVER"
        print(f"  HTML {html:,} B + CSS {css:,} B + JS {js:,} B")
        print(f"  total {total:,} B uncompressed ({total / 1024:.1f} KiB; budget 40 KiB: {verdict})")
        print(f"  hosts contacted: {', '.join(sorted(hosts))}")

        for name, latency, down, up in PROFILES:
            results = []
            for _ in range(args.runs):
                ctx = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
                tab = ctx.new_page()
                cdp = ctx.new_cdp_session(tab)
                cdp.send("Network.enable")
                cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
                cdp.send(
                    "Network.emulateNetworkConditions",
                    {"offline": False, "latency": latency, "downloadThroughput": down, "uploadThroughput": up},
                )
                tab.goto(url, wait_until="load")
                tab.wait_for_function("performance.getEntriesByName('first-contentful-paint').length > 0")
                results.append(tab.evaluate(TIMING_JS))
                ctx.close()
            med = {k: statistics.median(r[k] for r in results) for k in ("ttfb", "fcp", "dcl", "load")}
            print(
                f"  {name}: usable (FCP) {med['fcp']:.0f} ms, DOM ready {med['dcl']:.0f} ms, "
                f"load {med['load']:.0f} ms after navigation start (median of {args.runs})"
            )
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

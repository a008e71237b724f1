"""The dashboard home at a glance, the province chart on a phone and the PAR report on paper (issue 17).

Same server and users as ``test_staff_browser`` (a year of seeded responses, a province administrator);
screenshots go to ``test-artifacts/glance-<page>-<width>.png``, the PAR report's PDF to
``test-artifacts/par-report.pdf``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.live_server import LiveServer, live_server
from tests.e2e.test_staff_browser import PROVINCE, WIDTHS, _add_users, problems
from tests.e2e.test_staff_browser import contexts as contexts  # noqa: F401  # the shared fixture

AGENCY = "hoa-lu"


@pytest.fixture(scope="module")
def staff_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("e2e-glance"), responses=6000) as live:
        _add_users(live.database)
        yield live


@pytest.mark.parametrize("width", WIDTHS)
def test_the_home_answers_at_a_glance(contexts, staff_server: LiveServer, width: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """Opened without a period: the verdict first, three tiles, the lists; the methods folded away."""
    page = contexts("province_admin", width).new_page()
    found = []
    for name, path in {"home": f"/agency/{AGENCY}/", "province-home": f"/agency/{PROVINCE}/"}.items():
        response = page.goto(staff_server.base_url + path)
        assert response is not None and response.status == 200
        expect(page.locator(".verdict-line")).to_be_visible()
        expect(page.locator(".period-why").first).to_contain_text("Mặc định mở")
        assert page.locator("li.tile").count() == 3
        method = page.locator("details.method-box")
        assert method.get_attribute("open") is None
        expect(method.locator("dl.method").first).to_be_hidden()
        # The verdict stands above the tiles and the methods below them, on a phone too.
        verdict_box, tile_box = (
            page.locator(".verdict-line").bounding_box(),
            page.locator("li.tile").first.bounding_box(),
        )
        assert verdict_box is not None and tile_box is not None
        verdict_y = verdict_box["y"]
        assert verdict_y < tile_box["y"]
        if width == "phone":
            assert verdict_y < 740 * 1.5, "the verdict should be near the first screen"
        found += problems(page, f"glance-{name}", width)
        method.locator("summary").click()
        expect(method.locator("dl.glossary")).to_be_visible()
    page.close()
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("width", WIDTHS)
def test_staff_menu_takes_at_most_two_rows(contexts, staff_server: LiveServer, width: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    page = contexts("province_admin", width).new_page()
    page.goto(f"{staff_server.base_url}/agency/{AGENCY}/")
    header = page.locator("header.top").bounding_box()
    link = page.locator("nav.staff a").first.bounding_box()
    assert header is not None and link is not None
    assert header["height"] <= 2.2 * link["height"] + 16, header
    page.close()


def test_province_chart_on_a_phone(contexts, staff_server: LiveServer) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """At 360 px the stacked chart is shown: each name above its dot and interval, within the screen."""
    page = contexts("province_admin", "phone").new_page()
    page.goto(f"{staff_server.base_url}/agency/{PROVINCE}/province")
    narrow = page.locator(".chart-narrow svg")
    expect(narrow).to_be_visible()
    expect(page.locator(".chart-wide")).to_be_hidden()
    box = narrow.bounding_box()
    assert box is not None and box["width"] <= 360
    assert narrow.locator("circle").count() > 0 and narrow.locator("line").count() > 0
    page.locator("figure.chart").screenshot(path=str(ARTIFACTS / "glance-province-chart-phone.png"))
    found = problems(page, "glance-province", "phone")
    page.close()
    assert found == [], "\n".join(found)


def test_par_report_prints_every_column_on_a4_landscape(contexts, staff_server: LiveServer) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    page = contexts("province_admin", "desktop").new_page()
    page.goto(f"{staff_server.base_url}/downloads/par/{PROVINCE}?year=2026")
    table = page.locator("table.data.par")
    expect(table).to_be_visible()
    # On screen the table fits its 72rem area (no sideways scrolling inside its region).
    fits = page.evaluate(
        "() => { const t = document.querySelector('table.data.par');"
        " return t.scrollWidth <= t.parentElement.clientWidth; }"
    )
    assert fits
    text = page.locator("main").inner_text()
    for leak in ("illustrative", "“overall”", "“access”", "civil_servants", "p = <"):
        assert leak not in text, leak
    found = problems(page, "glance-par", "desktop")
    page.emulate_media(media="print")
    width_mm = (297 - 2 * 10) * 96 / 25.4  # A4 landscape less the print stylesheet's margins, in CSS px
    page.set_viewport_size({"width": int(width_mm), "height": 700})
    right = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('table.data.par tr > *')]"
        ".map(c => c.getBoundingClientRect().right))"
    )
    assert right <= width_mm + 1, f"the table reaches {right:.0f} px of {width_mm:.0f}"
    pdf = ARTIFACTS / "par-report.pdf"
    page.pdf(path=str(pdf), format="A4", landscape=True, prefer_css_page_size=True)
    assert pdf.stat().st_size > 10_000
    try:
        words = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        words = None
    if words is not None and words.returncode == 0:
        assert "Tổng" in words.stdout and "Khác biệt" in words.stdout
    page.close()
    assert found == [], "\n".join(found)

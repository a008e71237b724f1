"""Print-ready A4 posters with each counter's QR code, one counter or a whole agency at once.

Pure functions of the counters and the config: the CLI (``make-posters``) calls them today, and the
staff pages will serve the same bytes once staff sign-in exists. Nothing here is exposed to citizens.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup

from survey.models import Agency, Counter
from survey.qr import qr_png, qr_svg, qr_svg_document
from survey.services.administration import directory
from survey.services.submissions.links import counter_survey_url

STYLESHEET = "css/poster.css"
_UNSAFE = re.compile(r"[^a-z0-9_-]+")


class PosterError(ValueError):
    """Posters cannot be made (e.g. the agency has no active counter)."""


@dataclass(frozen=True)
class Poster:
    agency_vi: str
    agency_en: str | None
    counter_vi: str
    counter_en: str | None
    url: str
    qr: Markup


def _texts(locale: str) -> dict[str, str]:
    """The poster wording in one language, from the catalogue (English msgids, Vietnamese translations)."""
    with force_locale(locale):
        return {
            "title": _("How satisfied were you?"),
            "scan": _("Scan the QR code with your phone camera."),
            "answer": _("Answer a few questions: it takes under a minute."),
            "anonymous": _("No account and no personal data are needed; your answers are anonymous."),
            "type": _("No camera? Type this address:"),
        }


def poster(config: Mapping[str, Any], counter: Counter) -> Poster:
    url = counter_survey_url(config, counter)
    return Poster(
        agency_vi=counter.agency.name_vi,
        agency_en=counter.agency.name_en,
        counter_vi=counter.name_vi,
        counter_en=counter.name_en,
        url=url,
        qr=Markup(qr_svg(url)),  # noqa: S704  (qrcode's own SVG output, no user text)
    )


def render_posters(config: Mapping[str, Any], counters: Sequence[Counter], stylesheet_href: str) -> str:
    """One HTML document with one A4 page per counter (print it, or save it as PDF from a browser)."""
    return render_template(
        "posters/posters.html",
        posters=[poster(config, c) for c in counters],
        vi=_texts("vi"),
        en=_texts("en"),
        stylesheet_href=stylesheet_href,
    )


def _safe_name(code: str) -> str:
    return _UNSAFE.sub("-", code.lower()).strip("-") or "counter"


def agency_counters(agency_code: str) -> tuple[Agency, list[Counter]]:
    agencies = directory.agencies_with_counters(agency_code)
    counters = [c for a in agencies for c in a.counters if c.active]
    if not agencies or not counters:
        raise PosterError(f"no active counters for agency {agency_code!r}")
    return agencies[0], counters


def agency_poster_zip(config: Mapping[str, Any], agency_code: str, stylesheet: str) -> bytes:
    """A ZIP of an agency's posters: ``posters.html`` (all, one page each), one HTML page, SVG and PNG per counter.

    ``stylesheet`` is the poster CSS, shipped in the archive as ``poster.css`` so the pages print offline.
    """
    _agency, counters = agency_counters(agency_code)
    stamp = dt.datetime.now().timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def add(name: str, data: bytes | str) -> None:
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), data, compress_type=zipfile.ZIP_DEFLATED)

        add("poster.css", stylesheet)
        add("posters.html", render_posters(config, counters, "poster.css"))
        for counter in counters:
            name = _safe_name(counter.code)
            url = counter_survey_url(config, counter)
            add(f"{name}.html", render_posters(config, [counter], "poster.css"))
            add(f"{name}.svg", qr_svg_document(url))
            add(f"{name}.png", qr_png(url))
    return buffer.getvalue()

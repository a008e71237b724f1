"""The PAR sociological-survey report: SIPAS indices turned into PAR points per agency, ranked, as Excel.

A scheme (``survey/par_schemes/*.toml``; the shipped one is marked as an example) lists criteria fed by
an index through a conversion. The report computes the indices with the index service (same weights and
design), scores and ranks agencies with ``analytics.par_points``, compares each with the whole scope
(the province) and lays the table out with the pure ``analytics.tables.par_table``.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from analytics import EstimationError, ParScheme, par_points
from analytics.tables import par_table
from survey.models import Agency, Instrument
from survey.services.indices import TOTAL, IndexQuery, IndexReport, compute_indices

SCHEMES_DIR = Path(__file__).resolve().parent.parent / "par_schemes"


class ParReportError(Exception):
    """A scheme or report that cannot be made; the message says why."""


@dataclass(frozen=True)
class SchemeFile:
    scheme: ParScheme
    example: bool
    title_vi: str
    title_en: str
    source: str
    #: criterion code → (Vietnamese, English) name
    names: dict[str, tuple[str, str]]


@dataclass(frozen=True)
class ParReport:
    scheme: SchemeFile
    indices: IndexReport
    headers: list[str]
    rows: list[tuple[Any, ...]]
    #: Agency ids scored, and codes of agencies with responses but without every index the scheme needs.
    scored: tuple[int, ...]
    unscored: tuple[str, ...]
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


def load_scheme(path: Path) -> SchemeFile:
    """Read and check a scheme file; a malformed one fails with the file name and the reason."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        scheme = ParScheme.from_dict(data)
    except (OSError, tomllib.TOMLDecodeError, KeyError, ValueError, TypeError, EstimationError) as exc:
        raise ParReportError(f"{path.name}: {exc}") from None
    names = {
        str(c["code"]): (str(c.get("name_vi", c["code"])), str(c.get("name_en", c["code"]))) for c in data["criteria"]
    }
    return SchemeFile(
        scheme=scheme,
        example=bool(data.get("example", False)),
        title_vi=str(data.get("title_vi", "")),
        title_en=str(data.get("title_en", "")),
        source=str(data.get("source", "")),
        names=names,
    )


def build_par_report(
    session: Session,
    scheme: SchemeFile,
    instrument_id: int,
    date_from: dt.date,
    date_to: dt.date,
    agency_ids: Sequence[int],
    *,
    level: float = 0.95,
) -> ParReport:
    """Score every agency in scope that has responses; the whole scope is the comparison ("province")."""
    try:
        report = compute_indices(
            session,
            IndexQuery(instrument_id, date_from, date_to, agency_ids=list(agency_ids), include_total=True, level=level),
        )
    except LookupError as exc:
        raise ParReportError(str(exc)) from None
    es = report.estimates
    targets = {c.index for c in scheme.scheme.criteria} | {"overall"}
    domains = sorted({e.domain for e in es.estimates if e.domain != TOTAL})
    scored = [d for d in domains if all(_has(es, d, t) for t in targets)]
    if not scored:
        raise ParReportError("no agency in scope has every index the scheme needs")
    missing = [t for t in targets if not _has(es, TOTAL, t)]
    if missing:
        raise ParReportError(f"the scheme uses {', '.join(sorted(missing))}, which this instrument does not have")
    result = par_points(es, scheme.scheme, scored, level=level)
    labels = {a: (code, name) for a, code, name in session.execute(select(Agency.id, Agency.code, Agency.name_vi))}
    headers, rows = par_table(result, es, total_domain=TOTAL, labels=labels, level=level)
    unscored = tuple(labels[d][0] for d in domains if d not in scored)
    return ParReport(scheme, report, headers, rows, tuple(scored), unscored)


def _has(es: Any, domain: Any, target: str) -> bool:
    """The domain has a finite estimate of the target (an agency without answers to an element has none)."""
    try:
        return math.isfinite(es.get(domain, target, "share").estimate)
    except (KeyError, LookupError, EstimationError):
        return False


def write_par_xlsx(report: ParReport, output: Path) -> None:
    """The report as an .xlsx workbook (report sheet + method sheet), written atomically."""
    import xlsxwriter

    fd, name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".xlsx", dir=output.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        with xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False}) as book:
            _report_sheet(book, report)
            _method_sheet(book, report)
        os.replace(tmp, output)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _report_sheet(book: Any, report: ParReport) -> None:
    bold = book.add_format({"bold": True})
    wrap = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    num = book.add_format({"num_format": "0.00"})
    sheet = book.add_worksheet("PAR")
    s = report.scheme
    title = f"{s.title_vi} — {s.scheme.jurisdiction} {s.scheme.year}"
    sheet.write(0, 0, ("VÍ DỤ / EXAMPLE: " if s.example else "") + title, bold)
    period = f"{report.indices.instrument}, {report.indices.period[0]} – {report.indices.period[1]}"
    sheet.write(1, 0, f"{period}; {report.indices.weighting}; {report.indices.design}")
    labels = {f"points_{c}": f"{vi} (≤ {_max(s, c):g})" for c, (vi, _en) in s.names.items()}
    sheet.write_row(3, 0, [labels.get(h, h) for h in report.headers], wrap)
    for i, row in enumerate(report.rows, start=4):
        for j, value in enumerate(row):
            if isinstance(value, float):
                if math.isfinite(value):
                    sheet.write_number(i, j, value, num)  # NaN (e.g. no interval for a tiny domain) stays empty
            else:
                sheet.write(i, j, value)
    sheet.freeze_panes(4, 3)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(3)


def _max(s: SchemeFile, code: str) -> float:
    return next(c.max_points for c in s.scheme.criteria if c.code == code)


def _method_sheet(book: Any, report: ParReport) -> None:
    sheet = book.add_worksheet("method")
    s, idx = report.scheme, report.indices
    example = " (EXAMPLE, not an official allocation)" if s.example else ""
    lines = [
        ("scheme", f"{s.scheme.jurisdiction} {s.scheme.year}{example}"),
        ("source", s.source),
        ("criteria", "; ".join(f"{c.code}: {c.max_points:g} × {c.index} ({c.conversion})" for c in s.scheme.criteria)),
        ("instrument", idx.instrument),
        ("period", f"{idx.period[0]} – {idx.period[1]}"),
        ("weighting", idx.weighting),
        ("design", idx.design),
        ("index definition", idx.definition),
        ("interval methods", "; ".join(f"{k}: {v}" for k, v in idx.ci_methods.items())),
        ("total points interval", "xlogit on the fraction of the maximum, joint linearisation"),
        ("rank and comparisons", "pairwise differences with covariance, t(df), Holm-adjusted; vs province likewise"),
        ("significantly_above / _below", "the agencies this one is significantly above / below (Holm-adjusted)"),
        ("not scored", ", ".join(report.unscored) or "none"),
        ("notes", "; ".join(idx.notes)),
        ("generated", f"{report.generated_at:%Y-%m-%d %H:%M} UTC"),
    ]
    for i, (key, value) in enumerate(lines):
        sheet.write(i, 0, key)
        sheet.write(i, 1, value)


def resolve_instrument(session: Session, spec: str) -> int:
    """Instrument id of ``code`` (its latest version) or ``code:version``."""
    code, _, version = spec.partition(":")
    query = select(Instrument).where(Instrument.code == code).order_by(Instrument.version.desc())
    if version:
        number = version.lstrip("v")
        query = query.where(Instrument.version == (int(number) if number.isdigit() else -1))
    found = session.scalars(query).first()
    if found is None:
        raise ParReportError(f"unknown instrument {spec!r}")
    return found.id


def par_report_xlsx(
    session: Session,
    scheme_path: Path,
    instrument: str,
    date_from: dt.date,
    date_to: dt.date,
    agency_ids: Sequence[int],
    output: Path,
    *,
    actor: str = "cli",
    actor_user_id: int | None = None,
) -> ParReport:
    """Build the report, write it to ``output`` and record it in the audit log."""
    from survey.db import db
    from survey.services import audit

    scheme = load_scheme(scheme_path)
    report = build_par_report(session, scheme, resolve_instrument(session, instrument), date_from, date_to, agency_ids)
    write_par_xlsx(report, output)
    with db.write() as write_session:
        audit.record(
            write_session,
            "par_report.generated",
            actor_user_id=actor_user_id,
            target_type="par_scheme",
            target_id=f"{scheme.scheme.jurisdiction}-{scheme.scheme.year}",
            details={
                "actor": actor,
                "example_scheme": scheme.example,
                "instrument": report.indices.instrument,
                "period": [date_from.isoformat(), date_to.isoformat()],
                "agencies": len(report.rows),
            },
        )
    return report

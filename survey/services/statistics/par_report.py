"""The PAR sociological-survey report: SIPAS indices turned into PAR points per agency, ranked, as Excel.

A scheme (``survey/par_schemes/*.toml``; the shipped one is marked as an example) lists criteria fed by
an index through a conversion. The report computes the indices with the index service (same weights and
design), scores and ranks agencies with ``analytics.par_points``, compares each with the whole scope
(the province) and lays the table out with the pure ``analytics.tables.par_table``. The comparisons with
the province are then decided as on the province page: Bonferroni-adjusted for the agencies compared,
significant exactly when the difference interval at level 1 - α/K excludes zero
(``analytics.comparisons.bonferroni_differences``). The pairwise comparisons behind the ranking show no
interval and stay Holm-adjusted.

Schemes are also stored per province and year (``par_schemes``, edited in the admin area): the same TOML
text, checked as a whole by :func:`parse_scheme` before it is stored. The web report uses the stored scheme
of the province and year and falls back to the shipped example, which then says it is an example.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from analytics import EstimationError, ParScheme, difference, par_points
from analytics.comparisons import Contrast, bonferroni_differences
from analytics.tables import par_table
from survey.models import Agency, Instrument, InstrumentElement, ParSchemeRecord
from survey.services.statistics.indices import TOTAL, IndexQuery, IndexReport, compute_indices, notes_about

SCHEMES_DIR = Path(__file__).resolve().parents[2] / "par_schemes"
#: The shipped example scheme ("start from the example" copies it).
EXAMPLE_SCHEME = SCHEMES_DIR / "example-ninh-binh-2026.toml"
CODE_PATTERN = re.compile(r"[a-z0-9_]{1,40}")


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
    #: The index report's notes, agencies named by code.
    notes: tuple[str, ...] = ()
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    #: K: the agencies compared with the province, the Bonferroni family of ``vs_province``.
    comparisons: int = 0


def load_scheme(path: Path) -> SchemeFile:
    """Read and check a scheme file; a malformed one fails with the file name and the reason."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParReportError(f"{path.name}: {exc}") from None
    return parse_scheme(text, path.name)


def parse_scheme(text: str, name: str = "scheme") -> SchemeFile:
    """Check a scheme's TOML text as a whole (file or stored definition); fails with ``name`` and the reason."""
    try:
        data = tomllib.loads(text)
        scheme = ParScheme.from_dict(data)
        names = _criterion_names(data)
    except (tomllib.TOMLDecodeError, KeyError, ValueError, TypeError, EstimationError) as exc:
        raise ParReportError(f"{name}: {exc}") from None
    return SchemeFile(
        scheme=scheme,
        example=bool(data.get("example", False)),
        title_vi=str(data.get("title_vi", "")),
        title_en=str(data.get("title_en", "")),
        source=str(data.get("source", "")),
        names=names,
    )


def _criterion_names(data: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Criterion code → (Vietnamese, English) name; codes must be unique (they name the report's columns)."""
    names: dict[str, tuple[str, str]] = {}
    for c in data["criteria"]:
        code = str(c["code"])
        if not CODE_PATTERN.fullmatch(code):
            raise ValueError(f"criterion code {code!r} must be 1–40 lower-case letters, digits or _")
        if code in names:
            raise ValueError(f"criterion code {code!r} is used twice")
        names[code] = (str(c.get("name_vi", code)), str(c.get("name_en", code)))
    return names


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
    domains = sorted({e.domain for e in es.estimates if e.domain != TOTAL})
    scored, missing = scoreable(es, scheme, domains)
    if not scored:
        raise ParReportError("no agency in scope has every index the scheme needs")
    if missing:
        raise ParReportError(f"the scheme uses {', '.join(missing)}, which this instrument does not have")
    result = par_points(es, scheme.scheme, scored, level=level)
    labels = {a: (code, name) for a, code, name in session.execute(select(Agency.id, Agency.code, Agency.name_vi))}
    headers, rows = par_table(result, es, total_domain=TOTAL, labels=labels, level=level)
    rows, k = _vs_province(es, [a.agency for a in result.agencies], headers, rows, level)
    unscored = tuple(labels[d][0] for d in domains if d not in scored)
    notes = tuple(notes_about(report.notes, None, {a: code for a, (code, _) in labels.items()}))
    return ParReport(scheme, report, headers, rows, tuple(scored), unscored, notes, comparisons=k)


def _vs_province(
    es: Any, agencies: Sequence[Any], headers: list[str], rows: list[tuple[Any, ...]], level: float
) -> tuple[list[tuple[Any, ...]], int]:
    """``rows`` (one per agency, in the order of ``agencies``) with ``vs_province`` and ``p_vs_province``
    Bonferroni-adjusted for the K agencies whose difference from the province has a p-value, and K: each
    verdict is whether the difference interval at level 1 - (1 - level)/K excludes zero, the p-value
    min(1, K p). Near the boundary the interval is MOVER/Newcombe, which no p-value matches: p is NaN
    there, as for an agency that cannot be compared ("not significant")."""
    contrasts: dict[int, Contrast] = {}
    for i, agency in enumerate(agencies):
        first, second = (agency, "overall", "share"), (TOTAL, "overall", "share")
        d = difference(es, first, second)
        if math.isfinite(d.p_value):
            contrasts[i] = Contrast.of(d, es.get(*first), es.get(*second))
    adjusted = dict(zip(contrasts, bonferroni_differences(list(contrasts.values()), level=level), strict=True))
    verdict, p_column = headers.index("vs_province"), headers.index("p_vs_province")
    out = []
    for i, row in enumerate(rows):
        values = list(row)
        a = adjusted.get(i)
        values[verdict] = "not significant" if a is None or not a.significant else a.direction
        values[p_column] = math.nan if a is None else a.p_adjusted
        out.append(tuple(values))
    return out, len(adjusted)


def scoreable(es: Any, scheme: SchemeFile, agencies: Sequence[Any]) -> tuple[list[Any], list[str]]:
    """The agencies with every index the scheme needs, and the indices the whole scope lacks (sorted)."""
    targets = {c.index for c in scheme.scheme.criteria} | {"overall"}
    scored = [a for a in agencies if all(has_estimate(es, a, t) for t in targets)]
    return scored, sorted(t for t in targets if not has_estimate(es, TOTAL, t))


def has_estimate(es: Any, domain: Any, target: str) -> bool:
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
    level = next((e.level for e in idx.estimates.estimates), 0.95)
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
        ("rank and comparisons", "pairwise differences of total points with covariance, t(df), Holm-adjusted"),
        ("significantly_above / _below", "the agencies this one is significantly above / below (Holm-adjusted)"),
        ("vs_province / p_vs_province", vs_province_method(report.comparisons, level)),
        ("not scored", ", ".join(report.unscored) or "none"),
        ("notes", "; ".join(report.notes)),
        ("generated", f"{report.generated_at:%Y-%m-%d %H:%M} UTC"),
    ]
    for i, (key, value) in enumerate(lines):
        sheet.write(i, 0, key)
        sheet.write(i, 1, value)


def vs_province_method(k: int, level: float = 0.95) -> str:
    """How ``vs_province`` is decided, for the method sheet and the API."""
    alpha = 1 - level
    return (
        f"index difference from the province with covariance, t(df) (MOVER/Newcombe when both shares >= 0.95), "
        f"Bonferroni-adjusted for the K = {k} agencies compared: significant exactly when the difference interval "
        f"at level 1 - {alpha:g}/K excludes 0; p_vs_province = min(1, K p) (empty for a MOVER interval)"
    )


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
    scheme = load_scheme(scheme_path)
    report = build_par_report(session, scheme, resolve_instrument(session, instrument), date_from, date_to, agency_ids)
    write_par_xlsx(report, output)
    record_generated(report, date_from, date_to, actor=actor, actor_user_id=actor_user_id)
    return report


def record_generated(
    report: ParReport, date_from: dt.date, date_to: dt.date, *, actor: str, actor_user_id: int | None
) -> None:
    """One audit event per report file handed out (CLI or web download)."""
    from survey.db import db
    from survey.services.identity import audit

    scheme = report.scheme
    with db.write() as write_session:
        audit.record(
            write_session,
            "par_report.generated",
            actor_user_id=actor_user_id,
            target_type="par_scheme",
            target_id=f"{scheme.scheme.jurisdiction}-{scheme.scheme.year}",
            agency_id=audit.common_agency(write_session, report.scored),
            details={
                "actor": actor,
                "example_scheme": scheme.example,
                "instrument": report.indices.instrument,
                "period": [date_from.isoformat(), date_to.isoformat()],
                "agencies": len(report.rows),
            },
        )


def par_report_bytes(report: ParReport) -> bytes:
    """The .xlsx workbook as bytes (the web download), written through a private temporary directory."""
    with tempfile.TemporaryDirectory(prefix="sipas-par-") as tmp:
        out = Path(tmp) / "par.xlsx"
        write_par_xlsx(report, out)
        return out.read_bytes()


# -- schemes stored per province (or ministry) and year, edited in the admin area -------------------------------

#: Conversions the form offers (the analytics engine knows only these).
CONVERSIONS = ("linear",)
#: No PAR criterion is worth more than the whole index (100 points); anything above is a typing error.
MAX_CRITERION_POINTS = 100.0


@dataclass(frozen=True)
class CriterionDraft:
    """One criterion as a person enters it."""

    code: str
    name_vi: str
    name_en: str
    max_points: float
    index: str
    conversion: str = "linear"


@dataclass(frozen=True)
class SchemeDraft:
    """A whole scheme as entered in the admin form; :func:`scheme_toml` turns it into the stored TOML text."""

    jurisdiction: str
    year: int
    example: bool
    title_vi: str
    title_en: str
    source: str
    criteria: tuple[CriterionDraft, ...]


def _toml_string(value: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes; \uXXXX for control characters).
    return json.dumps(value, ensure_ascii=False)


def scheme_toml(draft: SchemeDraft) -> str:
    """The TOML text of a scheme, in the layout of the shipped files."""
    lines = [
        "# PAR sociological-survey scheme, edited in the SIPAS admin area.",
        f"example = {'true' if draft.example else 'false'}",
        f"jurisdiction = {_toml_string(draft.jurisdiction)}",
        f"year = {int(draft.year)}",
        f"title_vi = {_toml_string(draft.title_vi)}",
        f"title_en = {_toml_string(draft.title_en)}",
        f"source = {_toml_string(draft.source)}",
    ]
    for c in draft.criteria:
        lines += [
            "",
            "[[criteria]]",
            f"code = {_toml_string(c.code)}",
            f"name_vi = {_toml_string(c.name_vi)}",
            f"name_en = {_toml_string(c.name_en)}",
            f"max_points = {float(c.max_points)!r}",
            f"index = {_toml_string(c.index)}",
            f"conversion = {_toml_string(c.conversion)}",
        ]
    return "\n".join(lines) + "\n"


def scheme_draft(scheme: SchemeFile) -> SchemeDraft:
    """A parsed scheme back as a draft (to fill the form)."""
    return SchemeDraft(
        jurisdiction=scheme.scheme.jurisdiction,
        year=scheme.scheme.year,
        example=scheme.example,
        title_vi=scheme.title_vi,
        title_en=scheme.title_en,
        source=scheme.source,
        criteria=tuple(
            CriterionDraft(
                c.code, *scheme.names[c.code], max_points=c.max_points, index=c.index, conversion=c.conversion
            )
            for c in scheme.scheme.criteria
        ),
    )


def index_targets(session: Session) -> dict[str, tuple[str, str]]:
    """What a criterion may be fed by: ``overall`` or an element code of a loaded instrument → (vi, en) name."""
    targets = {"overall": ("Chỉ số SIPAS chung", "Overall SIPAS index")}
    for code, name_vi, name_en in session.execute(
        select(InstrumentElement.code, InstrumentElement.name_vi, InstrumentElement.name_en).order_by(
            InstrumentElement.instrument_id, InstrumentElement.position
        )
    ):
        targets.setdefault(code, (name_vi, name_en))
    return targets


def validate_definition(session: Session, text: str, agency: Agency, year: int) -> SchemeFile:
    """Check a definition as a whole before it is stored: it parses, it is for this province and year, and every
    criterion is fed by an index some instrument has."""
    scheme = parse_scheme(text, f"{agency.code} {year}")
    if scheme.scheme.jurisdiction != agency.code or scheme.scheme.year != year:
        raise ParReportError(
            f"the scheme is for {scheme.scheme.jurisdiction} {scheme.scheme.year}, not {agency.code} {year}"
        )
    known = index_targets(session)
    for c in scheme.scheme.criteria:
        if not c.max_points <= MAX_CRITERION_POINTS:
            raise ParReportError(f"criterion {c.code!r}: max_points must be at most {MAX_CRITERION_POINTS:g}")
        if c.index not in known:
            raise ParReportError(f"criterion {c.code!r}: no instrument has the index {c.index!r}")
    return scheme


def example_definition(jurisdiction: str, year: int) -> str:
    """The shipped example, re-addressed to a province and year; its comments and ``example = true`` stay."""
    text = EXAMPLE_SCHEME.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^jurisdiction = .*$", lambda _m: f"jurisdiction = {_toml_string(jurisdiction)}", text, count=1)
    return re.sub(r"(?m)^year = .*$", f"year = {int(year)}", text, count=1)


def stored_schemes(session: Session, agency_ids: Sequence[int] | None) -> list[ParSchemeRecord]:
    """Stored schemes of these provinces (None: all), newest year first."""
    query = select(ParSchemeRecord).order_by(ParSchemeRecord.year.desc(), ParSchemeRecord.agency_id)
    if agency_ids is not None:
        query = query.where(ParSchemeRecord.agency_id.in_(list(agency_ids)))
    return list(session.scalars(query))


def stored_scheme(session: Session, agency_id: int, year: int) -> ParSchemeRecord | None:
    return session.scalar(
        select(ParSchemeRecord).where(ParSchemeRecord.agency_id == agency_id, ParSchemeRecord.year == year)
    )


@dataclass(frozen=True)
class ChosenScheme:
    scheme: SchemeFile
    #: True when no scheme is stored for the province and year and the shipped example file is used.
    fallback: bool


def scheme_for(session: Session, agency: Agency, year: int) -> ChosenScheme:
    """The stored scheme of the province and year, or else the shipped example (re-addressed, marked example)."""
    record = stored_scheme(session, agency.id, year)
    if record is not None:
        return ChosenScheme(parse_scheme(record.definition, f"{agency.code} {year}"), fallback=False)
    return ChosenScheme(parse_scheme(example_definition(agency.code, year), EXAMPLE_SCHEME.name), fallback=True)


class SchemeExistsError(ParReportError):
    """A scheme is already stored for the province and year."""


def create_from_example(agency: Agency, year: int, user_id: int | None) -> ParSchemeRecord:
    """Store a copy of the shipped example for the province and year (marked example); audit-logged."""
    from survey.db import db
    from survey.services.identity import audit

    text = example_definition(agency.code, year)
    with db.write() as session:
        validate_definition(session, text, agency, year)
        if stored_scheme(session, agency.id, year) is not None:
            raise SchemeExistsError(f"a scheme for {agency.code} {year} already exists")
        record = ParSchemeRecord(agency_id=agency.id, year=year, example=True, definition=text, updated_by_id=user_id)
        session.add(record)
        session.flush()
        audit.record(
            session,
            "par_scheme.created",
            actor_user_id=user_id,
            target_type="par_scheme",
            target_id=f"{agency.code}-{year}",
            agency_id=agency.id,
            details={"from": EXAMPLE_SCHEME.name, "example": True},
        )
    return record


def save_scheme(agency: Agency, year: int, draft: SchemeDraft, user_id: int | None) -> SchemeFile:
    """Validate the whole scheme and store it (create or replace); nothing is stored if any part is wrong."""
    from survey.db import db
    from survey.services.identity import audit

    text = scheme_toml(draft)
    with db.write() as session:
        scheme = validate_definition(session, text, agency, year)
        record = stored_scheme(session, agency.id, year)
        action = "par_scheme.updated"
        if record is None:
            record = ParSchemeRecord(agency_id=agency.id, year=year)
            session.add(record)
            action = "par_scheme.created"
        record.definition = text
        record.example = scheme.example
        record.updated_by_id = user_id
        record.updated_at = dt.datetime.now(dt.UTC)
        session.flush()
        audit.record(
            session,
            action,
            actor_user_id=user_id,
            target_type="par_scheme",
            target_id=f"{agency.code}-{year}",
            agency_id=agency.id,
            details={
                "example": scheme.example,
                "criteria": [f"{c.code}: {c.max_points:g} × {c.index}" for c in scheme.scheme.criteria],
                "max_points": scheme.scheme.max_points,
                "source": scheme.source[:200],
            },
        )
    return scheme

"""What an archive-grade codebook states beyond the variables: frequencies, code lists and study facts.

Frequencies are counted from the cells of the file itself as its rows are written (:class:`Tally`, an
observer of :func:`survey.services.exports.formats.write`: a few C-level counts per chunk, no second pass
over the data), so every variable's valid and missing counts add up to the file's row count:

* per variable, valid and missing counts, and the frequency of each code (items 1-5 and the missing codes;
  coded profile variables; agency, counter, field of procedure and administrative unit);
* the code lists of agency, counter, field and administrative unit (names from the database, rows from the file);
* the response rate against transaction volumes, over the agency-months that have volumes;
* the producer (the highest agencies of the scope) and the weighting notes as one summary table.

The codebooks (:mod:`~survey.services.exports.codebook`, :mod:`~survey.services.exports.archive`) and the DDI
file (:mod:`~survey.services.exports.ddi`) only format these facts.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analytics.tables import NOT_ANSWERED, NOT_APPLICABLE, NOT_ASKED, Column
from survey.models import AdminUnit, Agency, ProcedureField, TransactionVolume
from survey.models import Counter as CounterModel
from survey.services.exports.responses import ExportPlan
from survey.services.exports.schema import export_value, stored_codes

#: Identifier columns whose codes are counted (with the code lists).
CODED_IDS = ("agency", "counter", "field", "admin_unit")


class Tally:
    """Counts an export's cells chunk by chunk as the writer sees them: codes of items, coded variables and
    identifiers; empty cells (None or "") of every column; (agency, counter) and (agency, month, status)."""

    def __init__(self, columns: Sequence[Column]) -> None:
        self.names = [c.name for c in columns]
        self._counted = [i for i, c in enumerate(columns) if c.kind in ("score", "category") or c.name in CODED_IDS]
        self.counts: dict[str, Counter[Any]] = {self.names[i]: Counter() for i in self._counted}
        self.empty: dict[str, int] = dict.fromkeys(self.names, 0)
        self._text = [c.kind in ("text", "category") for c in columns]
        self.rows = 0
        self.agency_counter: Counter[tuple[Any, Any]] = Counter()
        self.agency_month_status: Counter[tuple[Any, Any, Any]] = Counter()
        at = {name: i for i, name in enumerate(self.names)}
        self._pair = (at["agency"], at["counter"])
        self._triple = (at["agency"], at["period"], at["status"])

    def __call__(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        cols = list(zip(*rows, strict=True))
        self.rows += len(rows)
        for i in self._counted:
            self.counts[self.names[i]].update(cols[i])
        for name, col, text in zip(self.names, cols, self._text, strict=True):
            self.empty[name] += col.count(None) + (col.count("") if text else 0)
        a, c = self._pair
        self.agency_counter.update(zip(cols[a], cols[c], strict=True))
        a, p, st = self._triple
        self.agency_month_status.update(zip(cols[a], cols[p], cols[st], strict=True))


@dataclass(frozen=True)
class Frequency:
    """One variable's counts: ``valid`` + ``missing`` = the file's rows; ``counts``: code → rows, in code order
    (the export code for coded variables, the answer code for items, ``""`` = empty)."""

    name: str
    valid: int
    missing: int
    counts: dict[str, int] = field(default_factory=dict)
    #: Codes counted as missing (items: 8 and 9; coded variables: the empty cell).
    missing_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class CodeEntry:
    """One value of a code list (agency, counter, field, administrative unit) and its rows in the file."""

    code: str
    label_vi: str
    label_en: str
    rows: int
    #: The agency a counter belongs to; the level of an administrative unit.
    parent: str = ""


@dataclass(frozen=True)
class ResponseRate:
    """Valid responses against completed transactions, over the agency-months of the export with volumes."""

    responses: int
    transactions: float
    agency_months_with_volumes: int
    agency_months: int

    @property
    def rate(self) -> float | None:
        return self.responses / self.transactions if self.transactions > 0 else None


@dataclass(frozen=True)
class NoteSummary:
    """One line of the weighting summary: a rule, how many agencies and agency-months it touches, which ones."""

    what: str
    #: Agency codes; empty for a note about the whole scope.
    agencies: tuple[str, ...]
    agency_months: int
    #: The notes summarised, in full.
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class StudyFacts:
    rows: int
    frequencies: dict[str, Frequency]
    code_lists: dict[str, list[CodeEntry]]
    response_rate: ResponseRate
    producer: list[tuple[str, str]]
    weighting_summary: list[NoteSummary]


def _coded(name: str, counts: Counter[Any], rows: int) -> Frequency:
    """A coded variable's frequencies: every code of its list in code order (0 included), then the empty cell."""
    ordered = {export_value(name, v): counts.get(export_value(name, v), 0) for v in stored_codes(name)}
    ordered.update({str(k): n for k, n in sorted(counts.items(), key=str) if k not in ordered and k not in (None, "")})
    missing = counts.get(None, 0) + counts.get("", 0)
    if missing:
        ordered[""] = missing
    return Frequency(name, rows - missing, missing, ordered, ("",))


def frequencies(plan: ExportPlan, tally: Tally) -> dict[str, Frequency]:
    """Valid/missing counts and code frequencies of every variable of the export, in file order."""
    rows = tally.rows
    levels = [str(int(level["value"])) for level in plan.instrument.scale["levels"]]
    out: dict[str, Frequency] = {}
    for col in plan.columns:
        name = col.name
        if col.kind == "score":
            counts = {str(int(k)): n for k, n in tally.counts[name].items()}
            split = plan.instrument.rotation is not None or str(NOT_ASKED) in counts
            codes = [*levels, *([str(NOT_ASKED)] if split else []), str(NOT_APPLICABLE), str(NOT_ANSWERED)]
            ordered = {code: counts.get(code, 0) for code in codes}
            ordered.update({k: n for k, n in sorted(counts.items()) if k not in ordered})
            missing_codes = tuple(code for code in ordered if code not in levels)
            missing = sum(ordered[code] for code in missing_codes)
            out[name] = Frequency(name, rows - missing, missing, ordered, missing_codes)
        elif col.kind == "category":
            out[name] = _coded(name, tally.counts[name], rows)
        elif name in CODED_IDS:
            counted = tally.counts[name]
            missing = counted.get(None, 0) + counted.get("", 0)
            by_code = {str(k): n for k, n in sorted(counted.items(), key=str) if k not in (None, "")}
            if missing:
                by_code[""] = missing
            out[name] = Frequency(name, rows - missing, missing, by_code, ("",))
        else:
            missing = tally.empty[name]
            out[name] = Frequency(name, rows - missing, missing, missing_codes=("",) if missing else ())
    return out


def code_lists(session: Session, plan: ExportPlan, tally: Tally) -> dict[str, list[CodeEntry]]:
    """Agency, counter, field of procedure and administrative unit: every code of the scope, with its rows."""
    scope = sorted(plan.request.agency_ids)
    agencies = session.execute(
        select(Agency.id, Agency.code, Agency.name_vi, Agency.name_en, AdminUnit.code)
        .join(AdminUnit, Agency.admin_unit_id == AdminUnit.id)
        .where(Agency.id.in_(scope))
        .order_by(Agency.code)
    ).all()
    agency_code = {a: code for a, code, *_ in agencies}
    units = session.execute(
        select(AdminUnit.code, AdminUnit.name, AdminUnit.level)
        .where(AdminUnit.id.in_(select(Agency.admin_unit_id).where(Agency.id.in_(scope))))
        .order_by(AdminUnit.code)
    ).all()
    counters = session.execute(
        select(CounterModel.agency_id, CounterModel.code, CounterModel.name_vi, CounterModel.name_en).where(
            CounterModel.agency_id.in_(scope)
        )
    ).all()
    fields = session.execute(
        select(ProcedureField.code, ProcedureField.name_vi, ProcedureField.name_en).order_by(ProcedureField.code)
    ).all()
    rows = tally.counts
    return {
        "agency": [
            CodeEntry(code, vi, en or vi, rows["agency"].get(code, 0), unit) for _a, code, vi, en, unit in agencies
        ],
        "counter": sorted(
            (
                CodeEntry(code, vi, en or vi, tally.agency_counter.get((agency_code[a], code), 0), agency_code[a])
                for a, code, vi, en in counters
            ),
            key=lambda e: (e.parent, e.code),
        ),
        "field": [CodeEntry(code, vi, en, rows["field"].get(code, 0)) for code, vi, en in fields],
        "admin_unit": [
            CodeEntry(code, name, name, rows["admin_unit"].get(code, 0), level) for code, name, level in units
        ],
    }


def response_rate(session: Session, plan: ExportPlan, tally: Tally) -> ResponseRate:
    """Valid responses of the file in agency-months with transaction volumes, over those volumes."""
    agencies = dict(
        session.execute(select(Agency.code, Agency.id).where(Agency.id.in_(sorted(plan.request.agency_ids)))).all()
    )
    responses: dict[tuple[int, dt.date], int] = {}
    for (agency, period, status), n in tally.agency_month_status.items():
        if status == "valid" and agency in agencies:
            key = (agencies[agency], dt.date.fromisoformat(f"{period}-01"))
            responses[key] = responses.get(key, 0) + n
    volumes = session.execute(
        select(TransactionVolume.agency_id, TransactionVolume.month, func.sum(TransactionVolume.transactions))
        .where(
            TransactionVolume.agency_id.in_(sorted(plan.request.agency_ids)),
            TransactionVolume.month >= plan.date_from.replace(day=1),
            TransactionVolume.month <= plan.date_to,
        )
        .group_by(TransactionVolume.agency_id, TransactionVolume.month)
    ).all()
    totals = {(int(a), m if isinstance(m, dt.date) else dt.date.fromisoformat(str(m))): float(t) for a, m, t in volumes}
    covered = [key for key in responses if totals.get(key, 0) > 0]
    return ResponseRate(
        responses=sum(responses[k] for k in covered),
        transactions=sum(totals[k] for k in covered),
        agency_months_with_volumes=len(covered),
        agency_months=len(responses),
    )


def producer(session: Session, plan: ExportPlan) -> list[tuple[str, str]]:
    """The highest agencies of the scope (those whose parent is outside it), as (Vietnamese, English) names."""
    rows = session.execute(
        select(Agency.parent_id, Agency.name_vi, Agency.name_en)
        .where(Agency.id.in_(sorted(plan.request.agency_ids)))
        .order_by(Agency.code)
    ).all()
    return [(vi, en or vi) for parent, vi, en in rows if parent not in plan.request.agency_ids]


_AGENCY_NOTE = re.compile(r"^agency (?P<agency>\S+?)(?P<months>(?: \d{4}-\d{2},?)*): (?P<what>.*)$")


def weighting_summary(notes: Sequence[str]) -> list[NoteSummary]:
    """The weighting notes as one table: per rule, the agencies and agency-months it touches.

    A note about one agency reads ``agency CODE 2026-01, 2026-02: what (detail)``; notes of the same rule
    (the text before its first bracket or colon) become one line. Notes about the whole scope keep a line each.
    """
    grouped: dict[str, tuple[list[str], int, list[str]]] = {}
    for note in notes:
        hit = _AGENCY_NOTE.match(note)
        if hit is None:
            grouped.setdefault(note, ([], 0, [note]))
            continue
        what = re.split(r" \(|: ", hit["what"], maxsplit=1)[0]
        months = len(re.findall(r"\d{4}-\d{2}", hit["months"])) or 1
        agencies, n, full = grouped.get(what, ([], 0, []))
        if hit["agency"] not in agencies:
            agencies.append(hit["agency"])
        grouped[what] = (agencies, n + months, [*full, note])
    return [NoteSummary(what, tuple(agencies), n, tuple(full)) for what, (agencies, n, full) in grouped.items()]


def describe_study(session: Session, plan: ExportPlan, tally: Tally) -> StudyFacts:
    """Everything the archive-grade codebook states about the file whose cells ``tally`` counted."""
    return StudyFacts(
        rows=tally.rows,
        frequencies=frequencies(plan, tally),
        code_lists=code_lists(session, plan, tally),
        response_rate=response_rate(session, plan, tally),
        producer=producer(session, plan),
        weighting_summary=weighting_summary(plan.weights.notes),
    )

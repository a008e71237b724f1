"""``indices.csv``: the figures the application publishes for an export's scope, period and questionnaire.

The bundle's reproducibility pack: the same service as the dashboard
(:func:`survey.services.statistics.indices.compute_indices`) computes the overall index, each element and
each criterion for the whole scope of the export (every agency in it together), and this module writes them
one row per figure. ``analysis.R`` (:mod:`survey.services.exports.scripts`) recomputes the same rows from the
data file into ``indices-r.csv``; the two files have the same columns and row order.

Numbers are written with ``repr`` (the shortest text that reads back as the same double), flags as their
codes joined by ``;`` (empty: none), and an undefined value (NaN) as ``NA``, which R reads as missing.
"""

from __future__ import annotations

import csv
import io
import math

from sqlalchemy.orm import Session

from analytics.errors import EstimationError
from analytics.estimators import Estimate
from survey.services.exports.responses import ExportPlan
from survey.services.statistics.indices import TOTAL, IndexQuery, IndexReport, compute_indices

FILE_NAME = "indices.csv"
COLUMNS = ("level", "target", "kind", "estimate", "se", "ci_low", "ci_high", "df", "n", "flags", "ci_method")
KINDS = ("share", "mean")
LEVELS = ("overall", "element", "criterion")


def applies(plan: ExportPlan) -> bool:
    """Whether the export's rows can reproduce the published figures: every valid response is in the file
    (no subsample) and the file holds valid responses."""
    return plan.sample is None and plan.request.status in ("valid", "all") and plan.rows > 0


def published_report(session: Session, plan: ExportPlan) -> IndexReport:
    """The dashboard's indices for the export's instrument, period and agencies."""
    query = IndexQuery(
        instrument_id=plan.instrument.id,
        date_from=plan.date_from,
        date_to=plan.date_to,
        agency_ids=sorted(plan.request.agency_ids),
    )
    return compute_indices(session, query)


def _number(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "NA"
    return repr(float(value))


def index_rows(plan: ExportPlan, report: IndexReport) -> list[dict[str, str]]:
    """One row per published figure of the whole scope: overall, then elements, then criteria, in instrument
    order; shares before means."""
    ins = plan.instrument
    targets = [("overall", "overall")]
    targets += [("element", element.code) for element in ins.elements]
    targets += [("criterion", item.code) for item in ins.items]
    rows: list[dict[str, str]] = []
    for level, target in targets:
        for kind in KINDS:
            try:
                est: Estimate = report.get(TOTAL, target, kind)
            except EstimationError:
                continue  # e.g. an element without answered items
            rows.append(
                {
                    "level": level,
                    "target": target,
                    "kind": kind,
                    "estimate": _number(est.estimate),
                    "se": _number(est.se),
                    "ci_low": _number(est.ci[0]),
                    "ci_high": _number(est.ci[1]),
                    "df": str(est.df),
                    "n": str(est.n),
                    "flags": ";".join(f.code for f in est.flags),
                    "ci_method": est.ci_method,
                }
            )
    return rows


def indices_csv(plan: ExportPlan, report: IndexReport) -> str:
    """``indices.csv`` as text (UTF-8, comma, LF line ends, a header row)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(index_rows(plan, report))
    return out.getvalue()

"""``/indices``: satisfaction indices with their intervals, flags and method, for agencies in scope.

Computed as the dashboards compute them: one :func:`~survey.services.statistics.indices.compute_indices` call over
the agency's whole province (every agency a stratum, through the same short-lived cache), read at the
agency's domain, or at the province total for a province. ``domain=counter`` or ``domain=field`` gives
the overall index of each counter or field of the agency, as the dashboard's breakdown does
(:func:`survey.services.statistics.breakdowns.breakdown`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from flask import current_app
from werkzeug.wrappers import Response

from analytics import AnalyticsError, Estimate
from survey.api import bp
from survey.api.auth import agency_or_404, capability_scope
from survey.api.params import PERIOD, QueryArgs, period_body, pick_instrument
from survey.api.problems import json_response, no_data
from survey.auth import Scope
from survey.db import db
from survey.models import Agency, Instrument
from survey.services.administration import listings, scope_queries
from survey.services.administration.instruments import instrument_by_id
from survey.services.statistics import dashboard
from survey.services.statistics.index_cache import cached_indices
from survey.services.statistics.indices import DESIGN, TOTAL, IndexQuery, IndexReport, WeightingNote, notes_about

CAPABILITY = "view_dashboard"
DOMAINS = ("agency", "counter", "field")
KINDS = ("share", "mean")
LEVEL = 0.95
#: The breakdowns' estimation (``dashboard_breakdowns``): composite shares only.
BREAKDOWN_CI = {"composite": "xlogit, t(df)"}


def estimate_dict(e: Estimate, target_type: str) -> dict[str, Any]:
    """One estimate as the API states it (the engine's own JSON-ready form: NaN becomes null)."""
    d = e.to_dict()
    return {
        "target": d["target"],
        "target_type": target_type,
        "kind": d["kind"],
        "estimate": d["estimate"],
        "se": d["se"],
        "ci": {"lower": d["ci"][0], "upper": d["ci"][1], "level": d["level"]},
        "ci_method": d["ci_method"],
        "n": int(d["n"]),
        "n_eff": d["n_eff"],
        "df": int(d["df"]),
        "deff": d["deff"],
        "flags": d["flags"],
        "suppressed": d["suppressed"],
        "definition": d["definition"],
    }


def top_of_scope(held: Scope) -> list[Agency]:
    """The agencies in scope whose parent is not (a province, a department …): the default selection."""
    return scope_queries.top_of_scope(db.session, held)


def readable_notes(notes: Sequence[WeightingNote], agency_ids: Sequence[int]) -> list[str]:
    """The notes about these agencies (and the whole scope), naming agencies by code.

    A report covers the agency's whole province; notes about the province's other agencies are not the
    reader's business (nor in their scope, for an agency's token).
    """
    codes = scope_queries.agency_codes(db.session, agency_ids)
    return notes_about(notes, agency_ids, codes)


def _own_ids(agency: Agency) -> list[int]:
    """The responses an agency's figures cover: its own, or its whole subtree for a province (as on its dashboard)."""
    return dashboard.agency_subtree_ids(db.session, agency) if agency.parent_id is None else [agency.id]


def _target_types(instrument: Instrument) -> dict[str, str]:
    types = {"overall": "overall"}
    types.update({element.code: "element" for element in instrument.elements})
    types.update({item.code: "item" for item in instrument.items})
    return types


def _method(
    instrument: Instrument,
    period: dashboard.Period,
    domain: str,
    covers: Sequence[int],
    report: IndexReport | None = None,
    weighting: str = "",
) -> dict[str, Any]:
    """How the figures were made; from the report when there is one (an agency without data has none)."""
    return {
        "questionnaire": instrument.label,
        "instrument": {"code": instrument.code, "version": instrument.version},
        "period": period_body(period),
        "domain": domain,
        "weighting": report.weighting if report else weighting,
        "design": DESIGN,
        "definition": report.definition if report else instrument.aggregation.get("definition", "A"),
        "ci_methods": report.ci_methods if report else BREAKDOWN_CI,
        "level": LEVEL,
        "n_strata": report.n_strata if report else None,
        "n_psus": report.n_psus if report else None,
        "notes": readable_notes(report.notes, covers) if report else [],
        "computed_at": (report.computed_at if report else dt.datetime.now(dt.UTC)).isoformat(),
    }


def _agency_ref(agency: Agency) -> dict[str, Any]:
    return {"code": agency.code, "name_vi": agency.name_vi, "name_en": agency.name_en}


@bp.get("/indices")
def get_indices() -> Response:
    held = capability_scope(CAPABILITY)
    args = QueryArgs(("agency", "instrument", *PERIOD, "domain", "target", "kind"))
    codes = args.codes("agency")
    agencies = [agency_or_404(code, CAPABILITY) for code in codes] if codes else top_of_scope(held)
    own = sorted({i for agency in agencies for i in _own_ids(agency)})
    domain = args.choice("domain", DOMAINS, "agency") or "agency"
    kinds = args.codes("kind") or list(KINDS)
    for kind in kinds:
        if kind not in KINDS:
            args.error("kind", f"expected share and/or mean, got {kind!r}")
    targets = args.codes("target")
    period = args.period(dashboard.latest_day(db.session, own) or dt.date.today())
    candidates = args.instruments()
    args.done()
    assert period is not None
    instrument_id = pick_instrument(candidates, own, period)
    if instrument_id is None:
        raise no_data(f"no valid responses in these agencies from {period.start} to {period.end}")
    instrument = instrument_by_id(db.session, instrument_id)
    assert instrument is not None
    types = _target_types(instrument)
    unknown = [t for t in targets if t not in types]
    if unknown:
        args.error("target", f"{', '.join(unknown)} not in {instrument.label} (overall, element or item codes)")
    if domain != "agency" and set(targets) - {"overall"}:
        args.error("target", "counter and field breakdowns give the overall index only")
    if domain != "agency" and "share" not in kinds:
        args.error("kind", "counter and field breakdowns give the index (share) only")
    args.done()
    if domain == "agency":
        results = _by_agency(agencies, instrument, period, set(targets or types), set(kinds), types)
    else:
        results = _breakdowns(agencies, instrument, period, domain)
    if not any(r["estimates"] for r in results):
        raise no_data(
            f"no valid responses for {instrument.label} in these agencies from {period.start} to {period.end}"
        )
    return json_response({"results": results})


def _by_agency(
    agencies: list[Agency],
    instrument: Instrument,
    period: dashboard.Period,
    targets: set[str],
    kinds: set[str],
    types: dict[str, str],
) -> list[dict[str, Any]]:
    """Each agency read from its province's report (one computation per province)."""
    reports: dict[int, IndexReport | None] = {}
    ttl = int(current_app.config.get("INDEX_CACHE_SECONDS", 0))
    results = []
    for agency in agencies:
        province = dashboard.province_of(db.session, agency)
        if province.id not in reports:
            query = IndexQuery(
                instrument.id,
                period.start,
                period.end,
                agency_ids=dashboard.agency_subtree_ids(db.session, province),
                level=LEVEL,
            )
            try:
                reports[province.id] = cached_indices(db.session, query, ttl)
            except (LookupError, AnalyticsError):
                reports[province.id] = None  # no valid responses, or not estimable: this agency has no figures
        report = reports[province.id]
        label = TOTAL if province.id == agency.id else agency.id
        estimates = [
            estimate_dict(e, types[e.target])
            for e in (report.estimates if report else ())
            if e.domain == label and e.target in targets and e.kind in kinds
        ]
        results.append(
            {
                "agency": _agency_ref(agency),
                "domain": {"type": "agency"},
                "method": _method(instrument, period, "agency", _own_ids(agency), report),
                "estimates": estimates,
            }
        )
    return results


def _breakdowns(
    agencies: list[Agency], instrument: Instrument, period: dashboard.Period, domain: str
) -> list[dict[str, Any]]:
    """The overall index of each counter (or field) of each agency, one estimation per agency."""
    from survey.services.statistics.breakdowns import breakdown

    results = []
    for agency in agencies:
        out = breakdown(db.session, _own_ids(agency), instrument.id, period, "vi", by_counter=domain == "counter")
        rows = out.counters if domain == "counter" else out.fields
        names = _domain_names(domain, [row.key for row in rows])
        method = _method(instrument, period, domain, _own_ids(agency), weighting=out.weighting)
        for row in rows:
            code, name_vi, name_en = names[row.key]
            results.append(
                {
                    "agency": _agency_ref(agency),
                    "domain": {
                        "type": domain,
                        "code": code,
                        "name_vi": name_vi,
                        "name_en": name_en,
                        "responses": row.responses,
                    },
                    "method": method,
                    "estimates": [] if row.share is None else [estimate_dict(row.share, "overall")],
                }
            )
    return results


def _domain_names(domain: str, keys: list[int]) -> dict[int, tuple[str | None, str, str | None]]:
    """Counter or field key → (code, Vietnamese name, English name); key 0 (none given) has no code."""
    names = listings.domain_names(db.session, domain == "counter", keys)
    names[0] = (None, "(không có quầy)" if domain == "counter" else "(không ghi lĩnh vực)", "(none given)")
    return names

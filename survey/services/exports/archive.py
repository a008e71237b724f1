"""The archive sections of an export's codebooks: study description, index definitions, weighting summary,
frequencies and code lists (Markdown for people, JSON for programs), from :mod:`~survey.services.exports.study`.

They follow what the DDI Codebook 2.5, IPUMS and the World Bank Microdata Library put in a study's
documentation: universe, collection mode, period, response rate, producer, citation, licence and access
conditions; per variable its valid and missing counts and the frequency of every code; the code lists of
the identifiers. The DDI file (:mod:`~survey.services.exports.ddi`) carries the same texts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from analytics.tables import NOT_ANSWERED, NOT_APPLICABLE, NOT_ASKED, Column
from survey.services.exports.responses import ExportPlan
from survey.services.exports.study import CodeEntry, Frequency, NoteSummary, StudyFacts

KIND_OF_DATA = "Sample survey data: self-administered satisfaction questionnaire, one record per response"
UNIT_OF_ANALYSIS = "A response: one citizen's (or organisation representative's) rating of one service encounter"
COLLECTION_MODE = (
    "Self-administered: the respondent scans the QR code at the counter and answers the web questionnaire on "
    "their own phone (Vietnamese, English available), or answers on a kiosk at the counter; paper forms are "
    "entered or imported by staff (variable collection_mode)."
)
SAMPLING = (
    "Every agency in scope is surveyed (a stratum); people served at a counter on a day are invited at the "
    "counter and take part by choice, so respondents are self-selected within each counter-day (the PSU)."
)
LICENCE = (
    "Microdata for statistical analysis and research by the producer's authorised users. Responses carry no "
    "identity: do not try to identify a respondent or an official, and do not pass the file on or publish "
    "microdata without the producer's written permission. Aggregates may be published with the citation below."
)
ACCESS = (
    "Restricted: exported by a signed-in statistician or administrator of this SIPAS installation, within their "
    "agency scope; every export is recorded in the audit log (who, scope, filters, rows)."
)
INDEX_DEFINITIONS = (
    "Each criterion (item) gives two statistics over the valid responses that answered it (codes "
    f"{NOT_APPLICABLE} and {NOT_ANSWERED} excluded): the weighted share of satisfied answers (levels from "
    "`satisfied_from` up) and the weighted mean score. An element index is the weighted mean of its items' "
    "statistics with the item weights below (renormalised over the items answered in the data); the overall "
    "index is the weighted mean of the element indices with the element weights (renormalised over the elements "
    "left). Shares of items get NCHS-adjusted Korn-Graubard intervals, composites xlogit intervals, means t "
    "intervals, all on the design below (Taylor linearisation)."
)
#: Agencies named per line of the weighting summary before "and N more".
SUMMARY_AGENCIES = 12
#: A weighting rule that touches at most this many agencies also has its notes listed in full.
NOTES_IN_FULL = 5


def universe(plan: ExportPlan) -> str:
    return (
        f"Adults (18 and over) served at the one-stop counters of the {len(plan.agency_codes)} agencies in scope "
        f"from {plan.date_from} to {plan.date_to} who answered the questionnaire {plan.instrument.label}; the form "
        "asks respondents to confirm they are adults."
    )


def title(plan: ExportPlan) -> str:
    ins = plan.instrument
    return (
        f"Satisfaction with public administrative services (SIPAS), {ins.name_en} ({ins.label}): responses "
        f"{plan.date_from} to {plan.date_to}"
    )


def producer_text(facts: StudyFacts) -> str:
    return "; ".join(f"{vi} ({en})" if en != vi else vi for vi, en in facts.producer) or "SIPAS installation"


def citation(plan: ExportPlan, facts: StudyFacts, data_name: str) -> str:
    return (
        f"{producer_text(facts)}. {title(plan)} [data file {data_name}, {facts.rows:,} responses]. Exported with "
        f"SIPAS on {plan.generated_at:%Y-%m-%d}."
    )


def response_rate_text(facts: StudyFacts) -> str:
    rr = facts.response_rate
    if rr.rate is None:
        return (
            "No agency-month of this export has transaction volumes, so no response rate can be given "
            f"({rr.agency_months} agency-months with valid responses)."
        )
    return (
        f"{rr.rate:.2%}: {rr.responses:,} valid responses against {rr.transactions:,.0f} completed transactions, over "
        f"the {rr.agency_months_with_volumes} of {rr.agency_months} agency-months with valid responses that have "
        "transaction volumes (responses per transaction; a person may have had several transactions)."
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _pct(n: int, total: int) -> str:
    return f"{n / total:.1%}" if total else "–"


def study_markdown(plan: ExportPlan, facts: StudyFacts, data_name: str) -> list[str]:
    """The *Study* section: what archives ask of a study description."""
    modes = facts.frequencies.get("collection_mode")
    mode_counts = ", ".join(f"{k or 'empty'} {n:,}" for k, n in modes.counts.items() if n) if modes else ""
    return [
        "## Study",
        "",
        f"- Title: {title(plan)}",
        f"- Producer: {producer_text(facts)}, with the SIPAS software",
        f"- Universe: {universe(plan)}",
        f"- Unit of analysis: {UNIT_OF_ANALYSIS}",
        f"- Kind of data: {KIND_OF_DATA}",
        f"- Collection mode: {COLLECTION_MODE}" + (f" In this file: {mode_counts}." if mode_counts else ""),
        f"- Sampling: {SAMPLING}",
        f"- Period (local date received): {plan.date_from} to {plan.date_to}",
        f"- Response rate: {response_rate_text(facts)}",
        f"- Citation: {citation(plan, facts, data_name)}",
        f"- Licence: {LICENCE}",
        f"- Access conditions: {ACCESS}",
    ]


def index_markdown(plan: ExportPlan) -> list[str]:
    """The *Index definitions* section: how elements and the overall index are built from the items."""
    ins = plan.instrument
    out = [
        "## Index definitions",
        "",
        f"Definition {ins.aggregation.get('definition', 'A')}. {INDEX_DEFINITIONS}",
        "",
        "| Element | Weight in the overall index | Items (weight within the element) |",
        "|---|---|---|",
    ]
    for element in ins.elements:
        items = ", ".join(f"`{i.code}` ({float(i.weight):g})" for i in element.items)
        out.append(f"| {element.code}: {_cell(element.name_en)} | {float(element.weight):g} | {items} |")
    return out


def _agencies(summary: NoteSummary) -> str:
    shown = ", ".join(summary.agencies[:SUMMARY_AGENCIES])
    more = len(summary.agencies) - SUMMARY_AGENCIES
    return shown + (f" and {more} more" if more > 0 else "")


def weighting_summary_markdown(facts: StudyFacts, notes: Sequence[str]) -> list[str]:
    """The weighting notes: those about the whole scope as they are, those about single agencies as one table
    (each rule's notes in full when it touches at most :data:`NOTES_IN_FULL` agencies; every note, agency by
    agency, is in the JSON codebook's ``weighting.notes``)."""
    scope = [row for row in facts.weighting_summary if not row.agencies]
    rules = [row for row in facts.weighting_summary if row.agencies]
    out = [f"- Note: {row.what}" for row in scope]
    if not rules:
        return out
    out += [
        *([""] if out else []),
        f"Weighting notes about single agencies, summarised ({sum(len(r.notes) for r in rules)} notes; every one is "
        "in the JSON codebook under `weighting.notes`):",
        "",
        "| What | Agencies | Agency-months | Which agencies |",
        "|---|---|---|---|",
    ]
    out += [f"| {_cell(r.what)} | {len(r.agencies)} | {r.agency_months} | {_agencies(r)} |" for r in rules]
    few = [note for r in rules if len(r.agencies) <= NOTES_IN_FULL for note in r.notes]
    if few:
        out += ["", f"In full (rules that touch at most {NOTES_IN_FULL} agencies):", ""]
        out += [f"- {_cell(note)}" for note in few]
    return out


def _label(col: Column, code: str) -> str:
    for cat in col.categories:
        if (cat.value if col.kind == "category" else str(cat.code)) == code:
            return cat.label_en
    return "empty (not given)" if code == "" else ""


def frequencies_markdown(plan: ExportPlan, facts: StudyFacts) -> list[str]:
    """Valid/missing counts of every variable, the code frequencies of items and coded variables."""
    rows = facts.rows
    freq = facts.frequencies
    items = plan.item_codes
    levels = [str(int(level["value"])) for level in plan.instrument.scale["levels"]]
    na, blank, asked = str(NOT_APPLICABLE), str(NOT_ANSWERED), str(NOT_ASKED)
    split = any(asked in freq[q].counts for q in items)
    shown = [*levels, *([asked] if split else []), na, blank]
    names = {asked: f"{asked} not asked", na: f"{na} n/a", blank: f"{blank} blank"}
    out = [
        "## Frequencies",
        "",
        f"Unweighted counts over the {rows:,} rows of this file. Items: codes {levels[0]}-{levels[-1]} are valid; "
        f"{na} (not applicable) and {blank} (not answered)"
        + (f" and {asked} (not asked: split questionnaire)" if split else "")
        + " are missing.",
        "",
        "| Item | " + " | ".join(names.get(c, c) for c in shown) + " | Valid | Missing | Not applicable |",
        "|---|" + "---|" * (len(shown) + 3),
    ]
    for q in items:
        f = freq[q]
        counts = " | ".join(f"{f.counts.get(c, 0):,}" for c in shown)
        out.append(f"| `{q}` | {counts} | {f.valid:,} | {f.missing:,} | {_pct(f.counts.get(na, 0), rows)} |")
    out += ["", "| Variable | Code | Label | Rows | Share |", "|---|---|---|---|---|"]
    for col in plan.columns:
        if col.kind != "category":
            continue
        for code, n in freq[col.name].counts.items():
            out.append(f"| `{col.name}` | `{code}` | {_cell(_label(col, code))} | {n:,} | {_pct(n, rows)} |")
    out += ["", "| Variable | Valid | Missing | Missing share |", "|---|---|---|---|"]
    for col in plan.columns:
        if col.name in items:
            continue
        f = freq[col.name]
        out.append(f"| `{col.name}` | {f.valid:,} | {f.missing:,} | {_pct(f.missing, rows)} |")
    return out


_LIST_TITLES = {
    "agency": ("Agencies", "Code | Tên | Name | Administrative unit"),
    "counter": ("Counters", "Agency | Code | Tên | Name"),
    "field": ("Fields of procedure", "Code | Tên | Name"),
    "admin_unit": ("Administrative units", "Code | Name | Level"),
}


def _entry_cells(name: str, e: CodeEntry) -> str:
    if name == "agency":
        return f"`{e.code}` | {_cell(e.label_vi)} | {_cell(e.label_en)} | `{e.parent}`"
    if name == "counter":
        return f"`{e.parent}` | `{e.code}` | {_cell(e.label_vi)} | {_cell(e.label_en)}"
    if name == "admin_unit":
        return f"`{e.code}` | {_cell(e.label_vi)} | {e.parent}"
    return f"`{e.code}` | {_cell(e.label_vi)} | {_cell(e.label_en)}"


def code_lists_markdown(facts: StudyFacts) -> list[str]:
    out = ["## Code lists", "", "Every code of the scope, with its rows in this file (0: none in the period)."]
    for name, (heading, columns) in _LIST_TITLES.items():
        entries = facts.code_lists.get(name, [])
        out += ["", f"### {heading} (`{name}`)", "", f"| {columns} | Rows |", "|---" * (columns.count("|") + 2) + "|"]
        out += [f"| {_entry_cells(name, e)} | {e.rows:,} |" for e in entries]
    return out


# -- JSON (schema 1.1 additions) -------------------------------------------------------------------------------


def _frequency_json(f: Frequency) -> dict[str, Any]:
    return {"valid": f.valid, "missing": f.missing, "missing_codes": list(f.missing_codes), "counts": f.counts}


def study_json(plan: ExportPlan, facts: StudyFacts, data_name: str) -> dict[str, Any]:
    """The keys schema 1.1 adds: ``study``, ``frequencies``, ``code_lists`` (and ``weighting.summary``)."""
    rr = facts.response_rate
    return {
        "study": {
            "title": title(plan),
            "producer": [{"name_vi": vi, "name_en": en} for vi, en in facts.producer],
            "universe": universe(plan),
            "unit_of_analysis": UNIT_OF_ANALYSIS,
            "kind_of_data": KIND_OF_DATA,
            "collection_mode": COLLECTION_MODE,
            "sampling": SAMPLING,
            "period": {"from": plan.date_from.isoformat(), "to": plan.date_to.isoformat()},
            "response_rate": {
                "rate": rr.rate,
                "valid_responses": rr.responses,
                "transactions": rr.transactions,
                "agency_months_with_volumes": rr.agency_months_with_volumes,
                "agency_months": rr.agency_months,
                "description": response_rate_text(facts),
            },
            "citation": citation(plan, facts, data_name),
            "licence": LICENCE,
            "access_conditions": ACCESS,
            "index_definitions": INDEX_DEFINITIONS,
        },
        "frequencies": {name: _frequency_json(f) for name, f in facts.frequencies.items()},
        "code_lists": {
            name: [
                {"code": e.code, "label_vi": e.label_vi, "label_en": e.label_en, "rows": e.rows}
                | ({"agency": e.parent} if name == "counter" else {})
                | ({"admin_unit": e.parent} if name == "agency" else {})
                | ({"level": e.parent} if name == "admin_unit" else {})
                for e in entries
            ]
            for name, entries in facts.code_lists.items()
        },
    }


def weighting_summary_json(facts: StudyFacts) -> list[dict[str, Any]]:
    return [
        {"what": s.what, "agencies": list(s.agencies), "agency_months": s.agency_months}
        for s in facts.weighting_summary
    ]

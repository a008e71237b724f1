"""The codebook (Markdown) and README that travel with every response export.

The weighting and design paragraphs repeat the methodology page (``templates/pages/methodology.*.html``)
word for word, so a file and the indices it reproduces are described the same way.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from analytics.tables import NOT_ANSWERED, NOT_APPLICABLE, STATA_MISSING, Column
from survey.models import Instrument
from survey.services.exports.responses import ExportPlan
from survey.services.exports.schema import export_columns

WEIGHTING_EN = (
    "An agency or field with more respondents does not count for more because of it. Each response carries a "
    "**cell weight**: the agency's completed transactions in that field and month, divided by the valid responses "
    "in the same cell. An agency's weights in a month add up to its transactions.\n\n"
    "- Responses without a field (or in a field without a transaction count) form one pooled cell, which stands "
    "for the transactions of the fields nobody answered for.\n"
    "- If fields without respondents remain, their transactions are spread in proportion over the answered fields; "
    "if the pooled cell has no transactions left to stand for, the agency-month becomes one cell.\n"
    "- If an agency has no transaction counts for a month, the indices are computed **unweighted**, and say so."
)
WEIGHTING_VI = (
    "Cơ quan và lĩnh vực nào có nhiều người trả lời hơn thì không vì thế mà nặng ký hơn. Mỗi phiếu được gán "
    "**trọng số ô**: số hồ sơ đã giải quyết của cơ quan × lĩnh vực × tháng, chia cho số phiếu hợp lệ trong cùng ô "
    "đó. Tổng trọng số của một cơ quan trong một tháng đúng bằng số hồ sơ của cơ quan đó.\n\n"
    "- Phiếu không nêu lĩnh vực (hoặc thuộc lĩnh vực không có số liệu hồ sơ) được gộp thành một ô, đại diện cho số "
    "hồ sơ của các lĩnh vực không có ai trả lời.\n"
    "- Nếu các lĩnh vực không có ai trả lời, số hồ sơ của chúng được chia đều theo tỷ lệ cho các lĩnh vực có người "
    "trả lời; nếu ô gộp không còn hồ sơ nào để đại diện, cả cơ quan trong tháng đó được tính là một ô.\n"
    "- Nếu thiếu số liệu hồ sơ của một cơ quan trong một tháng, chỉ số được tính **không trọng số** và ghi rõ như vậy."
)
DESIGN_EN = (
    "Each agency is a **stratum** (every agency is surveyed). Within it, the **primary sampling unit** is one "
    "counter on one day: people served at the same counter on the same day tend to have similar experiences, so "
    "treating every response as independent would make the intervals falsely narrow. Variances use Taylor "
    "linearisation for a stratified cluster design (with replacement, no finite population correction); the "
    "degrees of freedom are the counter-days with respondents minus the strata, as in R's `survey` package."
)
DESIGN_VI = (
    "Mỗi cơ quan là một **tầng** (mọi cơ quan đều được khảo sát). Trong mỗi tầng, **đơn vị mẫu sơ cấp** là một "
    "quầy trong một ngày: những người được phục vụ tại cùng quầy, cùng ngày thường có trải nghiệm giống nhau, nên "
    "coi từng phiếu là độc lập sẽ làm khoảng tin cậy hẹp giả tạo. Phương sai được tính bằng phương pháp tuyến tính "
    "hóa Taylor cho thiết kế phân tầng, chọn cụm (có hoàn lại, không hiệu chỉnh quần thể hữu hạn); bậc tự do = số "
    "quầy-ngày có người trả lời − số tầng, theo quy ước của gói `survey` của R."
)
COVERAGE_EN = (
    "The intervals express **sampling variability** under the assumption that, within each weighting cell, "
    "respondents are like non-respondents. They do **not** cover self-selection bias, the influence of staff at "
    "the counter, or questions understood differently."
)

_KIND_EN = {
    "text": "text",
    "integer": "integer",
    "number": "number (empty = missing)",
    "score": "answer code",
    "category": "code",
}


def software_versions(app_version: str = "") -> str:
    """SIPAS and the libraries that wrote the file, with their versions."""
    parts = [f"SIPAS {app_version or _version('sipas') or _project_version()}"]
    for dist in ("pyreadstat", "XlsxWriter", "pandas", "numpy"):
        if version := _version(dist):
            parts.append(f"{dist} {version}")
    return ", ".join(parts)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return ""


def _project_version() -> str:
    """The version in pyproject.toml (SIPAS runs from a checkout, not an installed distribution)."""
    try:
        data = tomllib.loads((Path(__file__).resolve().parents[3] / "pyproject.toml").read_text(encoding="utf-8"))
        return str(data["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "development"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _codes(col: Column) -> str:
    if col.kind == "score":
        return "see *Answer codes*"
    if col.kind == "category":
        return "; ".join(f"`{c.value}` ({c.code}) {c.label_vi} / {c.label_en}" for c in col.categories)
    return ""


def _filters(plan: ExportPlan) -> list[str]:
    f = plan.filters()
    lines = [
        f"- Agencies (scope): {len(f['agencies'])}: {', '.join(f['agencies'])}",
        f"- Period (local date received, inclusive): {f['date_from']} to {f['date_to']}",
        f"- Instrument: {f['instrument']}",
        f"- Status: {f['status']}",
        f"- Comments included: {'yes' if f['comments'] else 'no'}",
    ]
    if f["sample"]:
        s = f["sample"]
        how = "stratified by agency, proportional allocation (largest remainder)" if s["stratified_by_agency"] else ""
        lines.append(
            f"- Sample: {s['size']:,} requested, {s['drawn']:,} drawn, seed {s['seed']}"
            f"{', ' + how if how else ''}; drawn with `numpy.random.default_rng(seed).choice(N, n, replace=False)` "
            "over the matching responses sorted by `response_id` (per agency, in code order, when stratified). "
            "`sample_factor` = N_h / n_h: multiply `weight` by it for totals; shares and means within an agency "
            "are unaffected."
        )
    return lines


def codebook_markdown(plan: ExportPlan, rows: int, data_name: str, app_version: str = "") -> str:
    """The codebook of one export, in Markdown (Vietnamese and English)."""
    ins = plan.instrument
    out = [
        f"# SIPAS — sổ tay biến / codebook: {data_name}",
        "",
        f"- Rows (one per response): {rows:,}",
        f"- Generated: {plan.generated_at:%Y-%m-%d %H:%M:%S} UTC",
        f"- Software: {software_versions(app_version)}",
        f"- Format: {plan.request.format}",
        "",
        "## Filters used",
        "",
        *_filters(plan),
        "",
        "## Instrument",
        "",
        f"{ins.code} version {ins.version} ({ins.method}): {ins.name_vi} / {ins.name_en}.",
        "",
        "## Answer codes",
        "",
        "| Code | Tiếng Việt | English |",
        "|---|---|---|",
    ]
    for level in ins.scale["levels"]:
        out.append(f"| {level['value']} | {level['vi']} | {level['en']} |")
    out += [
        f"| {NOT_APPLICABLE} | {ins.scale['not_applicable']['vi']} | {ins.scale['not_applicable']['en']} "
        "(answered, no score) |",
        f"| {NOT_ANSWERED} | Không trả lời | Not answered (left blank) |",
        "",
        f"Levels {ins.scale.get('satisfied_from', 4)}–{ins.scale['levels'][-1]['value']} count as satisfied. "
        f"Codes {NOT_APPLICABLE} and {NOT_ANSWERED} are never scores: **exclude them before averaging**. "
        f"SPSS (.sav) declares them user-missing; Stata (.dta) stores them as the extended missing values "
        f".{STATA_MISSING[NOT_APPLICABLE]} and .{STATA_MISSING[NOT_ANSWERED]}; CSV and Excel carry the numbers "
        f"{NOT_APPLICABLE} and {NOT_ANSWERED}.",
        "",
        "## Weighting",
        "",
        f"This file: **{plan.weights.weighting}** (computed for the period and agencies above, exactly as the "
        "indices are). `weight` is empty for excluded responses, which are outside every estimate.",
    ]
    out += [f"- Note: {note}" for note in plan.weights.notes]
    out += ["", WEIGHTING_EN, "", WEIGHTING_VI, "", "## Design", "", f"`{plan.weights.design}`.", "", DESIGN_EN]
    out += ["", DESIGN_VI, "", COVERAGE_EN, "", "Reproduce the estimates (valid responses only):", "", "```"]
    out += [
        "# R",
        'd <- subset(d, status == "valid"); for (v in items) d[[v]][d[[v]] %in% c(8, 9)] <- NA',
        "des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, data = d, nest = TRUE)",
        "# Stata",
        "svyset psu [pweight = weight], strata(stratum) vce(linearized) singleunit(certainty)",
        "# SPSS",
        "CSPLAN ANALYSIS /PLAN FILE='sipas.csaplan' /PLANVARS ANALYSISWEIGHT=weight",
        "  /DESIGN STRATA=stratum CLUSTER=psu /ESTIMATOR TYPE=WR.",
        "```",
        "",
        "## Variables",
        "",
        "| Name | Nhãn (tiếng Việt) | Label (English) | Type | Codes |",
        "|---|---|---|---|---|",
    ]
    for col in plan.columns:
        out.append(
            f"| `{col.name}` | {_cell(col.label_vi)} | {_cell(col.label_en)} | {_KIND_EN[col.kind]} | {_codes(col)} |"
        )
    out += [
        "",
        "Coded variables: CSV and Excel hold the text code (`female`); SPSS and Stata hold the number in brackets "
        "with the Vietnamese label attached. Empty = not given.",
        "",
        "## Items (full wording)",
        "",
        "| Code | Element | Tiếng Việt | English | Not applicable offered | Optional |",
        "|---|---|---|---|---|---|",
    ]
    for item in ins.items:
        out.append(
            f"| `{item.code}` | {item.element.code} | {_cell(item.text_vi)} | {_cell(item.text_en)} | "
            f"{'yes' if item.allows_na else 'no'} | {'yes' if item.optional else 'no'} |"
        )
    out += [
        "",
        "## Privacy",
        "",
        "Responses carry no identity. Comments (when included) had phone numbers, ID numbers and e-mail "
        "addresses removed before they were stored. Dossier codes are never exported.",
        "",
    ]
    return "\n".join(out)


def readme(plan: ExportPlan, data_name: str) -> str:
    """A short plain-text README for the ZIP bundle."""
    return (
        f"SIPAS response export\n=====================\n\n"
        f"{data_name}   the data, one row per response ({plan.request.format})\n"
        f"codebook.md   variables, labels, answer codes, filters, weighting and design\n\n"
        f"Instrument {plan.instrument.label}, {plan.date_from} to {plan.date_to}, "
        f"{len(plan.agency_codes)} agencies, status {plan.request.status}.\n"
        f"Item answers: 1-5 score, {NOT_APPLICABLE} = not applicable, {NOT_ANSWERED} = not answered "
        "(exclude both before averaging).\n"
        "Design: strata = stratum, PSU = psu, weight = weight (see codebook.md).\n"
    )


# -- the codebook of an instrument as data, for the HTML page (before any export is made) ----------------------


@dataclass(frozen=True)
class AnswerCode:
    code: int
    label_vi: str
    label_en: str
    #: "satisfied", "score" or "missing" (not applicable / not answered: never a score).
    role: str


@dataclass(frozen=True)
class InstrumentCodebook:
    """What every export of ``instrument`` holds: variables, answer codes, item wording, weighting and design."""

    instrument: Instrument
    columns: list[Column]
    answer_codes: list[AnswerCode]
    satisfied_from: int
    stata_missing: dict[int, str]
    #: Markdown paragraphs (bold with ``**``), by language: the export codebook's own wording.
    weighting: dict[str, str]
    design: dict[str, str]
    coverage_en: str


def instrument_codebook(instrument: Instrument) -> InstrumentCodebook:
    """The codebook of an instrument: the variables of an export with comments and a sample factor included."""
    scale = instrument.scale
    satisfied = int(scale.get("satisfied_from", 4))
    codes = [
        AnswerCode(
            int(level["value"]), level["vi"], level["en"], "satisfied" if level["value"] >= satisfied else "score"
        )
        for level in scale["levels"]
    ]
    codes.append(AnswerCode(NOT_APPLICABLE, scale["not_applicable"]["vi"], scale["not_applicable"]["en"], "missing"))
    codes.append(AnswerCode(NOT_ANSWERED, "Không trả lời", "Not answered (left blank)", "missing"))
    return InstrumentCodebook(
        instrument=instrument,
        columns=export_columns(instrument, sample=True, comments=True),
        answer_codes=codes,
        satisfied_from=satisfied,
        stata_missing=dict(STATA_MISSING),
        weighting={"vi": WEIGHTING_VI, "en": WEIGHTING_EN},
        design={"vi": DESIGN_VI, "en": DESIGN_EN},
        coverage_en=COVERAGE_EN,
    )

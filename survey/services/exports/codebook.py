"""The codebooks (Markdown for people, JSON for programs) and README that travel with every response export.

The weighting and design paragraphs repeat the methodology page (``templates/pages/methodology.*.html``)
word for word, so a file and the indices it reproduces are described the same way. The JSON codebook
(``<data file stem>.codebook.json``, schema in :mod:`analytics.codebook_file`) states the same facts as
data: ``python -m analytics estimate DATA --codebook DATA.codebook.json`` reads it and estimates what
the dashboard shows for the same scope and period.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from analytics.codebook_file import SCHEMA, SCHEMA_VERSION, codebook_name
from analytics.tables import (
    FORMULA_TRIGGERS,
    NOT_ANSWERED,
    NOT_APPLICABLE,
    NOT_ASKED,
    NOT_ASKED_LABEL,
    STATA_MISSING,
    Column,
)
from survey.models import Instrument
from survey.models.codes import RESPONSE_STATUSES
from survey.services.exports import archive, formats
from survey.services.exports.responses import ExportPlan
from survey.services.exports.schema import category_column, export_columns
from survey.services.exports.study import StudyFacts

WEIGHTING_EN = (
    "An agency or field with more respondents does not count for more because of it. Each response carries a "
    "**cell weight**: the agency's completed transactions in that field and month, divided by the valid responses "
    "in the same cell. An agency's weights in a month add up to its transactions.\n\n"
    "- Responses without a field (or in a field without a transaction count) form one pooled cell, which stands "
    "for the transactions of the fields nobody answered for.\n"
    "- If fields without respondents remain, their transactions are spread in proportion over the answered fields; "
    "if the pooled cell has no transactions left to stand for, the agency-month becomes one cell.\n\n"
    "Transaction counts for a month are entered after it ends, so the latest month (and sometimes an older one) has "
    "responses but no counts yet. Only those agency-months get **imputed** weights; every other cell keeps its own, "
    "so no other agency's figures move:\n\n"
    "- An agency-month without counts takes the counts of the **agency's latest earlier month** with counts (at most "
    "12 months back), field by field, and is weighted with them as above; an agency whose counts only start later "
    "takes its earliest later month (at most 12 months ahead). A month's counts are the best guide to the next "
    "one's, and the result does not depend on the period asked for.\n"
    "- An agency with no counts within 12 months counts each of its responses at the **median weight per response** "
    "of the agency-months in scope that have their own counts: it weighs in the province like a typical agency per "
    "response, and its own figures are as unweighted.\n"
    "- Only if no agency in scope has counts within reach are the indices computed **unweighted**, and say so.\n"
    "- Every figure states the rule applied, how many agency-months it touches and their share of the weight, and "
    "flags a month that is not over yet. By default a dashboard shows the period of the last response in a month "
    "with counts, and an export without an end date ends with that response; a later period can still be chosen."
)
WEIGHTING_VI = (
    "Cơ quan và lĩnh vực nào có nhiều người trả lời hơn thì không vì thế mà nặng ký hơn. Mỗi phiếu được gán "
    "**trọng số ô**: số hồ sơ đã giải quyết của cơ quan × lĩnh vực × tháng, chia cho số phiếu hợp lệ trong cùng ô "
    "đó. Tổng trọng số của một cơ quan trong một tháng đúng bằng số hồ sơ của cơ quan đó.\n\n"
    "- Phiếu không nêu lĩnh vực (hoặc thuộc lĩnh vực không có số liệu hồ sơ) được gộp thành một ô, đại diện cho số "
    "hồ sơ của các lĩnh vực không có ai trả lời.\n"
    "- Nếu các lĩnh vực không có ai trả lời, số hồ sơ của chúng được chia đều theo tỷ lệ cho các lĩnh vực có người "
    "trả lời; nếu ô gộp không còn hồ sơ nào để đại diện, cả cơ quan trong tháng đó được tính là một ô.\n\n"
    "Số liệu hồ sơ của một tháng chỉ được nhập sau khi tháng đó kết thúc, nên tháng gần nhất (đôi khi cả một tháng "
    "trước đó) đã có phiếu nhưng chưa có số liệu hồ sơ. Chỉ những cơ quan-tháng đó được gán trọng số **ước tính bổ "
    "sung**; mọi ô khác giữ nguyên trọng số của mình, nên số liệu của các cơ quan khác không thay đổi:\n\n"
    "- Cơ quan-tháng chưa có số liệu hồ sơ được lấy số hồ sơ của **tháng gần nhất trước đó có số liệu của chính cơ "
    "quan đó** (lùi tối đa 12 tháng), theo từng lĩnh vực, rồi tính trọng số như trên; cơ quan chỉ có số liệu từ các "
    "tháng sau thì lấy tháng gần nhất sau đó (tối đa 12 tháng). Số hồ sơ của một tháng là căn cứ tốt nhất cho tháng "
    "kế tiếp, và kết quả không phụ thuộc vào kỳ được chọn xem.\n"
    "- Cơ quan không có số liệu hồ sơ nào trong vòng 12 tháng thì mỗi phiếu của cơ quan được gán **trọng số trung vị "
    "trên một phiếu** của các cơ quan-tháng có số liệu trong phạm vi: cơ quan đó có sức nặng trong toàn tỉnh như một "
    "cơ quan điển hình tính theo phiếu, còn số liệu riêng của cơ quan như khi không trọng số.\n"
    "- Chỉ khi không cơ quan nào trong phạm vi có số liệu hồ sơ, chỉ số mới được tính **không trọng số** và ghi rõ "
    "như vậy.\n"
    "- Mỗi con số đều ghi rõ quy tắc đã áp dụng, số cơ quan-tháng liên quan và tỷ lệ trọng số của chúng, và đánh dấu "
    "tháng chưa kết thúc. Mặc định, bảng điều khiển hiển thị kỳ chứa phiếu cuối cùng thuộc một tháng đã có số liệu "
    "hồ sơ, và tệp xuất không ghi ngày kết thúc sẽ dừng ở phiếu đó; vẫn có thể chọn kỳ muộn hơn."
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

#: The design the dashboard's intervals use (``survey.services.statistics.indices``: lonely PSUs as certainty
#: units); the JSON codebook states it so ``python -m analytics estimate`` uses the same one by default.
LONELY_PSU = "certainty"
#: The export's design and status columns (``survey.services.exports.schema``) and the status that counts.
WEIGHT_COLUMN, STRATUM_COLUMN, PSU_COLUMN, STATUS_COLUMN = "weight", "stratum", "psu", "status"
VALID_STATUS = "valid"
assert VALID_STATUS in RESPONSE_STATUSES
#: Item codes that are never scores, by the meaning the JSON codebook gives them.
MISSING_MEANINGS = {NOT_APPLICABLE: "not_applicable", NOT_ANSWERED: "not_answered"}
UNANSWERED_RULE = (
    "an item without a valid answer in the data is left out of its element, and an element left without items "
    "out of the overall index"
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


def codebook_markdown(
    plan: ExportPlan,
    rows: int,
    data_name: str,
    app_version: str = "",
    *,
    json_name: str | None = None,
    study: StudyFacts | None = None,
    ddi_name: str | None = None,
) -> str:
    """The codebook of one export, in Markdown (Vietnamese and English); ``json_name`` is the machine-readable
    codebook beside it (default: named after ``data_name``), ``ddi_name`` the DDI-Codebook 2.5 file. With
    ``study`` (:func:`survey.services.exports.study.describe_study`) it is archive-grade: study description,
    weighting summary, frequencies and code lists."""
    ins = plan.instrument
    json_name = json_name or codebook_name(data_name)
    out = [
        f"# SIPAS — sổ tay biến / codebook: {data_name}",
        "",
        f"- Data file: `{data_name}` ({plan.request.format})",
        f"- Rows (one per response): {rows:,}",
        f"- Generated: {plan.generated_at:%Y-%m-%d %H:%M:%S} UTC",
        f"- Software: {software_versions(app_version)}",
        f"- Machine-readable codebooks: `{json_name}` (JSON)"
        + (f", `{ddi_name}` (DDI-Codebook 2.5 XML)" if ddi_name else ""),
        "",
        *(archive.study_markdown(plan, study, data_name) + [""] if study else []),
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
    if study and study.weighting_summary:
        out += ["", *archive.weighting_summary_markdown(study, plan.weights.notes)]
    else:
        out += [f"- Note: {note}" for note in plan.weights.notes]
    out += ["", WEIGHTING_EN, "", WEIGHTING_VI, "", "## Design", "", f"`{plan.weights.design}`.", "", DESIGN_EN]
    out += ["", DESIGN_VI, "", COVERAGE_EN, "", *archive.index_markdown(plan), ""]
    out += ["## Reproduce the estimates", "", "Valid responses only:", "", "```"]
    out += [
        *r_recipe(plan, data_name),
        "# Stata",
        "svyset psu [pweight = weight], strata(stratum) vce(linearized) singleunit(certainty)",
        "# SPSS (CSPLAN needs the SPSS Complex Samples module)",
        "CSPLAN ANALYSIS /PLAN FILE='sipas.csaplan' /PLANVARS ANALYSISWEIGHT=weight",
        "  /DESIGN STRATA=stratum CLUSTER=psu /ESTIMATOR TYPE=WR.",
        "# Python (the machine-readable codebook, below, sets items, elements, design and the status filter)",
        f"python -m analytics estimate --codebook {json_name}",
        "```",
        "",
        "A bundle (ZIP) also holds `indices.csv`, the figures the application publishes for this scope and "
        "period (overall index, elements, criteria: share and mean score, with SE, interval, df, n, flags), and "
        "`analysis.R`, which recomputes them from the data file into `indices-r.csv` (`Rscript analysis.R`); "
        "`analysis.sps` (weighted shares; tested in PSPP on .sav and CSV files, its Complex Samples part and its "
        ".xlsx read step untested) with a .sav, CSV or Excel file; `analysis.do` (untested: no Stata) with a .dta, "
        "CSV or Excel file. A subsample has none of these. Every bundle also holds `codebook.json` (the JSON "
        "codebook under a fixed name) and `codebook.ddi.xml` (DDI-Codebook 2.5).",
        "",
        *_file_notes(plan),
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
    if study:
        out += ["", *archive.frequencies_markdown(plan, study), "", *archive.code_lists_markdown(study)]
    out += ["", *_json_section(json_name)]
    if ddi_name:
        out += ["", *_ddi_section(ddi_name)]
    out += ["", "## Privacy"]
    out += [
        "",
        "Responses carry no identity. Comments (when included) had phone numbers, ID numbers and e-mail "
        "addresses removed before they were stored. Dossier codes are never exported.",
        "",
    ]
    return "\n".join(out)


def r_recipe(plan: ExportPlan, data_name: str) -> list[str]:
    """R lines that run verbatim beside the data file: read it, keep valid responses, set 8/9 to NA, the design."""
    fmt = plan.request.format
    items = ", ".join(f'"{code}"' for code in plan.item_codes)
    valid_code = category_column(STATUS_COLUMN).numeric_codes[VALID_STATUS]
    if fmt == "csv":
        read = [f'd <- read.csv("{data_name}", fileEncoding = "UTF-8-BOM", na.strings = "")']
        keep = f'd <- subset(d, {STATUS_COLUMN} == "{VALID_STATUS}")'
    elif fmt == "xlsx":
        read = [f'd <- as.data.frame(readxl::read_xlsx("{data_name}", sheet = "data"))']
        keep = f'd <- subset(d, {STATUS_COLUMN} == "{VALID_STATUS}")'
    else:
        reader = "read_sav" if fmt == "sav" else "read_dta"
        read = [
            f"# haven reads the codes (8/9 become NA); foreign::read.spss would turn {STATUS_COLUMN} into its label",
            f'd <- as.data.frame(haven::zap_labels(haven::{reader}("{data_name}")))',
        ]
        keep = f'd <- subset(d, {STATUS_COLUMN} == {valid_code})  # {VALID_STATUS} ("Hợp lệ")'
    return [
        "# R (runs verbatim beside the data file)",
        "library(survey)",
        *read,
        f"items <- c({items})",
        keep,
        f"for (v in items) d[[v]][d[[v]] %in% c({NOT_APPLICABLE}, {NOT_ANSWERED})] <- NA",
        f'options(survey.lonely.psu = "{LONELY_PSU}")',
        "des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, data = d, nest = TRUE)",
        f"svyciprop(~I({plan.item_codes[0]} >= {int(plan.instrument.scale.get('satisfied_from', 4))}), "
        f"subset(des, !is.na({plan.item_codes[0]})), method = \"beta\")  # one item's share, R's own interval",
    ]


def _file_notes(plan: ExportPlan) -> list[str]:
    """What each format does to the text, dates and labels (how to open a file without damage)."""
    triggers = " ".join(t for t in FORMULA_TRIGGERS if t.isprintable())
    return [
        "## Reading the file",
        "",
        '- **CSV**: UTF-8 with a byte-order mark, comma-separated, `"` quotes, one header row; empty = missing. '
        "In LibreOffice choose *Character set: Unicode (UTF-8)*, *Separated by: Comma* and set the column "
        "`admin_unit` to *Text* (its official codes are digits only, and leading zeros would be lost); every other "
        "code starts with a letter or holds a dash (the age band over 60 is exported as `over-60`, stored as `60+`, "
        "which a spreadsheet would turn into the number 60), so it stays text. Or open the Excel file (.xlsx), "
        "which needs no import settings. "
        f"A text cell that starts with {triggers} (or a tab or carriage return) gets a leading `'` so that a "
        "spreadsheet never runs it as a formula (numbers are never prefixed); line breaks inside comments and "
        "exclusion reasons are replaced by spaces so every response is one line. Excel, SPSS and Stata files "
        "hold the text as stored.",
        "- **Dates**: `date` is a real date in SPSS (DATE11), Stata (%td) and Excel (a date cell, number format "
        f"`{formats.XLSX_DATE_FORMAT}`); ISO text (YYYY-MM-DD) in CSV. `period` is the month as text (YYYY-MM).",
        f"- **Stata**: release {formats.STATA_RELEASE} (Stata 14 or later). Variable labels longer than "
        f"{formats.STATA_LABEL_CHARS} characters (Stata's limit) are cut and end with `…`: the full wording of "
        "every question is under *Items* below.",
        f"- **SPSS**: variable labels are cut at {formats.SPSS_LABEL_BYTES} bytes (UTF-8) in the same way.",
    ]


def _json_section(json_name: str) -> list[str]:
    """The Markdown codebook's description of the JSON codebook (the schema, key by key)."""
    major = SCHEMA_VERSION.split(".")[0]
    return [
        "## Machine-readable codebook",
        "",
        f"`{json_name}` holds what this codebook says, as data for programs: schema `{SCHEMA}`, version "
        f"`{SCHEMA_VERSION}`. A minor version only adds keys (ignore keys you do not know); a key that changes "
        f"meaning or goes away makes a new major version, so a reader of {major}.x reads every {major}.x file.",
        "",
        "| Key | Holds |",
        "|---|---|",
        "| `schema`, `schema_version` | the schema's name and version (`MAJOR.MINOR`) |",
        "| `data_file`, `format`, `rows`, `generated_at`, `software` | the data file beside this codebook, its "
        "format and data rows, when (UTC) and by what it was written |",
        "| `instrument` | `code`, `version`, `label`, `name_vi`, `name_en`, `method`: the questionnaire version |",
        "| `period`, `scope` | `from`/`to` (local dates received, inclusive); `agencies` (codes), `status`, "
        "`comments`, `sample` (null, or size, seed, stratification, rows drawn, `factor_column`) |",
        f"| `status` | `column` (`{STATUS_COLUMN}`) and the `valid` value (`{VALID_STATUS}`): only those rows "
        "enter an estimate; `values`: every status |",
        "| `weighting` | `rule` (as the dashboard states it), `weighted` (false: every valid response weighs 1), "
        "`notes` |",
        "| `design` | `weight`, `strata`, `psu` (columns, one per stage, stage 1 first), `fpc` (columns, one per "
        "stage), `lonely_psu` (R's `survey.lonely.psu`), `description`: the design of the dashboard's intervals |",
        "| `scale` | `valid_codes` (scores), `satisfied_from`, `levels` (code, labels), `missing_codes` (`code`, "
        f"`meaning`: `not_applicable` = {NOT_APPLICABLE}, `not_answered` = {NOT_ANSWERED}; labels), "
        "`spss_user_missing`, `stata_missing` |",
        "| `items` | per item column, in file order: `column`, `label_vi`, `label_en`, `element`, `weight` (within "
        "the element), `valid_codes`, `missing_codes` (code → meaning), `not_applicable_offered`, `optional` |",
        "| `groups` | `definition` (composite A/B/C), `item_statistic`, `elements` (element name → `label_vi`, "
        "`label_en`, `weight` in the overall index, `items`: column → weight), `overall` (`name`, `of`, `rule`), "
        "`unanswered` (the rule for items without valid answers) |",
        "| `csv` | CSV files only (else null): `delimiter`, `quotechar`, `encoding`, `line_terminator`, "
        "`header_rows`, `missing_value`, `formula_guard` (`prefix` put before a text cell starting with one of "
        "`triggers`; numbers are never prefixed) |",
        "| `columns` | every column in file order: `name`, `label_vi`, `label_en`, `kind`, `categories` |",
        "| `study` (1.1) | `title`, `producer`, `universe`, `unit_of_analysis`, `kind_of_data`, `collection_mode`, "
        "`sampling`, `period`, `response_rate` (`rate`, `valid_responses`, `transactions`, agency-months with "
        "volumes and in all, `description`), `citation`, `licence`, `access_conditions`, `index_definitions` |",
        "| `frequencies` (1.1) | per column: `valid`, `missing` (rows), `missing_codes`, `counts` (code → rows; "
        '`""` = empty; items: every answer code) |',
        "| `code_lists` (1.1) | `agency`, `counter`, `field`, `admin_unit`: every code of the scope with `label_vi`, "
        "`label_en`, `rows` (and a counter's `agency`, an agency's `admin_unit`, a unit's `level`) |",
        "| `weighting.summary` (1.1) | the notes as a table: `what`, `agencies` (codes), `agency_months` |",
    ]


def _ddi_section(ddi_name: str) -> list[str]:
    """Which DDI-Codebook 2.5 elements the XML file fills."""
    from survey.services.exports.ddi import FILLED_ELEMENTS

    return [
        "## DDI-Codebook 2.5",
        "",
        f"`{ddi_name}` describes this file in DDI-Codebook 2.5 (namespace `ddi:codebook:2_5`), for data archives "
        "and catalogues (NADA, Dataverse). Filled elements:",
        "",
        *[f"- `{path}`: {what}" for path, what in FILLED_ELEMENTS],
    ]


def _labels(col: Column) -> list[dict[str, Any]]:
    return [{"code": c.code, "value": c.value, "label_vi": c.label_vi, "label_en": c.label_en} for c in col.categories]


def codebook_json(
    plan: ExportPlan, rows: int, data_file: str, app_version: str = "", *, study: StudyFacts | None = None
) -> dict[str, Any]:
    """The machine-readable codebook of one export (schema :data:`analytics.codebook_file.SCHEMA_VERSION`).

    ``data_file`` is the name of the data file the codebook lies beside (the codebook is
    ``analytics.codebook_file.codebook_name(data_file)``); with ``study`` the 1.1 keys are filled (without it
    ``study``, ``frequencies`` and ``code_lists`` are null and ``weighting.summary`` empty).
    """
    ins = plan.instrument
    names = [c.name for c in plan.columns]
    assert {WEIGHT_COLUMN, STRATUM_COLUMN, PSU_COLUMN, STATUS_COLUMN} <= set(names)
    scale = ins.scale
    valid_codes = [int(level["value"]) for level in scale["levels"]]
    missing_labels = {
        NOT_APPLICABLE: (scale["not_applicable"]["vi"], scale["not_applicable"]["en"]),
        NOT_ANSWERED: ("Không trả lời", "Not answered (left blank)"),
    }
    meanings, stata = dict(MISSING_MEANINGS), {c: x for c, x in STATA_MISSING.items() if c != NOT_ASKED}
    if ins.rotation is not None:  # a split questionnaire: the criteria not asked are missing by design (7)
        meanings, stata = {NOT_ASKED: "not_asked", **meanings}, dict(STATA_MISSING)
        missing_labels[NOT_ASKED] = NOT_ASKED_LABEL
    missing_codes = {str(code): meaning for code, meaning in meanings.items()}
    filters = plan.filters()
    sample = filters["sample"]
    aggregation = ins.aggregation
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "data_file": data_file,
        "format": plan.request.format,
        "rows": rows,
        "generated_at": f"{plan.generated_at:%Y-%m-%dT%H:%M:%SZ}",
        "software": software_versions(app_version),
        "instrument": {
            "code": ins.code,
            "version": ins.version,
            "label": ins.label,
            "name_vi": ins.name_vi,
            "name_en": ins.name_en,
            "method": ins.method,
        },
        "period": {"from": filters["date_from"], "to": filters["date_to"]},
        "scope": {
            "agencies": filters["agencies"],
            "status": filters["status"],
            "comments": filters["comments"],
            "sample": None if sample is None else {**sample, "factor_column": "sample_factor"},
        },
        "status": {"column": STATUS_COLUMN, "valid": VALID_STATUS, "values": list(RESPONSE_STATUSES)},
        "weighting": {
            "rule": plan.weights.weighting,
            "weighted": bool(plan.weights.factors),
            "notes": list(plan.weights.notes),
            "summary": archive.weighting_summary_json(study) if study else [],
        },
        "design": {
            "weight": WEIGHT_COLUMN,
            "strata": STRATUM_COLUMN,
            "psu": [PSU_COLUMN],
            "fpc": [],
            "lonely_psu": LONELY_PSU,
            "description": plan.weights.design,
        },
        "scale": {
            "valid_codes": valid_codes,
            "satisfied_from": int(scale.get("satisfied_from", 4)),
            "levels": [
                {"code": int(level["value"]), "label_vi": level["vi"], "label_en": level["en"]}
                for level in scale["levels"]
            ],
            "missing_codes": [
                {
                    "code": code,
                    "meaning": meaning,
                    "label_vi": missing_labels[code][0],
                    "label_en": missing_labels[code][1],
                }
                for code, meaning in meanings.items()
            ],
            "spss_user_missing": list(meanings),
            "stata_missing": {str(code): f".{letter}" for code, letter in stata.items()},
        },
        "items": [
            {
                "column": item.code,
                "label_vi": item.text_vi,
                "label_en": item.text_en,
                "element": item.element.code,
                "weight": float(item.weight),
                "valid_codes": valid_codes,
                "missing_codes": missing_codes,
                "not_applicable_offered": bool(item.allows_na),
                "optional": bool(item.optional),
            }
            for item in ins.items
        ],
        "groups": {
            "definition": aggregation.get("definition", "A"),
            "item_statistic": aggregation.get("item", "top2box"),
            "elements": {
                element.code: {
                    "label_vi": element.name_vi,
                    "label_en": element.name_en,
                    "weight": float(element.weight),
                    "items": {item.code: float(item.weight) for item in element.items},
                }
                for element in ins.elements
            },
            "overall": {
                "name": "overall",
                "of": "elements",
                "rule": aggregation.get("overall", "weighted_mean_of_elements"),
            },
            "unanswered": UNANSWERED_RULE,
        },
        "csv": None
        if plan.request.format != "csv"
        else {
            "delimiter": formats.CSV_DELIMITER,
            "quotechar": formats.CSV_QUOTECHAR,
            "encoding": formats.CSV_ENCODING,
            "line_terminator": formats.CSV_LINE_TERMINATOR,
            "header_rows": 1,
            "missing_value": "",
            "formula_guard": {"prefix": "'", "triggers": list(FORMULA_TRIGGERS), "applies_to": "text cells"},
        },
        "columns": [
            {
                "name": col.name,
                "label_vi": col.label_vi,
                "label_en": col.label_en,
                "kind": col.kind,
                **({"categories": _labels(col)} if col.categories else {}),
            }
            for col in plan.columns
        ],
        **(
            archive.study_json(plan, study, data_file)
            if study
            else {"study": None, "frequencies": None, "code_lists": None}
        ),
    }


def codebook_json_text(
    plan: ExportPlan, rows: int, data_file: str, app_version: str = "", *, study: StudyFacts | None = None
) -> str:
    """:func:`codebook_json` as UTF-8 JSON text (indented, Vietnamese as it is)."""
    book = codebook_json(plan, rows, data_file, app_version, study=study)
    return json.dumps(book, ensure_ascii=False, indent=2) + "\n"


#: What each file of the reproducibility pack holds (README.txt of a bundle).
PACK_FILES = {
    "indices.csv": "the published figures for this scope and period (overall, elements, criteria)",
    "analysis.R": "Rscript analysis.R recomputes them from the data file into indices-r.csv",
    "analysis.sps": "SPSS/PSPP syntax: weighted shares (Complex Samples part untested)",
    "codebook.json": "the JSON codebook again, under a fixed name",
    "codebook.ddi.xml": "DDI-Codebook 2.5: study, file and variables with categories and frequencies",
    "analysis.do": "Stata do-file (untested)",
}


def readme(plan: ExportPlan, data_name: str, *, pack: Sequence[str] = ()) -> str:
    """A short plain-text README for the ZIP bundle; ``pack``: the names of its other files (reproducibility pack,
    ``codebook.json``, ``codebook.ddi.xml``), each described by :data:`PACK_FILES`."""
    json_name = codebook_name(data_name)
    files = [
        (data_name, f"the data, one row per response ({plan.request.format})"),
        ("codebook.md", "variables, labels, answer codes, frequencies, code lists, study, weighting and design"),
        (json_name, f"the same as data for programs (schema {SCHEMA} {SCHEMA_VERSION})"),
    ]
    files += [(name, PACK_FILES[name]) for name in pack]
    width = max(len(name) for name, _ in files)
    listing = "".join(f"{name:<{width}}   {what}\n" for name, what in files)
    csv_note = (
        "CSV: UTF-8 (with BOM), comma-separated. In LibreOffice choose Unicode (UTF-8) and Comma, and set the\n"
        "column admin_unit to Text (digit codes keep their leading zeros), or open an .xlsx export instead.\n"
        "The age band over 60 is the code over-60 (never coerced to a number). Text starting with\n"
        "= + - @ has a leading ' (formula guard); line breaks in comments are replaced by spaces.\n"
        if plan.request.format == "csv"
        else ""
    )
    return (
        f"SIPAS response export\n=====================\n\n{listing}\n"
        f"Instrument {plan.instrument.label}, {plan.date_from} to {plan.date_to}, "
        f"{len(plan.agency_codes)} agencies, status {plan.request.status}.\n"
        f"Item answers: 1-5 score, {NOT_APPLICABLE} = not applicable, {NOT_ANSWERED} = not answered "
        "(exclude both before averaging).\n"
        "Design: strata = stratum, PSU = psu, weight = weight (see codebook.md).\n"
        f"{csv_note}"
        f"Estimates as on the dashboard: python -m analytics estimate --codebook {json_name}\n"
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
    if instrument.rotation is not None:  # a split questionnaire: criteria not asked are missing by design
        codes.append(AnswerCode(NOT_ASKED, *NOT_ASKED_LABEL, "missing"))
    return InstrumentCodebook(
        instrument=instrument,
        columns=export_columns(instrument, sample=True, comments=True),
        answer_codes=codes,
        satisfied_from=satisfied,
        stata_missing={c: x for c, x in STATA_MISSING.items() if c != NOT_ASKED or instrument.rotation is not None},
        weighting={"vi": WEIGHTING_VI, "en": WEIGHTING_EN},
        design={"vi": DESIGN_VI, "en": DESIGN_EN},
        coverage_en=COVERAGE_EN,
    )

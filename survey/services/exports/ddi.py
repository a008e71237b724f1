"""A DDI-Codebook 2.5 description of an export (``codebook.ddi.xml`` in a bundle, ``<stem>.ddi.xml`` beside a file).

Written with the standard library's ``xml.etree.ElementTree`` in the DDI 2.5 namespace ``ddi:codebook:2_5``,
elements in the order the DDI 2.5 schema gives them, so archives and catalogues (NADA, Dataverse) can load
the study, the file and every variable with its categories and frequencies. :data:`FILLED_ELEMENTS` says
which elements are filled (the Markdown codebook repeats it). The file is not validated against the DDI
XSD here (no schema validator is installed); the tests parse it and check every variable and category.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from analytics.tables import Column
from survey.services.exports import archive
from survey.services.exports.responses import ExportPlan
from survey.services.exports.study import StudyFacts

NAMESPACE = "ddi:codebook:2_5"
SCHEMA_LOCATION = "ddi:codebook:2_5 https://ddialliance.org/Specification/DDI-Codebook/2.5/XMLSchema/codebook.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
FILE_ID = "F1"
BUNDLE_NAME = "codebook.ddi.xml"
SUFFIX = ".ddi.xml"

#: Element paths filled, and with what (stated in the Markdown codebook and the README).
FILLED_ELEMENTS = (
    ("docDscr/citation", "title, producer, production date and software of this description"),
    ("stdyDscr/citation/titlStmt", "title and identifier (instrument, period)"),
    ("stdyDscr/citation/rspStmt/AuthEnty, prodStmt/producer", "the highest agencies of the scope"),
    ("stdyDscr/citation/biblCit", "the citation"),
    ("stdyDscr/stdyInfo/abstract", "what the file holds"),
    ("stdyDscr/stdyInfo/sumDscr", "timePrd and collDate (start, end), nation, anlyUnit, universe, dataKind"),
    ("stdyDscr/method/dataColl", "sampProc, collMode, weight (the weighting rule and its notes summarised)"),
    ("stdyDscr/method/anlyInfo/respRate", "responses against transaction volumes"),
    ("stdyDscr/dataAccs/useStmt", "restrctn (access conditions), citReq, conditions (licence)"),
    ("fileDscr/fileTxt", "fileName, dimensns (caseQnty, varQnty), fileType"),
    (
        "dataDscr/var",
        "per column: labl (vi, en), qstn/qstnLit (items), sumStat vald/invd, catgry (catValu, labl, catStat freq; "
        'missing="Y" on missing codes), varFormat, notes',
    ),
)

ET.register_namespace("", NAMESPACE)


def _q(tag: str) -> str:
    return f"{{{NAMESPACE}}}{tag}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    node = ET.SubElement(parent, _q(tag), {k.rstrip("_"): v for k, v in attrs.items()})
    if text is not None:
        node.text = text
    return node


def _labels(parent: ET.Element, vi: str, en: str) -> None:
    _sub(parent, "labl", vi).set(XML_LANG, "vi")
    _sub(parent, "labl", en).set(XML_LANG, "en")


def _citation(parent: ET.Element, plan: ExportPlan, facts: StudyFacts, data_name: str, software: str) -> ET.Element:
    citation = _sub(parent, "citation")
    titles = _sub(citation, "titlStmt")
    _sub(titles, "titl", archive.title(plan))
    _sub(
        titles,
        "IDNo",
        f"{plan.instrument.code}-v{plan.instrument.version}-{plan.date_from:%Y%m%d}-{plan.date_to:%Y%m%d}",
    )
    responsible = _sub(citation, "rspStmt")
    for vi, _en in facts.producer:
        _sub(responsible, "AuthEnty", vi)
    prod = _sub(citation, "prodStmt")
    for vi, _en in facts.producer:
        _sub(prod, "producer", vi)
    _sub(prod, "prodDate", f"{plan.generated_at:%Y-%m-%d}", date=f"{plan.generated_at:%Y-%m-%d}")
    _sub(prod, "software", software)
    _sub(citation, "biblCit", archive.citation(plan, facts, data_name))
    return citation


def _categories(var: ET.Element, col: Column, facts: StudyFacts) -> None:
    freq = facts.frequencies.get(col.name)
    counts = freq.counts if freq else {}
    missing = set(freq.missing_codes) if freq else set()
    for cat in col.categories:
        value = cat.value if col.kind == "category" else str(cat.code)
        node = _sub(var, "catgry", **({"missing": "Y"} if value in missing else {}))
        _sub(node, "catValu", value)
        _labels(node, cat.label_vi, cat.label_en)
        if col.kind == "category":
            _sub(node, "txt", f"numeric code {cat.code} in .sav and .dta files")
        _sub(node, "catStat", str(counts.get(value, 0)), type="freq")


def _variable(parent: ET.Element, col: Column, facts: StudyFacts, item_text: dict[str, tuple[str, str]]) -> None:
    numeric = col.kind in ("integer", "number", "score")
    attrs: dict[str, Any] = {"ID": f"V_{col.name}", "name": col.name, "files": FILE_ID}
    if col.categories or col.kind == "integer":
        attrs["intrvl"] = "discrete"
    elif col.kind == "number":
        attrs["intrvl"] = "contin"
    var = _sub(parent, "var", **attrs)
    _labels(var, col.label_vi, col.label_en)
    if col.name in item_text:
        question = _sub(var, "qstn")
        vi, en = item_text[col.name]
        _sub(question, "qstnLit", vi).set(XML_LANG, "vi")
        _sub(question, "qstnLit", en).set(XML_LANG, "en")
    freq = facts.frequencies.get(col.name)
    if freq is not None:
        _sub(var, "sumStat", str(freq.valid), type="vald")
        _sub(var, "sumStat", str(freq.missing), type="invd")
    _categories(var, col, facts)
    _sub(var, "varFormat", type="numeric" if numeric else "character", schema="other")
    if col.note:
        _sub(var, "notes", col.note)


def ddi_codebook(plan: ExportPlan, facts: StudyFacts, data_name: str, software: str) -> ET.Element:
    """The ``codeBook`` element of one export."""
    root = ET.Element(
        _q("codeBook"), {"version": "2.5", "ID": "SIPAS-export", f"{{{XSI}}}schemaLocation": SCHEMA_LOCATION}
    )
    doc = _sub(root, "docDscr")
    _citation(doc, plan, facts, data_name, software)

    study = _sub(root, "stdyDscr")
    _citation(study, plan, facts, data_name, software)
    info = _sub(study, "stdyInfo")
    _sub(info, "abstract", f"{archive.KIND_OF_DATA}. {archive.INDEX_DEFINITIONS}")
    summary = _sub(info, "sumDscr")
    start, end = plan.date_from.isoformat(), plan.date_to.isoformat()
    _sub(summary, "timePrd", start, event="start", date=start)
    _sub(summary, "timePrd", end, event="end", date=end)
    _sub(summary, "collDate", start, event="start", date=start)
    _sub(summary, "collDate", end, event="end", date=end)
    _sub(summary, "nation", "Việt Nam", abbr="VN")
    _sub(summary, "anlyUnit", archive.UNIT_OF_ANALYSIS)
    _sub(summary, "universe", archive.universe(plan))
    _sub(summary, "dataKind", archive.KIND_OF_DATA)
    method = _sub(study, "method")
    collection = _sub(method, "dataColl")
    _sub(collection, "sampProc", archive.SAMPLING)
    _sub(collection, "collMode", archive.COLLECTION_MODE)
    notes = "; ".join(
        f"{s.what}: {len(s.agencies)} agencies, {s.agency_months} agency-months" if s.agencies else s.what
        for s in facts.weighting_summary
    )
    _sub(collection, "weight", f"{plan.weights.weighting}." + (f" Notes: {notes}." if notes else ""))
    _sub(_sub(method, "anlyInfo"), "respRate", archive.response_rate_text(facts))
    access = _sub(study, "dataAccs")
    use = _sub(access, "useStmt")
    _sub(use, "restrctn", archive.ACCESS)
    _sub(use, "citReq", archive.citation(plan, facts, data_name))
    _sub(use, "conditions", archive.LICENCE)

    file_dscr = _sub(root, "fileDscr", ID=FILE_ID)
    text = _sub(file_dscr, "fileTxt")
    _sub(text, "fileName", data_name)
    dims = _sub(text, "dimensns")
    _sub(dims, "caseQnty", str(facts.rows))
    _sub(dims, "varQnty", str(len(plan.columns)))
    _sub(
        text,
        "fileType",
        {"csv": "CSV", "xlsx": "Excel (.xlsx)", "sav": "SPSS (.sav)", "dta": "Stata (.dta)"}[plan.request.format],
    )

    data = _sub(root, "dataDscr")
    item_text = {item.code: (item.text_vi, item.text_en) for item in plan.instrument.items}
    for col in plan.columns:
        _variable(data, col, facts, item_text)
    return root


def ddi_xml_text(plan: ExportPlan, facts: StudyFacts, data_name: str, software: str) -> str:
    """:func:`ddi_codebook` as indented UTF-8 XML text with its declaration."""
    root = ddi_codebook(plan, facts, data_name, software)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def ddi_name(data_name: str) -> str:
    """``export.csv`` → ``export.ddi.xml``: the DDI file's name beside a single data file."""
    stem = data_name.rsplit(".", 1)[0] if "." in data_name else data_name
    return stem + SUFFIX

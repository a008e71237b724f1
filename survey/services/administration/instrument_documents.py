"""A questionnaire version as a document: from the database back to its data file, and XLSForm in and out.

One validator serves every way in: an XLSForm is read into the same structure as a TOML data file and goes
through :func:`~survey.services.administration.instruments.parse_instrument`, with the same rules and messages
(a message that names an element or item also gets the XLSForm sheet and row it came from).

**XLSForm** (the format of KoboToolbox and ODK): a ``survey`` sheet with one ``begin_group``/``end_group``
pair per element and one ``select_one`` row per criterion, a ``choices`` sheet with the answer scale, and a
``settings`` sheet. Labels are in ``label::Tiếng Việt (vi)`` and ``label::English (en)``; ``required`` says
whether a criterion may be left blank; a criterion that offers "not applicable" uses the list
``sipas_scale_na`` (the scale plus the choice ``8``), the others ``sipas_scale``. What XLSForm has no column
for is kept in columns ODK and Kobo pass over: ``sipas_weight`` on group and question rows,
``sipas_national`` (the national criterion a question asks one-to-one, ``c01`` … ``c22``), and ``sipas_…``
columns on the settings sheet (English name, method, aspect, validity, first satisfied level, the aggregation
rule and the rotation). Anything else a form may hold (other question types, repeats, ``relevant``,
``constraint``, ``calculation``, choice filters, media) has no meaning in a SIPAS questionnaire and is refused
with its sheet, row and reason: nothing is dropped silently.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from dataclasses import dataclass
from typing import Any

import tomli_w
from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.db import db
from survey.models import Instrument
from survey.services.administration.instruments import (
    ElementSpec,
    InstrumentFileError,
    InstrumentSpec,
    ItemSpec,
    parse_instrument,
    sync_instruments,
)

SCALE_LIST = "sipas_scale"
SCALE_NA_LIST = "sipas_scale_na"
#: The choice name of "not applicable" (the export code of a not-applicable answer).
NA_CHOICE = "8"
LANGUAGES = {"vi": "Tiếng Việt (vi)", "en": "English (en)"}
_SURVEY_COLUMNS = [
    "type",
    "name",
    f"label::{LANGUAGES['vi']}",
    f"label::{LANGUAGES['en']}",
    "required",
    "sipas_weight",
    "sipas_national",
]
_SETTINGS = (
    ("sipas_name_en", "name_en"),
    ("sipas_method", "method"),
    ("sipas_aspect", "aspect"),
    ("sipas_valid_from", "valid_from"),
    ("sipas_valid_to", "valid_to"),
    ("sipas_satisfied_from", None),
    ("sipas_item_statistic", None),
    ("sipas_element_rule", None),
    ("sipas_overall_rule", None),
    ("sipas_definition", None),
    ("sipas_rotation", None),
)
#: Columns of the survey sheet a SIPAS questionnaire can use; anything else with a value is refused.
_SURVEY_KNOWN = {"type", "name", "label", "required", "sipas_weight", "sipas_national"}
_METADATA_TYPES = {"start", "end", "today", "deviceid", "username", "phonenumber", "audit", "simserial", "subscriberid"}


# ---------------------------------------------------------------------------------------------------------
# From the database and to TOML


def spec_of(instrument: Instrument) -> InstrumentSpec:
    """The version as stored, as the spec its data file would give (its digest is the stored digest)."""
    elements = tuple(
        ElementSpec(
            e.code,
            e.name_vi,
            e.name_en,
            e.weight,
            tuple(
                ItemSpec(i.code, i.text_vi, i.text_en, i.optional, i.allows_na, i.weight, i.national_code)
                for i in instrument.items
                if i.element_id == e.id
            ),
        )
        for e in instrument.elements
    )
    return InstrumentSpec(
        code=instrument.code,
        version=instrument.version,
        name_vi=instrument.name_vi,
        name_en=instrument.name_en,
        method=instrument.method,
        aspect=instrument.aspect,
        valid_from=instrument.valid_from,
        valid_to=instrument.valid_to,
        scale=instrument.scale,
        aggregation=instrument.aggregation,
        elements=elements,
        source=instrument.label,
        rotation=instrument.rotation,
    )


def document_of(spec: InstrumentSpec) -> dict[str, Any]:
    """The data-file structure (what ``survey/instruments/*.toml`` holds) of a spec."""
    document: dict[str, Any] = {
        "code": spec.code,
        "version": spec.version,
        "name_vi": spec.name_vi,
        "name_en": spec.name_en,
        "method": spec.method,
    }
    if spec.aspect is not None:
        document["aspect"] = spec.aspect
    document["valid_from"] = spec.valid_from
    if spec.valid_to is not None:
        document["valid_to"] = spec.valid_to
    document["scale"] = {
        "satisfied_from": spec.scale["satisfied_from"],
        "not_applicable": dict(spec.scale["not_applicable"]),
        "levels": [dict(level) for level in spec.scale["levels"]],
    }
    document["aggregation"] = dict(spec.aggregation)
    if spec.rotation is not None:
        document["rotation"] = {key: value for key, value in spec.rotation.items() if key != "design"}
    document["elements"] = [
        {
            "code": e.code,
            "name_vi": e.name_vi,
            "name_en": e.name_en,
            **({"weight": e.weight} if e.weight != 1.0 else {}),
            "items": [
                {
                    "code": i.code,
                    "vi": i.text_vi,
                    "en": i.text_en,
                    **({"optional": True} if i.optional else {}),
                    **({"allows_na": True} if i.allows_na else {}),
                    **({"weight": i.weight} if i.weight != 1.0 else {}),
                    **({"national": i.national} if i.national else {}),
                }
                for i in e.items
            ],
        }
        for e in spec.elements
    ]
    return document


def to_toml(spec: InstrumentSpec) -> str:
    """The version as a data file for ``survey/instruments/`` (loading it gives the same digest)."""
    header = f"# {spec.code} v{spec.version}, exported by SIPAS. Publish changes as a new version.\n"
    return header + tomli_w.dumps(document_of(spec))


def from_toml(text: str, source: str) -> InstrumentSpec:
    return parse_instrument(text, source)


# ---------------------------------------------------------------------------------------------------------
# XLSForm out


def to_xlsform(spec: InstrumentSpec) -> bytes:
    """The version as an XLSForm workbook (``survey``, ``choices``, ``settings``)."""
    book = Workbook()
    survey = book.active
    assert survey is not None
    survey.title = "survey"
    survey.append(_SURVEY_COLUMNS)
    for element in spec.elements:
        survey.append(
            ["begin_group", element.code, element.name_vi, element.name_en, None, _weight(element.weight), None]
        )
        for item in element.items:
            kind = f"select_one {SCALE_NA_LIST if item.allows_na else SCALE_LIST}"
            required = "no" if item.optional else "yes"
            survey.append([kind, item.code, item.text_vi, item.text_en, required, _weight(item.weight), item.national])
        survey.append(["end_group", element.code, None, None, None, None, None])
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", f"label::{LANGUAGES['vi']}", f"label::{LANGUAGES['en']}"])
    for list_name in (SCALE_LIST, SCALE_NA_LIST):
        for level in spec.scale["levels"]:
            choices.append([list_name, str(level["value"]), level["vi"], level["en"]])
    na = spec.scale["not_applicable"]
    choices.append([SCALE_NA_LIST, NA_CHOICE, na["vi"], na["en"]])
    settings = book.create_sheet("settings")
    aggregation = spec.aggregation
    values: dict[str, Any] = {
        "form_title": spec.name_vi,
        "form_id": spec.code,
        "version": str(spec.version),
        "default_language": LANGUAGES["vi"],
        "sipas_name_en": spec.name_en,
        "sipas_method": spec.method,
        "sipas_aspect": spec.aspect,
        "sipas_valid_from": spec.valid_from.isoformat(),
        "sipas_valid_to": spec.valid_to.isoformat() if spec.valid_to else None,
        "sipas_satisfied_from": spec.scale["satisfied_from"],
        "sipas_item_statistic": aggregation["item"],
        "sipas_element_rule": aggregation["element"],
        "sipas_overall_rule": aggregation["overall"],
        "sipas_definition": aggregation["definition"],
        "sipas_rotation": (
            json.dumps({k: v for k, v in spec.rotation.items() if k != "design"}, sort_keys=True)
            if spec.rotation is not None
            else None
        ),
    }
    settings.append(list(values))
    settings.append(list(values.values()))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _weight(value: float) -> float | None:
    return None if value == 1.0 else value


# ---------------------------------------------------------------------------------------------------------
# XLSForm in


@dataclass(frozen=True)
class Problem:
    sheet: str
    row: int | None
    reason: str

    def __str__(self) -> str:
        return (
            f"{self.sheet} sheet, row {self.row}: {self.reason}" if self.row else f"{self.sheet} sheet: {self.reason}"
        )


class XLSFormError(InstrumentFileError):
    """An XLSForm that is not a SIPAS questionnaire; ``problems`` lists every one found, with sheet and row."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(str(p) for p in problems))


_LANGUAGE_CODE = re.compile(r"\(([A-Za-z-]{2,8})\)\s*$")


def _language(header: str) -> str | None:
    """``label::Tiếng Việt (vi)`` → ``vi``; ``label::en`` → ``en``; ``label`` → None (the default language)."""
    if "::" not in header:
        return None
    name = header.split("::", 1)[1].strip()
    match = _LANGUAGE_CODE.search(name)
    code = (match.group(1) if match else name).lower()
    return {"vietnamese": "vi", "tiếng việt": "vi", "english": "en"}.get(code, code)


class _Sheet:
    """One worksheet as header → value rows, with the row numbers a spreadsheet user sees."""

    def __init__(self, name: str, rows: list[tuple[Any, ...]]) -> None:
        self.name = name
        header = rows[0] if rows else ()
        self.columns = [str(h).strip() if h is not None else "" for h in header]
        self.rows: list[tuple[int, dict[str, Any]]] = []
        for number, values in enumerate(rows[1:], start=2):
            record = {
                column: (value.strip() if isinstance(value, str) else value)
                for column, value in zip(self.columns, values, strict=False)
                if column and value not in (None, "")
            }
            if record:
                self.rows.append((number, record))


def _read_workbook(data: bytes, source: str) -> dict[str, _Sheet]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise XLSFormError(
            source, [Problem("workbook", None, f"not an .xlsx workbook ({type(exc).__name__})")]
        ) from None
    sheets = {}
    for worksheet in book.worksheets:
        sheets[worksheet.title.strip().lower()] = _Sheet(worksheet.title, list(worksheet.iter_rows(values_only=True)))
    book.close()
    return sheets


def _labels(record: dict[str, Any]) -> dict[str | None, str]:
    return {
        _language(column): str(value)
        for column, value in record.items()
        if column.split("::", 1)[0].strip().lower() == "label"
    }


def _text(labels: dict[str | None, str], language: str, default_language: str) -> str | None:
    if language in labels:
        return labels[language]
    return labels.get(None) if language == default_language else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).replace(",", "."))
    except ValueError:
        return None


def parse_xlsform(data: bytes, source: str) -> InstrumentSpec:
    """Read an XLSForm into a spec, through the same validator as the data files.

    Raises :class:`XLSFormError` listing every structural problem (sheet, row, reason), or
    :class:`InstrumentFileError` from the shared validator with the sheet and row of the element or item.
    """
    sheets = _read_workbook(data, source)
    problems: list[Problem] = []
    for required in ("survey", "choices", "settings"):
        if required not in sheets:
            problems.append(Problem(required, None, "the sheet is missing"))
    if problems:
        raise XLSFormError(source, problems)
    settings_rows = sheets["settings"].rows
    settings = settings_rows[0][1] if settings_rows else {}
    default_language = _language("label::" + str(settings.get("default_language", ""))) or "vi"
    places: dict[str, str] = {}

    # The answer scale.
    lists: dict[str, list[tuple[int, str, dict[str | None, str]]]] = {}
    for number, record in sheets["choices"].rows:
        for column in record:
            base = column.split("::", 1)[0].strip().lower()
            if base not in {"list_name", "name", "label"}:
                problems.append(Problem("choices", number, f"column {column!r} is not supported (media, filters)"))
        list_name = str(record.get("list_name", ""))
        if not list_name:
            problems.append(Problem("choices", number, "'list_name' is empty"))
            continue
        lists.setdefault(list_name, []).append((number, str(record.get("name", "")), _labels(record)))
    levels: list[dict[str, Any]] = []
    not_applicable: dict[str, str] | None = None
    for list_name in (SCALE_LIST, SCALE_NA_LIST):
        choices = lists.get(list_name)
        if choices is None:
            continue
        these = []
        for number, name, labels in choices:
            vi, en = _text(labels, "vi", default_language), _text(labels, "en", default_language)
            if not vi or not en:
                problems.append(Problem("choices", number, "a choice needs a Vietnamese and an English label"))
                continue
            if list_name == SCALE_NA_LIST and name == NA_CHOICE:
                not_applicable = {"vi": vi, "en": en}
            elif name.isdigit():
                these.append({"value": int(name), "vi": vi, "en": en})
            else:
                problems.append(Problem("choices", number, f"choice {name!r}: scale levels are named 1, 2, 3 …"))
        if list_name == SCALE_LIST or not levels:
            levels = these
    for list_name in sorted(set(lists) - {SCALE_LIST, SCALE_NA_LIST}):
        number = lists[list_name][0][0]
        problems.append(
            Problem("choices", number, f"list {list_name!r} is not supported: use {SCALE_LIST} or {SCALE_NA_LIST}")
        )
    if not levels:
        problems.append(Problem("choices", None, f"the answer scale (list {SCALE_LIST}) is missing"))

    # Elements and criteria.
    elements: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for number, record in sheets["survey"].rows:
        for column in record:
            if column.split("::", 1)[0].strip().lower() not in _SURVEY_KNOWN:
                problems.append(
                    Problem("survey", number, f"column {column!r} is not supported in a SIPAS questionnaire")
                )
        kind = str(record.get("type", "")).strip()
        name = str(record.get("name", "")).strip()
        labels = _labels(record)
        vi, en = _text(labels, "vi", default_language), _text(labels, "en", default_language)
        weight = record.get("sipas_weight")
        weight_value = None
        if weight is not None:
            weight_value = _number(weight)
            if weight_value is None:
                problems.append(Problem("survey", number, f"'sipas_weight' {weight!r} is not a number"))
        kind = re.sub(r"^(begin|end)\s+(group|repeat)\b", r"\1_\2", kind, flags=re.IGNORECASE)
        head = kind.split()[0].lower() if kind else ""
        if head == "begin_group":
            if current is not None:
                problems.append(Problem("survey", number, "groups cannot be nested: end the element's group first"))
                continue
            current = {"code": name, "name_vi": vi or "", "name_en": en or "", "items": []}
            if weight_value is not None:
                current["weight"] = weight_value
            places[f"element {name}"] = f"survey sheet, row {number}"
        elif head == "end_group":
            if current is None:
                problems.append(Problem("survey", number, "'end_group' without a 'begin_group'"))
                continue
            elements.append(current)
            current = None
        elif head == "select_one":
            list_name = kind.split(None, 1)[1].strip() if len(kind.split()) > 1 else ""
            if list_name not in (SCALE_LIST, SCALE_NA_LIST):
                problems.append(
                    Problem(
                        "survey",
                        number,
                        f"a criterion must be 'select_one {SCALE_LIST}' or 'select_one {SCALE_NA_LIST}'",
                    )
                )
                continue
            if current is None:
                problems.append(Problem("survey", number, "a criterion must be inside an element's group"))
                continue
            required = str(record.get("required", "yes")).strip().lower()
            if required not in {"yes", "no", "true", "false", "true()", "false()"}:
                problems.append(Problem("survey", number, f"'required' must be yes or no, got {required!r}"))
            item: dict[str, Any] = {"code": name, "vi": vi or "", "en": en or ""}
            if required in {"no", "false", "false()"}:
                item["optional"] = True
            if list_name == SCALE_NA_LIST:
                item["allows_na"] = True
            if weight_value is not None:
                item["weight"] = weight_value
            if record.get("sipas_national") is not None:
                item["national"] = str(record["sipas_national"])
            current["items"].append(item)
            places[f"item {name}"] = f"survey sheet, row {number}"
        elif head in _METADATA_TYPES:
            problems.append(
                Problem("survey", number, f"type {kind!r}: SIPAS stores no device or interview metadata with answers")
            )
        elif head in {"begin_repeat", "end_repeat"}:
            problems.append(
                Problem("survey", number, "repeats are not supported: one respondent answers each criterion once")
            )
        else:
            problems.append(
                Problem(
                    "survey", number, f"type {kind or '(empty)'!r} is not supported: criteria are rated on the scale"
                )
            )
    if current is not None:
        problems.append(Problem("survey", None, f"the group {current['code']!r} is never ended"))

    document = _settings_document(settings, settings_rows[0][0] if settings_rows else None, problems)
    if problems:
        raise XLSFormError(source, problems)
    scale: dict[str, Any] = {
        "levels": levels,
        "satisfied_from": document.pop("satisfied_from", max(2, len(levels) - 1)),
    }
    if not_applicable is not None:
        scale["not_applicable"] = not_applicable
    document["scale"] = scale
    document["elements"] = elements
    try:
        return parse_instrument(tomli_w.dumps(document), source)
    except InstrumentFileError as exc:
        message = str(exc)
        for place, where in places.items():
            if f": {place}: " in message:
                message = message.replace(f": {place}: ", f": {place} ({where}): ", 1)
                break
        raise InstrumentFileError(message) from None


#: Settings a plain Kobo/ODK form may lack, and what they default to: the SIPAS standard rule (the share
#: satisfied, means of the criteria and of the elements, definition A); the first satisfied level defaults to
#: the second-highest level (the top-two box) in :func:`parse_xlsform`.
AGGREGATION_DEFAULTS = {
    "item": "top2box",
    "element": "weighted_mean_of_items",
    "overall": "weighted_mean_of_elements",
    "definition": "A",
}
_AGGREGATION_COLUMNS = {
    "item": "sipas_item_statistic",
    "element": "sipas_element_rule",
    "overall": "sipas_overall_rule",
    "definition": "sipas_definition",
}
_REQUIRED_SETTINGS = {
    "form_id": "code",
    "version": "version",
    "form_title": "name_vi",
    "sipas_name_en": "name_en",
    "sipas_method": "method",
    "sipas_valid_from": "valid_from",
}
_OPTIONAL_SETTINGS = {"sipas_aspect": "aspect", "sipas_valid_to": "valid_to"}
_OTHER_SETTINGS = {"default_language", "sipas_satisfied_from", "sipas_rotation", *_AGGREGATION_COLUMNS.values()}


def _settings_document(settings: dict[str, Any], row: int | None, problems: list[Problem]) -> dict[str, Any]:
    """The top of the data-file structure from the settings sheet (its first row of values)."""
    document: dict[str, Any] = {}
    for column in settings:
        if column not in _REQUIRED_SETTINGS and column not in _OPTIONAL_SETTINGS and column not in _OTHER_SETTINGS:
            problems.append(Problem("settings", row, f"column {column!r} is not supported"))
    for column, key in (*_REQUIRED_SETTINGS.items(), *_OPTIONAL_SETTINGS.items()):
        value = settings.get(column)
        if value in (None, ""):
            if column in _REQUIRED_SETTINGS:
                problems.append(Problem("settings", row, f"{column!r} is empty"))
            continue
        if key in ("valid_from", "valid_to"):
            parsed = _date(value)
            if parsed is None:
                problems.append(Problem("settings", row, f"{column!r} must be a date such as 2022-01-01"))
            else:
                document[key] = parsed
        elif key == "version":
            number = _number(value)
            if number is None or number != int(number) or number < 1:
                problems.append(Problem("settings", row, f"'version' must be a whole number from 1, got {value!r}"))
            else:
                document[key] = int(number)
        else:
            document[key] = str(value)
    satisfied = settings.get("sipas_satisfied_from")
    if satisfied not in (None, ""):
        number = _number(satisfied)
        if number is None or number != int(number):
            problems.append(
                Problem("settings", row, f"'sipas_satisfied_from' must be a scale level, got {satisfied!r}")
            )
        else:
            document["satisfied_from"] = int(number)
    document["aggregation"] = {
        key: str(settings.get(column) or AGGREGATION_DEFAULTS[key]) for key, column in _AGGREGATION_COLUMNS.items()
    }
    rotation = settings.get("sipas_rotation")
    if rotation not in (None, ""):
        try:
            document["rotation"] = json.loads(str(rotation))
        except json.JSONDecodeError:
            problems.append(Problem("settings", row, 'sipas_rotation must be JSON such as {"k": 6}'))
    return document


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------------------
# Import and export of stored versions

#: The largest questionnaire file read (a 22-criterion XLSForm is about 10 KB).
MAX_FILE_BYTES = 2 * 1024 * 1024


def read_document(name: str, data: bytes) -> InstrumentSpec:
    """A questionnaire from a file's bytes, by its extension: ``.xlsx`` (XLSForm) or ``.toml`` (data file)."""
    if len(data) > MAX_FILE_BYTES:
        raise InstrumentFileError(f"{name}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix == "xlsx":
        return parse_xlsform(data, name)
    if suffix == "toml":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InstrumentFileError(f"{name}: not UTF-8 text") from None
        return parse_instrument(text, name)
    raise InstrumentFileError(f"{name}: expected an XLSForm (.xlsx) or a data file (.toml)")


def import_document(spec: InstrumentSpec) -> tuple[str, str]:
    """Store a questionnaire version read from a file: ("added" | "updated" | "unchanged", its label).

    The same rules as ``flask load-instruments``: a version with responses is locked (InstrumentLockedError).
    """
    with db.write() as session:
        report = sync_instruments(session, [spec])
    outcome = next(kind for kind, labels in report.items() if labels)
    return outcome, f"{spec.code} v{spec.version}"


class UnknownInstrumentError(LookupError):
    """No stored version answers to the CODE or CODE:VERSION asked for."""


def stored_version(session: Session, wanted: str) -> Instrument:
    """The version ``CODE:VERSION`` (``CODE:vN`` too), or the latest version of ``CODE``."""
    code, _, version = wanted.strip().partition(":")
    query = select(Instrument).where(Instrument.code == code).order_by(Instrument.version.desc())
    if version:
        number = version.strip().lstrip("v")
        if not number.isdigit():
            raise UnknownInstrumentError(f"{wanted!r}: the version must be a number, e.g. {code}:1")
        query = query.where(Instrument.version == int(number))
    found = session.scalars(query).first()
    if found is None:
        raise UnknownInstrumentError(f"no questionnaire version {wanted!r} is stored")
    return found


def export_document(session: Session, wanted: str, kind: str) -> tuple[Instrument, bytes]:
    """A stored version as an XLSForm (``kind="xlsform"``) or a data file (``"toml"``)."""
    instrument = stored_version(session, wanted)
    spec = spec_of(instrument)
    data = to_xlsform(spec) if kind == "xlsform" else to_toml(spec).encode("utf-8")
    return instrument, data

"""The machine-readable codebook of a SIPAS export: ``<data file stem>.codebook.json``, schema 1.x.

SIPAS writes it beside every export (``export.csv`` → ``export.codebook.json``; in a ZIP bundle beside the
data file), and ``python -m analytics estimate export.csv --codebook export.codebook.json`` reads it, so the
command line estimates what the dashboard shows for the same scope and period without a single option.
This module holds the schema's name, version and file name, and the reader; the app builds the file
(``survey/services/exports/codebook.py``), whose Markdown codebook documents the same fields.

Top-level keys (schema 1.0, then what 1.1 adds); every name of a column is a column of the data file:

``schema``, ``schema_version``
    ``"sipas-export-codebook"`` and ``"MAJOR.MINOR"``. Readers accept every ``1.x``: a minor version only
    adds keys (readers ignore keys they do not know); a key that changes meaning or goes away makes a
    new major version.
``data_file``, ``format``, ``rows``, ``generated_at``, ``software``
    The data file's name (beside the codebook), csv/xlsx/sav/dta, its data rows, when (UTC) and by what.
``instrument``
    ``code``, ``version``, ``label``, ``name_vi``, ``name_en``, ``method``: the questionnaire version.
``period``, ``scope``
    ``{"from", "to"}`` (local dates received, inclusive); ``agencies`` (codes), ``status`` (valid,
    excluded or all), ``comments``, ``sample`` (null, or size, seed, stratification, rows drawn and the
    expansion-factor column).
``status``
    ``{"column": "status", "valid": "valid", "values": [...]}``: only rows whose ``column`` holds ``valid``
    enter an estimate (excluded responses carry no weight).
``weighting``
    ``rule`` (as the dashboard states it), ``weighted`` (false: every valid response weighs 1), ``notes``.
``design``
    ``weight``, ``strata`` (a column or null), ``psu`` (columns, one per stage, stage 1 first; [] = each
    row its own PSU), ``fpc`` (columns, one per stage, may be fewer), ``lonely_psu`` (R's
    ``survey.lonely.psu``) and ``description``: the design the dashboard's intervals use.
``scale``
    ``valid_codes`` (the scores, 1-5), ``satisfied_from`` (4: a share counts 4 and 5), ``levels`` (code
    and labels), ``missing_codes`` (``code``, ``meaning``: ``not_applicable`` 8 or ``not_answered`` 9,
    labels), and how SPSS and Stata files hold the missing codes.
``items``
    One object per item column in file order: ``column``, ``label_vi``, ``label_en``, ``element``,
    ``weight`` (within the element), ``valid_codes``, ``missing_codes`` (code → meaning),
    ``not_applicable_offered``, ``optional``.
``groups``
    ``definition`` (composite A, B or C, STATISTICS.md §3), ``item_statistic``; ``elements``: element
    name → ``{"label_vi", "label_en", "weight" (in the overall index), "items": {column: weight}}``;
    ``overall``: ``{"name", "of": "elements", "rule"}`` (null: no overall index); ``unanswered``: an item
    without a valid answer in the data is left out of its element, an element left empty out of the
    overall index (the dashboard's rule).
``csv``
    For CSV files (else null): ``delimiter``, ``quotechar``, ``encoding`` (``utf-8-sig``: UTF-8 with a
    byte-order mark), ``line_terminator``, ``header_rows``, ``missing_value`` (empty cell), and
    ``formula_guard``: ``prefix`` ``'`` put before a **text** cell starting with one of ``triggers``
    (``= + - @``, tab, carriage return), so a spreadsheet never runs it; numbers are never prefixed.
``columns``
    Every column in file order: ``name``, ``label_vi``, ``label_en``, ``kind`` and, for coded columns,
    ``categories`` (numeric ``code``, exported text ``value``, labels).

Schema 1.1 adds (1.0 files lack them; this reader needs none of them and reads both):

``study``
    ``title``, ``producer``, ``universe``, ``unit_of_analysis``, ``kind_of_data``, ``collection_mode``,
    ``sampling``, ``period``, ``response_rate`` (``rate``: valid responses ÷ transactions over the
    agency-months with volumes), ``citation``, ``licence``, ``access_conditions``, ``index_definitions``.
``frequencies``
    Per column: ``valid`` and ``missing`` rows, ``missing_codes``, ``counts`` (code → rows; ``""`` = empty).
``code_lists``
    ``agency``, ``counter``, ``field``, ``admin_unit``: every code of the scope with labels and rows.
``weighting.summary``
    The weighting notes as a table: ``what``, ``agencies``, ``agency_months``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from .errors import DataError

SCHEMA = "sipas-export-codebook"
SCHEMA_VERSION = "1.1"
SUFFIX = ".codebook.json"


class CodebookError(DataError):
    """A codebook file that cannot be used; the message names the file and the key."""


def codebook_name(data_name: str) -> str:
    """``export.csv`` → ``export.codebook.json``: the codebook's name beside its data file."""
    return PurePath(data_name).stem + SUFFIX


@dataclass(frozen=True)
class CodebookItem:
    column: str
    label_vi: str
    label_en: str
    valid_codes: tuple[int, ...]
    #: Missing code → meaning (``not_applicable``, ``not_answered``).
    missing_codes: dict[int, str]


@dataclass(frozen=True)
class ExportCodebook:
    """What the command line takes from a codebook (the file holds more: labels, scope, columns)."""

    path: str
    data_file: str
    instrument: str
    period: tuple[str, str]
    items: tuple[CodebookItem, ...]
    satisfied_from: int
    #: Element → {item column: relative weight}, in file order.
    groups: dict[str, dict[str, float]]
    #: Element → its relative weight in the overall index.
    group_weights: dict[str, float]
    #: Name of the overall index; None = no overall index.
    overall: str | None
    definition: str
    weight: str
    strata: str | None
    psu: tuple[str, ...]
    fpc: tuple[str, ...]
    lonely_psu: str
    status_column: str | None
    status_valid: str | None
    delimiter: str
    quotechar: str
    encoding: str

    @property
    def data_path(self) -> str:
        """The data file named by the codebook, beside it."""
        return str(Path(self.path).with_name(self.data_file))


def load_codebook(path: str) -> ExportCodebook:
    """Read and check a codebook file; :class:`CodebookError` names the first problem."""
    try:
        with open(path, encoding="utf-8") as fh:
            raw = json.load(fh)
    except OSError as exc:
        raise CodebookError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CodebookError(f"{path} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise CodebookError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    return parse_codebook(raw, path)


def parse_codebook(raw: Any, path: str = "codebook") -> ExportCodebook:
    """Check a decoded codebook (see the module docstring for the schema)."""
    get = _Getter(path)
    if not isinstance(raw, dict) or raw.get("schema") != SCHEMA:
        raise CodebookError(f'{path} is not a SIPAS export codebook (no "schema": "{SCHEMA}")')
    version = str(raw.get("schema_version", ""))
    if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise CodebookError(
            f"{path} has codebook schema version {version or '?'}; this reader understands {SCHEMA_VERSION[0]}.x"
        )
    design = get.mapping(raw, "design")
    status = raw.get("status")
    scale = get.mapping(raw, "scale")
    groups = get.mapping(raw, "groups")
    dialect = raw.get("csv") or {}
    if not isinstance(dialect, dict):
        raise CodebookError(f'{path}: "csv" must be an object or null')
    items = tuple(_item(get, entry, k) for k, entry in enumerate(get.list(raw, "items")))
    if not items:
        raise CodebookError(f'{path}: "items" is empty')
    columns = {item.column for item in items}
    elements = get.mapping(groups, "elements", "groups")
    members: dict[str, dict[str, float]] = {}
    weights: dict[str, float] = {}
    for name, element in elements.items():
        where = f"groups.elements.{name}"
        if not isinstance(element, dict):
            raise CodebookError(f'{path}: "{where}" must be an object')
        item_weights = get.mapping(element, "items", where)
        for column, value in item_weights.items():
            if column not in columns:
                raise CodebookError(f'{path}: "{where}.items" names {column!r}, which is not in "items"')
            get.positive(value, f"{where}.items.{column}")
        members[str(name)] = {str(c): float(v) for c, v in item_weights.items()}
        weights[str(name)] = get.positive(element.get("weight", 1.0), f"{where}.weight")
    overall = groups.get("overall")
    if overall is not None and not isinstance(overall, dict):
        raise CodebookError(f'{path}: "groups.overall" must be an object or null')
    period = get.mapping(raw, "period")
    return ExportCodebook(
        path=path,
        data_file=get.text(raw, "data_file"),
        instrument=str(get.mapping(raw, "instrument").get("label", "")),
        period=(str(period.get("from", "")), str(period.get("to", ""))),
        items=items,
        satisfied_from=int(scale.get("satisfied_from", 4)),
        groups=members,
        group_weights=weights,
        overall=None if overall is None else str(overall.get("name", "overall")),
        definition=str(groups.get("definition", "A")),
        weight=get.text(design, "weight", "design"),
        strata=_optional_text(get, design, "strata"),
        psu=_columns(get, design, "psu"),
        fpc=_columns(get, design, "fpc"),
        lonely_psu=str(design.get("lonely_psu", "fail")),
        status_column=_optional_text(get, status, "column") if isinstance(status, dict) else None,
        status_valid=_optional_text(get, status, "valid") if isinstance(status, dict) else None,
        delimiter=str(dialect.get("delimiter", ",")),
        quotechar=str(dialect.get("quotechar", '"')),
        encoding=str(dialect.get("encoding", "utf-8-sig")),
    )


class _Getter:
    """Typed look-ups that name the file and the key when something is missing or of the wrong type."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, key: str, what: str) -> CodebookError:
        return CodebookError(f'{self.path}: "{key}" {what}')

    def mapping(self, data: Mapping[str, Any], key: str, where: str = "") -> dict[str, Any]:
        value = data.get(key)
        if not isinstance(value, dict):
            raise self.fail(_key(where, key), "is missing or not an object")
        return value

    def list(self, data: Mapping[str, Any], key: str, where: str = "") -> list[Any]:
        value = data.get(key)
        if not isinstance(value, list):
            raise self.fail(_key(where, key), "is missing or not a list")
        return value

    def text(self, data: Mapping[str, Any], key: str, where: str = "") -> str:
        value = data.get(key)
        if not isinstance(value, str) or not value:
            raise self.fail(_key(where, key), "is missing or not a text")
        return value

    def positive(self, value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not (math.isfinite(value) and value > 0):
            raise self.fail(key, "must be a positive number")
        return float(value)


def _key(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _optional_text(get: _Getter, data: Mapping[str, Any], key: str) -> str | None:
    return None if data.get(key) is None else get.text(data, key)


def _columns(get: _Getter, design: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = design.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise get.fail(f"design.{key}", "must be a list of column names")
    return tuple(value)


def _codes(get: _Getter, value: Any, key: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise get.fail(key, "must be a list of integer codes")
    return tuple(value)


def _item(get: _Getter, entry: Any, k: int) -> CodebookItem:
    where = f"items[{k}]"
    if not isinstance(entry, dict):
        raise get.fail(where, "must be an object")
    missing = entry.get("missing_codes", {})
    if not isinstance(missing, dict):
        raise get.fail(f"{where}.missing_codes", "must map codes to meanings")
    try:
        missing_codes = {int(code): str(meaning) for code, meaning in missing.items()}
    except ValueError:
        raise get.fail(f"{where}.missing_codes", "must have integer codes") from None
    return CodebookItem(
        column=get.text(entry, "column", where),
        label_vi=str(entry.get("label_vi", "")),
        label_en=str(entry.get("label_en", "")),
        valid_codes=_codes(get, entry.get("valid_codes"), f"{where}.valid_codes"),
        missing_codes=missing_codes,
    )

"""File formats of a response export: CSV, Excel (.xlsx), SPSS (.sav) and Stata (.dta).

CSV and Excel are written while the rows stream (memory stays flat); SPSS and Stata files need the
whole table, which is gathered as compact columns (``analytics.tables.ColumnBuffer``) and written by
pyreadstat (ReadStat) with variable labels, value labels and missing-value codes.

* CSV: UTF-8 with a byte-order mark (Excel then reads Vietnamese correctly), every text cell guarded
  against formula injection and on one line (``analytics.tables.sanitise_text``); numbers untouched.
* Excel: XlsxWriter in constant-memory mode with ``strings_to_formulas`` (and URL/number guessing)
  off, so no cell from the data ever becomes a formula; a second sheet lists the variables.
* SPSS: Vietnamese variable and value labels (UTF-8), 8 and 9 declared user-missing on every item.
* Stata: release 118 (Stata 14+); the same labels (variable labels cut at Stata's 80 characters; the
  codebook has the full wording); 8 and 9 stored as the extended missing values ``.a`` and ``.b``, which
  carry value labels.
* ``date`` is a real date in .sav (DATE11), .dta (%td) and .xlsx (a date cell shown as YYYY-MM-DD); ISO text
  (YYYY-MM-DD) in CSV.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import textwrap
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from analytics.tables import NOT_ANSWERED, NOT_APPLICABLE, NOT_ASKED, STATA_MISSING, Column, ColumnBuffer
from survey.services.exports.responses import ExportPlan, Progress, stream_rows

#: How :func:`write_csv` writes (the JSON codebook states it): the csv module's "excel" dialect, UTF-8 with a BOM.
CSV_DELIMITER = ","
CSV_QUOTECHAR = '"'
CSV_ENCODING = "utf-8-sig"
CSV_LINE_TERMINATOR = "\r\n"
SPSS_LABEL_BYTES = 255
STATA_LABEL_CHARS = 80
SPSS_FILE_LABEL_BYTES = 64
SPSS_NOTE_BYTES = 80
#: Stata release of the .dta files: 118 (Stata 14 and later, Unicode); pyreadstat calls it version 14. A file
#: never needs 119 (more than 32,767 variables).
STATA_RELEASE = 118
_PYREADSTAT_DTA_VERSION = {118: 14, 119: 15}
#: The columns written as real dates (SPSS DATE11, Stata %td, Excel date cells) in .sav, .dta and .xlsx; ISO text
#: in CSV.
DATE_COLUMNS = ("date",)
#: The number format of Excel date cells (a date serial number shown as ISO text).
XLSX_DATE_FORMAT = "yyyy-mm-dd"


#: Called with every chunk of rows as it is written (the codebook's frequencies count the file's own cells).
Observer = Callable[[list[tuple[Any, ...]]], None]
#: The observer of the export being written in this thread (set by :func:`write`; a context variable, so
#: exports written at the same time in several threads each count their own rows).
_OBSERVER: ContextVar[Observer | None] = ContextVar("export_row_observer", default=None)


def _noop(_n: int) -> None:
    return None


@contextmanager
def _rows(session: Session, plan: ExportPlan, *, sanitise: bool) -> Iterator[Iterator[list[tuple[Any, ...]]]]:
    observe = _OBSERVER.get()
    with closing(stream_rows(session, plan, sanitise=sanitise)) as rows:
        yield rows if observe is None else _observed(rows, observe)


def _observed(chunks: Iterator[list[tuple[Any, ...]]], observe: Observer) -> Iterator[list[tuple[Any, ...]]]:
    for rows in chunks:
        observe(rows)
        yield rows


def _cut_bytes(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode("utf-8", errors="ignore") + "…"


def _cut_chars(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _as_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _date_arrays(arrays: dict[str, np.ndarray]) -> None:
    """ISO date text to ``datetime.date`` objects, which pyreadstat writes as SPSS and Stata dates."""
    for name in DATE_COLUMNS:
        if name in arrays:
            out = np.empty(len(arrays[name]), dtype=object)
            out[:] = [_as_date(v) for v in arrays[name].tolist()]
            arrays[name] = out


def write_csv(path: Path, session: Session, plan: ExportPlan, progress: Progress) -> int:
    n = 0
    with path.open("w", encoding=CSV_ENCODING, newline="") as fh, _rows(session, plan, sanitise=True) as chunks:
        writer = csv.writer(fh, delimiter=CSV_DELIMITER, quotechar=CSV_QUOTECHAR, lineterminator=CSV_LINE_TERMINATOR)
        writer.writerow([c.name for c in plan.columns])
        for rows in chunks:
            writer.writerows(rows)
            n += len(rows)
            progress(len(rows))
    return n


def write_xlsx(path: Path, session: Session, plan: ExportPlan, progress: Progress) -> int:
    import xlsxwriter

    options = {
        "constant_memory": True,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
    }
    n = 0
    with xlsxwriter.Workbook(str(path), options) as book, _rows(session, plan, sanitise=False) as chunks:
        book.set_properties({"title": f"SIPAS {plan.instrument.label}", "comments": plan.weights.weighting})
        bold = book.add_format({"bold": True})
        date_format = book.add_format({"num_format": XLSX_DATE_FORMAT})
        data = book.add_worksheet("data")
        data.freeze_panes(1, 0)
        names = [c.name for c in plan.columns]
        data.write_row(0, 0, names, bold)
        date_cols = [names.index(name) for name in DATE_COLUMNS if name in names]
        for index in date_cols:
            data.set_column(index, index, 11)
        days: dict[str, dt.datetime] = {}
        for rows in chunks:
            for row in rows:
                n += 1
                data.write_row(n, 0, row)
                for index in date_cols:  # the same cell again, as a date (constant memory keeps the row open)
                    if iso := row[index]:
                        day = days.get(iso)
                        if day is None:
                            day = days[iso] = dt.datetime.fromisoformat(iso)
                        data.write_datetime(n, index, day, date_format)
            progress(len(rows))
        sheet = book.add_worksheet("variables")
        sheet.write_row(0, 0, ["name", "label_vi", "label_en", "kind", "codes"], bold)
        for i, col in enumerate(plan.columns, start=1):
            codes = "; ".join(f"{c.value if col.kind == 'category' else c.code} = {c.label_vi}" for c in col.categories)
            sheet.write_row(i, 0, [col.name, col.label_vi, col.label_en, col.kind, codes])
    return n


def _gather(session: Session, plan: ExportPlan, progress: Progress) -> tuple[dict[str, np.ndarray], int]:
    buffer = ColumnBuffer(plan.columns)
    n = 0
    with _rows(session, plan, sanitise=False) as chunks:
        for rows in chunks:
            buffer.extend(rows)
            n += len(rows)
            progress(len(rows))
    return buffer.arrays(), n


def _frame(arrays: dict[str, np.ndarray]) -> Any:
    import pandas as pd

    return pd.DataFrame(arrays, copy=False)


def _notes(plan: ExportPlan) -> list[str]:
    """SPSS document lines (each at most 80 bytes)."""
    text = [
        f"SIPAS {plan.instrument.label}, {plan.date_from} to {plan.date_to}; weighting: {plan.weights.weighting}",
        f"design: {plan.weights.design}; strata = stratum, PSU = psu, weight = weight",
        f"item codes: 1-5 score, {NOT_APPLICABLE} = not applicable, {NOT_ANSWERED} = not answered (missing)",
    ]
    return [_cut_bytes(line, SPSS_NOTE_BYTES) for note in text for line in textwrap.wrap(note, SPSS_NOTE_BYTES // 2)]


def _user_missing(plan: ExportPlan) -> list[Any]:
    """SPSS user-missing codes of an item: 8 and 9, and 7 (not asked) for a split questionnaire."""
    rotated = plan.instrument.rotation is not None
    return [*((NOT_ASKED,) if rotated else ()), NOT_APPLICABLE, NOT_ANSWERED]


def write_sav(path: Path, session: Session, plan: ExportPlan, progress: Progress) -> int:
    import pyreadstat

    arrays, n = _gather(session, plan, progress)
    _date_arrays(arrays)
    cols = plan.columns
    measure = {"score": "ordinal", "category": "nominal", "number": "scale", "integer": "nominal", "text": "nominal"}
    formats = {"score": "F1.0", "category": "F2.0", "integer": "F12.0", "number": "F16.8"}
    pyreadstat.write_sav(
        _frame(arrays),
        str(path),
        file_label=_cut_bytes(f"SIPAS {plan.instrument.label} {plan.date_from}/{plan.date_to}", SPSS_FILE_LABEL_BYTES),
        column_labels={c.name: _cut_bytes(c.label_vi, SPSS_LABEL_BYTES) for c in cols},
        variable_value_labels={c.name: _float_keys(c.value_labels("vi")) for c in cols if c.categories},
        missing_ranges={c.name: _user_missing(plan) for c in cols if c.kind == "score"},
        variable_measure={c.name: measure[c.kind] for c in cols},
        variable_format={
            **{c.name: formats[c.kind] for c in cols if c.kind in formats},
            **{name: "DATE11" for name in DATE_COLUMNS if name in arrays},
        },
        note=_notes(plan),
    )
    return n


def _stata_scores(values: np.ndarray) -> np.ndarray:
    out = values.astype(object)  # small Python ints are shared objects, so this costs one pointer per cell
    for code, letter in STATA_MISSING.items():
        out[values == code] = letter
    return out


def _stata_labels(col: Column) -> dict[Any, str]:
    if col.kind == "score":
        return {STATA_MISSING.get(c.code, c.code): c.label_vi for c in col.categories}
    return col.value_labels("vi")


def write_dta(path: Path, session: Session, plan: ExportPlan, progress: Progress) -> int:
    import pyreadstat

    arrays, n = _gather(session, plan, progress)
    _date_arrays(arrays)
    cols = plan.columns
    for col in cols:
        if col.kind == "score":
            arrays[col.name] = _stata_scores(arrays[col.name])
    pyreadstat.write_dta(
        _frame(arrays),
        str(path),
        file_label=_cut_chars(f"SIPAS {plan.instrument.label} {plan.date_from}/{plan.date_to}", STATA_LABEL_CHARS),
        column_labels={c.name: _cut_chars(c.label_vi, STATA_LABEL_CHARS) for c in cols},
        variable_value_labels={c.name: _stata_labels(c) for c in cols if c.categories},
        missing_user_values={c.name: list(STATA_MISSING.values()) for c in cols if c.kind == "score"},
        version=_PYREADSTAT_DTA_VERSION[STATA_RELEASE],
        variable_format={name: "%td" for name in DATE_COLUMNS if name in arrays},
    )
    return n


WRITERS: dict[str, Callable[[Path, Session, ExportPlan, Progress], int]] = {
    "csv": write_csv,
    "xlsx": write_xlsx,
    "sav": write_sav,
    "dta": write_dta,
}


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while rows stream.

    An export allocates millions of short-lived tuples that hold only atoms (no reference cycles, so
    reference counting frees them), yet every 700 allocations trigger a collection: a quarter of the CSV
    time at 1,000,000 responses. The collector is switched back on (if it was on) however the write ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def write(
    fmt: str,
    path: Path,
    session: Session,
    plan: ExportPlan,
    *,
    progress: Progress | None = None,
    observe: Observer | None = None,
) -> int:
    """Write ``plan``'s rows to ``path`` in ``fmt``; returns the number of rows written. ``observe`` sees every
    chunk of rows as written (e.g. :class:`survey.services.exports.study.Tally`)."""
    token = _OBSERVER.set(observe)
    try:
        with _without_cyclic_gc():
            return WRITERS[fmt](path, session, plan, progress or _noop)
    finally:
        _OBSERVER.reset(token)


def _float_keys(labels: dict[int, str]) -> dict[int | float, str]:
    """The same labels, typed as pyreadstat's stubs want them (keyed by ``int | float``)."""
    return dict(labels.items())

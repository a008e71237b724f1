"""Reading a CSV of responses for the command line: the wanted columns as numpy arrays.

Three readers give the same columns or the same one-line :class:`ReadError`. When pyarrow is installed, its
multi-threaded CSV reader parses a clean UTF-8 file straight into typed columns (labels through a dictionary,
so a million-row file never becomes a million Python strings): :func:`_read_arrow`. It only ever succeeds;
on anything it does not accept exactly as the other readers do (a ragged or blank line, a byte that is not
UTF-8, a number it cannot parse, another encoding) it steps aside and pandas' C parser (when pandas is
installed) or the csv module reads the file and names the problem. The statistics never need either.

Before any data is read the header is checked, so a wrong delimiter, a missing column, an empty file or a
file that is not in the stated encoding is named as such. Every record must have as many fields as the
header: pandas fills a short row with empty cells without a word, which would turn a truncated line into
"not answered", so the pandas path counts the fields of every record itself (one pass over the bytes,
quotes respected) and names the first record that does not fit.

Line numbers count records, the header being line 1 (an export has one record per line). Blank lines
at the very end of a file are ignored; a blank line between records is an error.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import DataError

#: Delimiters the header is checked against when a wanted column is missing.
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
#: Encodings in which the delimiter, the quote and the line feed are always single, unambiguous bytes.
_BYTE_SAFE = ("utf-8", "utf-8-sig", "ascii", "latin-1", "iso8859-1")


class ReadError(DataError):
    """The file cannot be read as asked; the message is one line naming the file, line or column."""


@dataclass(frozen=True)
class Dialect:
    """How the file is written: one-character delimiter and quote, text encoding."""

    delimiter: str = ","
    encoding: str = "utf-8-sig"
    quotechar: str = '"'


@dataclass(frozen=True)
class Table:
    """The wanted columns of every data record, and the header as read.

    A column is a numpy array of stripped strings, except that the ``numbers`` and ``integers`` asked of
    :func:`read_table` may come back parsed (when pyarrow read the file): ``numbers`` as float64,
    ``integers`` as float32 holding whole numbers, NaN for a blank cell in both. Callers take either form.
    """

    columns: dict[str, np.ndarray]
    n_rows: int
    header: tuple[str, ...]


def delimiter_option(text: str) -> str:
    """``--delimiter`` as given: one character, or ``tab`` / ``\\t`` for a tab."""
    value = "\t" if text in ("tab", "\\t", "TAB") else text
    if len(value) != 1 or value in ('"', "\n", "\r"):
        raise ReadError(f"--delimiter must be one character (or 'tab'), not {text!r}")
    return value


def read_table(
    path: str,
    columns: Sequence[str],
    dialect: Dialect = Dialect(),
    *,
    numbers: Sequence[str] = (),
    integers: Sequence[str] = (),
) -> Table:
    """The ``columns`` of ``path`` (header = line 1): pyarrow's reader on a clean file, else pandas' parser
    when installed, else the csv module. ``numbers`` and ``integers`` (among ``columns``) may come back
    parsed (see :class:`Table`)."""
    _check_encoding_name(dialect.encoding)
    header = read_header(path, dialect)
    _check_columns(path, header, columns, dialect)
    fast = _read_arrow(path, header, columns, dialect, numbers, integers)
    if fast is not None:
        return fast
    try:
        import pandas  # noqa: F401  # only whether it is installed
    except ImportError:
        return _read_stdlib(path, header, columns, dialect)
    return _read_pandas(path, header, columns, dialect)


def read_header(path: str, dialect: Dialect = Dialect()) -> tuple[str, ...]:
    """The first record of the file; :class:`ReadError` if it is empty, unreadable or not in the encoding."""
    try:
        with open(path, newline="", encoding=dialect.encoding) as fh:
            first = next(_reader(fh, dialect), None)
    except OSError as exc:
        raise ReadError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise _decode_error(path, dialect.encoding) from None
    except csv.Error as exc:
        raise ReadError(f"{path}, line 1: {exc}") from None
    if not first or all(not cell.strip() for cell in first):
        raise ReadError(f"{path} is empty: no header row")
    return tuple(cell.strip() for cell in first)


def _reader(fh: io.TextIOBase, dialect: Dialect) -> Iterator[list[str]]:
    return csv.reader(fh, delimiter=dialect.delimiter, quotechar=dialect.quotechar, strict=False)


def _check_encoding_name(encoding: str) -> None:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ReadError(f"unknown encoding {encoding!r}") from None


def _check_columns(path: str, header: Sequence[str], columns: Sequence[str], dialect: Dialect) -> None:
    for col in columns:
        if col not in header:
            raise ReadError(_delimiter_hint(header, col, dialect) or f"column {col!r} not found in {path}")
        if header.count(col) > 1:
            raise ReadError(f"column {col!r} appears {header.count(col)} times in the header of {path}")


def _delimiter_hint(header: Sequence[str], missing: str, dialect: Dialect) -> str | None:
    """The hint "the file looks semicolon-delimited; pass --delimiter ';'" when another delimiter splits the
    header into more fields and (unless the header is one field) finds the missing column."""
    line = dialect.delimiter.join(header)
    best, fields = None, len(header)
    for delimiter in DELIMITERS:
        names = [name.strip() for name in line.split(delimiter)]
        if delimiter != dialect.delimiter and len(names) > fields and (len(header) == 1 or missing in names):
            best, fields = delimiter, len(names)
    if best is None:
        return None
    shown = "tab" if best == "\t" else best
    return f"the file looks {DELIMITERS[best]}-delimited; pass --delimiter '{shown}'"


def _decode_error(path: str, encoding: str) -> ReadError:
    """Name the first line that is not text in ``encoding`` (decoded line by line, as the readers do)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    line = 0
    try:
        with open(path, "rb") as fh:
            for line, raw in enumerate(fh, start=1):  # noqa: B007  # the line number is reported below
                decoder.decode(raw)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        byte = exc.object[exc.start : exc.start + 1].hex() if isinstance(exc.object, bytes) else "?"
        return ReadError(
            f"{path}, line {max(line, 1)}: byte 0x{byte} is not {encoding} text; save the file as UTF-8 "
            "or pass --encoding (e.g. --encoding cp1258)"
        )
    except OSError as exc:
        return ReadError(f"cannot read {path}: {exc.strerror}")
    return ReadError(f"{path} is not {encoding} text; save the file as UTF-8 or pass --encoding")


def _width_error(path: str, widths: Sequence[int] | np.ndarray, width: int) -> ReadError | None:
    """The first data record (``widths[0]`` is line 2) whose field count is not the header's."""
    counts = np.asarray(widths, dtype=np.int64)
    blank = counts == 0
    if width == 1:
        counts = np.where(blank, 1, counts)  # one column: a blank line is an empty cell
    bad = np.flatnonzero(counts != width)
    if not len(bad):
        return None
    i = int(bad[0])
    if blank[i]:
        return ReadError(f"{path}, line {i + 2} is empty (the header has {width} fields)")
    what = "short row: a missing delimiter or a truncated line?" if counts[i] < width else "more fields than the header"
    return ReadError(f"{path}, line {i + 2}: {int(counts[i])} fields, the header has {width} ({what})")


def _trailing_blanks(widths: Sequence[int] | np.ndarray) -> int:
    """Data records to keep: blank lines at the very end of the file are dropped."""
    counts = np.asarray(widths, dtype=np.int64)
    filled = np.flatnonzero(counts != 0)
    return int(filled[-1]) + 1 if len(filled) else 0


def _read_stdlib(path: str, header: Sequence[str], columns: Sequence[str], dialect: Dialect) -> Table:
    try:
        with open(path, newline="", encoding=dialect.encoding) as fh:
            reader = _reader(fh, dialect)
            next(reader, None)
            rows = list(reader)
    except OSError as exc:
        raise ReadError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise _decode_error(path, dialect.encoding) from None
    except csv.Error as exc:
        raise ReadError(f"cannot parse {path}: {exc}") from None
    widths = [len(row) for row in rows]
    rows = rows[: _trailing_blanks(widths)]
    if not rows:
        raise ReadError(f"{path} has no data rows")
    error = _width_error(path, widths[: len(rows)], len(header))
    if error is not None:
        raise error
    if len(header) == 1:
        rows = [row or [""] for row in rows]
    transposed = list(zip(*rows, strict=True))
    data = {c: np.strings.strip(np.array(transposed[header.index(c)], dtype=str)) for c in columns}
    return Table(data, len(rows), tuple(header))


def _read_pandas(path: str, header: Sequence[str], columns: Sequence[str], dialect: Dialect) -> Table:
    import pandas

    # By position: the header as the csv module read it (names stripped) decides, not pandas' own parse of it.
    positions = sorted({header.index(c) for c in columns})
    try:
        frame = pandas.read_csv(
            path,
            sep=dialect.delimiter,
            quotechar=dialect.quotechar,
            usecols=positions,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            encoding=dialect.encoding,
            skip_blank_lines=False,
            engine="c",
        )
    except UnicodeDecodeError:
        raise _decode_error(path, dialect.encoding) from None
    except (pandas.errors.ParserError, pandas.errors.EmptyDataError, ValueError) as exc:
        raise ReadError(f"cannot parse {path}: {str(exc).splitlines()[0]}") from None
    widths = record_widths(path, dialect)
    keep = _trailing_blanks(widths)
    if keep != len(frame):  # the two parsers disagree (a lone CR line end, a stray quote): trust the csv module
        return _read_stdlib(path, header, columns, dialect)
    if keep == 0:
        raise ReadError(f"{path} has no data rows")
    error = _width_error(path, widths[:keep], len(header))
    if error is not None:
        raise error
    data = {
        c: np.strings.strip(frame.iloc[:keep, positions.index(header.index(c))].to_numpy(dtype=str)) for c in columns
    }
    return Table(data, keep, tuple(header))


#: pyarrow parses this much of the file per task (a few tasks per core; each chunk has its own dictionaries).
_ARROW_BLOCK = 4 << 20


def _read_arrow(
    path: str,
    header: Sequence[str],
    columns: Sequence[str],
    dialect: Dialect,
    numbers: Sequence[str],
    integers: Sequence[str],
) -> Table | None:
    """The table by pyarrow's CSV reader, or None whenever another reader must read (or judge) the file.

    Only a UTF-8 (or ASCII) file of more than one column with no blank line and every record as wide as the
    header is read here; the whole file is checked to be UTF-8 (pyarrow checks only the columns it keeps).
    Label columns are read through a dictionary and stripped as the other readers strip them; ``numbers``
    as float64 and ``integers`` as int8 (so ``4.0`` or ``4.5`` in an item column, or a non-finite number,
    sends the file to the other readers, which keep the cell's text for the error message).
    """
    if codecs.lookup(dialect.encoding).name not in ("utf-8", "utf-8-sig", "ascii") or len(header) < 2:
        return None
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv
    except ImportError:
        return None
    if not _is_utf8(path, ascii_only=codecs.lookup(dialect.encoding).name == "ascii"):
        return None
    names = [f"f{i}" for i in range(len(header))]
    wanted = {c: names[header.index(c)] for c in columns}
    dictionary = pa.dictionary(pa.int32(), pa.string())
    types = {wanted[c]: pa.float64() if c in numbers else pa.int8() if c in integers else dictionary for c in columns}
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(skip_rows=1, column_names=names, block_size=_ARROW_BLOCK),
            parse_options=pacsv.ParseOptions(
                delimiter=dialect.delimiter,
                quote_char=dialect.quotechar,
                double_quote=True,
                newlines_in_values=True,
                ignore_empty_lines=False,  # a blank line becomes a row of empty cells: refused below
            ),
            convert_options=pacsv.ConvertOptions(
                include_columns=list(dict.fromkeys(wanted.values())),
                column_types=types,
                null_values=[""],
                strings_can_be_null=False,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowException, OSError, ValueError):
        return None
    n = table.num_rows
    if n == 0:
        return None
    data: dict[str, np.ndarray] = {}
    empty = np.ones(n, dtype=bool)
    for c in columns:
        col = table.column(wanted[c])
        if c in numbers or c in integers:
            values = col.cast(pa.float32() if c in integers else pa.float64()).to_numpy()
            blank = np.isnan(values)
            if np.count_nonzero(blank) != col.null_count:  # "nan" in the file: let the other readers judge it
                return None
            if c in numbers and not np.all(np.isfinite(values[~blank])):
                return None
        else:
            if col.null_count:
                return None
            values = _arrow_labels(col)
            blank = values == ""
        empty &= blank
        data[c] = values
    del table, col
    pa.default_memory_pool().release_unused()  # the parser's blocks back to the system, not kept for later
    if np.any(empty):  # a blank line (or a record empty in every column read): the other readers decide
        return None
    return Table(data, n, tuple(header))


def _arrow_labels(col: Any) -> np.ndarray:
    """A dictionary-encoded pyarrow column as stripped numpy strings: each chunk's few distinct labels are
    stripped once and indexed, never a Python string per cell."""
    parts = []
    for chunk in col.chunks:
        labels = np.strings.strip(np.array(chunk.dictionary.to_pylist() or [""], dtype=str))
        parts.append(labels[chunk.indices.to_numpy()])
    return np.concatenate(parts) if parts else np.zeros(0, dtype=str)


def _is_utf8(path: str, *, ascii_only: bool) -> bool:
    """Whether the whole file is UTF-8 (ASCII) text, read in blocks; pure ASCII blocks are not decoded."""
    decoder = codecs.getincrementaldecoder("ascii" if ascii_only else "utf-8")()
    try:
        with open(path, "rb") as fh:
            while block := fh.read(_ARROW_BLOCK):
                if not block.isascii() or decoder.getstate()[0]:
                    decoder.decode(block)
            decoder.decode(b"", final=True)
    except (UnicodeDecodeError, OSError):
        return False
    return True


def record_widths(path: str, dialect: Dialect = Dialect()) -> list[int]:
    """Fields per data record (0 for a blank line), the header excluded.

    For encodings in which delimiter, quote and line feed are single bytes (UTF-8 among them) the bytes
    are scanned line by line, a quote toggling "inside a quoted field" (a doubled quote toggles twice);
    a record continues over line breaks inside quotes. Other encodings go through the csv module.
    """
    if codecs.lookup(dialect.encoding).name not in _BYTE_SAFE:
        with open(path, newline="", encoding=dialect.encoding) as fh:
            return [len(row) for row in _reader(fh, dialect)][1:]
    delim, quote = dialect.delimiter.encode(), dialect.quotechar.encode()
    widths: list[int] = []
    add = widths.append
    inside = False
    fields = 1
    with open(path, "rb") as fh:
        for line in fh:
            if not inside and quote not in line:
                stripped = line.rstrip(b"\r\n")
                add(stripped.count(delim) + 1 if stripped else 0)
                continue
            for k, part in enumerate(line.split(quote)):
                if k:
                    inside = not inside
                if not inside:
                    fields += part.count(delim)
            if not inside:
                add(fields)
                fields = 1
    if inside:
        add(fields)
    return widths[1:]

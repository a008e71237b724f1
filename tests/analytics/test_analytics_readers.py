"""``analytics.readers``: pyarrow's typed reader gives what the csv module gives, or steps aside."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from analytics import readers
from analytics.readers import Dialect, read_table

pytest.importorskip("pyarrow")

COLUMNS = ["w", "q1", "q2", "s"]


def write(tmp_path, data: bytes) -> str:
    path = tmp_path / "data.csv"
    path.write_bytes(data)
    return str(path)


def as_text(table: readers.Table, column: str) -> list[str]:
    """A column as the text readers give it: parsed numbers back to their values, blank as ''."""
    values = table.columns[column]
    if values.dtype.kind == "f":
        return ["" if np.isnan(v) else f"{v:g}" for v in values.tolist()]
    return values.tolist()


def stdlib_table(monkeypatch, path: str) -> readers.Table:
    with monkeypatch.context() as m:
        for name in ("pyarrow", "pyarrow.csv", "pandas"):
            m.setitem(sys.modules, name, None)
        return read_table(path, COLUMNS)


def test_pyarrow_parses_numbers_and_strips_labels_as_the_csv_module_does(tmp_path, monkeypatch):
    text = 'w,q1,q2,s,note\n1.5,5,,  A ,"a, b"\n2,4,3,B,"two\nlines"\n0.25,,1,A,"say ""hi"""\n'
    path = write(tmp_path, text.encode())
    fast = read_table(path, COLUMNS, numbers=["w"], integers=["q1", "q2"])
    assert fast.columns["w"].dtype == np.float64 and fast.columns["q1"].dtype == np.float32
    assert fast.columns["s"].dtype.kind == "U"
    slow = stdlib_table(monkeypatch, path)
    assert fast.n_rows == slow.n_rows == 3
    for column in COLUMNS:
        assert as_text(fast, column) == as_text(slow, column), column
    assert fast.columns["w"].tolist() == [1.5, 2.0, 0.25]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"w,q1,q2,s\n1,4.0,3,A\n", id="item-not-a-whole-number"),
        pytest.param(b"w,q1,q2,s\n1,400,3,A\n", id="item-out-of-int8"),
        pytest.param(b"w,q1,q2,s\nnan,4,3,A\n", id="non-finite-weight"),
        pytest.param(b"w,q1,q2,s\n1,4,3,A\n\n2,5,5,B\n", id="blank-line"),
        pytest.param(b"w,q1,q2,s\n1,4,3,A\n2,5,5,B\n\n\n", id="trailing-blank-lines"),
        pytest.param(b"w,q1,q2,s,note\n1,4,3,A,T\xf4t\n", id="not-utf8-in-an-unread-column"),
        pytest.param(b"w,q1,q2,s\n1,4,3\n", id="short-row"),
    ],
)
def test_pyarrow_steps_aside_and_the_text_readers_decide(tmp_path, data):
    assert readers._read_arrow(write(tmp_path, data), tuple(data.split(b"\n")[0].decode().split(",")),
                               COLUMNS, Dialect(), ["w"], ["q1", "q2"]) is None  # fmt: skip


def test_trailing_blank_lines_are_read_by_the_text_readers(tmp_path):
    path = write(tmp_path, b"w,q1,q2,s\n1,4,3,A\n2,5,5,B\n\n\n")
    table = read_table(path, COLUMNS, numbers=["w"], integers=["q1", "q2"])
    assert table.n_rows == 2 and table.columns["s"].tolist() == ["A", "B"]


def test_another_encoding_is_left_to_the_text_readers(tmp_path):
    path = write(tmp_path, "w,q1,q2,s\n1,4,3,Hoa Lư\n".encode("cp1258"))
    table = read_table(path, COLUMNS, Dialect(encoding="cp1258"), numbers=["w"], integers=["q1", "q2"])
    assert table.columns["s"].tolist() == ["Hoa Lư"] and table.columns["w"].dtype.kind == "U"


def test_a_semicolon_file_is_parsed_with_its_delimiter(tmp_path):
    path = write(tmp_path, b"w;q1;q2;s\n1,5;4;;A\n")
    table = read_table(path, COLUMNS, Dialect(delimiter=";"), numbers=["w"], integers=["q1", "q2"])
    assert table.columns["w"].dtype.kind == "U"  # "1,5" is not a number to pyarrow: the text readers read it
    assert table.columns["w"].tolist() == ["1,5"] and table.columns["q2"].tolist() == [""]

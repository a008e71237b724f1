"""SQL pieces the tally reads share (indices, breakdowns): day numbers and literal id lists.

Both read tallies in bulk through cached compiled statements; these constructs keep the cache valid.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BindParameter, Integer, bindparam
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class EpochDays(FunctionElement[int]):
    """Days since 1970-01-01 of a DATE column, as an integer computed in SQL, so every column read is numeric."""

    type = Integer()
    name = "epoch_days"
    inherit_cache = True


@compiles(EpochDays, "sqlite")
def _epoch_days_sqlite(element: EpochDays, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(julianday({compiler.process(element.clauses, **kw)}) - 2440587.5 AS INTEGER)"


@compiles(EpochDays, "postgresql")
def _epoch_days_postgresql(element: EpochDays, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)} - DATE '1970-01-01')"


@compiles(EpochDays)
def _epoch_days_other(element: EpochDays, compiler: SQLCompiler, **kw: Any) -> str:
    raise CompileError(f"epoch_days is written for SQLite and PostgreSQL, not {compiler.dialect.name}")


def id_list(name: str) -> BindParameter[Any]:
    """An ``IN`` list of integers, rendered into the SQL text when run (one list per call, as the planner
    likes them), after the cached compilation."""
    return bindparam(name, expanding=True, literal_execute=True)

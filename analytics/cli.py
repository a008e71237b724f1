"""Command line: ``python -m analytics estimate DATA.csv [--codebook DATA.codebook.json] [options]``.

Reads one row per response (:mod:`analytics.readers`), estimates every item, each group (element) and
the overall index, for the whole sample and for each value of ``--by``, and prints JSON. With the
codebook SIPAS writes beside an export (:mod:`analytics.codebook_file`) every setting comes from it:
item columns and their missing codes (8 = not applicable, 9 = not answered), elements and their
weights, the composite definition, weight, strata, PSUs and lonely-PSU rule of the dashboard's design,
the status filter and the CSV dialect; an option given on the command line overrides the codebook.
Bad input exits with status 2 and one line on stderr naming the file, column, line or stratum.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .codebook_file import ExportCodebook, codebook_name, load_codebook
from .design import LONELY_PSU_OPTIONS, Design, factorise
from .errors import AnalyticsError
from .estimators import DEFINITIONS, CompositeSpec, composite_specs, estimate_from_rows, kish
from .intervals import SHARE_METHODS
from .readers import Dialect, delimiter_option, read_table
from .tables import NOT_ANSWERED, NOT_APPLICABLE

#: Scores the estimators take; a share counts 4 and 5 as satisfied.
SCORES = (1, 2, 3, 4, 5)
SATISFIED_FROM = 4
#: Missing codes without a codebook: those of every SIPAS export.
DEFAULT_MISSING = (NOT_APPLICABLE, NOT_ANSWERED)

DESCRIPTION = """\
Estimate item shares (answers 4-5) and mean scores, element composites and the
overall index, with design-based confidence intervals, for the whole sample and
for each value of --by. Prints JSON on stdout.

With --codebook (the .codebook.json file written beside every SIPAS export),
the items, missing codes, elements, weights, design, status filter and CSV
dialect come from the codebook, so the numbers are the dashboard's for the
same scope and period. Options given explicitly override the codebook.
Without a codebook, --items and --weight are required, a blank cell or the
code 8 or 9 means no answer, and every row counts.

Exit status: 0 success; 2 bad input, with one line on stderr naming the file,
column or line."""

EPILOG = """\
examples:
  python -m analytics estimate export.csv --codebook export.codebook.json --by stratum
  python -m analytics estimate survey.csv --items q1,q2,q3 --weight w --strata region \\
      --psu school,class --fpc n_schools,n_classes --delimiter ';' --r-compatible"""


class CliError(Exception):
    """Input problem reported as one line with exit status 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m analytics", description="Design-based survey estimates from a CSV file of responses."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    est = sub.add_parser(
        "estimate",
        help="shares and mean scores with design-based confidence intervals",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    est.add_argument(
        "data", nargs="?", metavar="DATA.csv", help="CSV file, one row per response (default: the codebook's data file)"
    )
    est.add_argument(
        "--codebook", metavar="FILE", help="the export's codebook (DATA.codebook.json) to take every setting from"
    )
    est.add_argument(
        "--items", metavar="COLS", help="comma-separated item columns (scores 1-5; blank or a missing code = no answer)"
    )
    est.add_argument("--weight", metavar="COL", help="weight column")
    est.add_argument("--strata", metavar="COL", help="stratum column (default: one stratum)")
    est.add_argument(
        "--psu",
        metavar="COLS",
        help="PSU columns, comma-separated, one per stage, stage 1 first (default: each row is a PSU)",
    )
    est.add_argument(
        "--fpc",
        metavar="COLS",
        help="finite population correction columns, one per stage (fewer allowed): the population number of "
        "units of the stratum, or the sampling fraction",
    )
    est.add_argument(
        "--groups", metavar="FILE", help="JSON file mapping group names to item lists (or to {item: weight})"
    )
    est.add_argument("--definition", choices=DEFINITIONS, help="composite definition (default A, or the codebook's)")
    est.add_argument("--by", metavar="COL", help="column whose values define domains, besides the whole sample")
    est.add_argument(
        "--status", metavar="COL=VALUE", help="COLUMN=VALUE: only rows with this value count; 'all' = every row"
    )
    est.add_argument(
        "--missing-codes", metavar="CODES", help="comma-separated codes meaning no answer (default 8,9); 'none' = none"
    )
    est.add_argument("--delimiter", metavar="CHAR", help="field delimiter: one character, or 'tab' (default ',')")
    est.add_argument(
        "--encoding", metavar="NAME", help="text encoding of the file (default utf-8-sig: UTF-8, with or without BOM)"
    )
    est.add_argument(
        "--ci", choices=SHARE_METHODS, default="beta", help="interval for item shares (default beta: Korn-Graubard)"
    )
    est.add_argument("--r-compatible", action="store_true", help="reproduce R 4.1 svyciprop, NaN included")
    est.add_argument("--level", type=float, metavar="P", default=0.95, help="confidence level (default 0.95)")
    est.add_argument(
        "--lonely-psu",
        choices=LONELY_PSU_OPTIONS,
        help="single-PSU strata, as R's survey.lonely.psu (default fail, or the codebook's)",
    )
    return parser


# -- settings: the command line over the codebook ------------------------------------------------------------


@dataclass
class Settings:
    data: str
    items: list[str]
    weight: str
    strata: str | None
    psu: list[str]
    fpc: list[str]
    by: str | None
    lonely_psu: str
    missing: tuple[int, ...]
    status: tuple[str, str] | None
    dialect: Dialect
    #: Group → {item: relative weight}; None = one composite "overall" over the items.
    groups: dict[str, dict[str, float]] | None
    group_weights: dict[str, float] | None
    overall: str | None
    definition: str
    codebook: str | None = None
    notes: list[str] = field(default_factory=list)


def _split(text: str, option: str) -> list[str]:
    values = [s.strip() for s in text.split(",") if s.strip()]
    if not values:
        raise CliError(f"{option} is empty")
    if len(set(values)) != len(values):
        raise CliError(f"{option} lists a column twice")
    return values


def _codes(text: str) -> tuple[int, ...]:
    if text.strip().lower() == "none":
        return ()
    try:
        return tuple(int(s) for s in _split(text, "--missing-codes"))
    except ValueError:
        raise CliError(f"--missing-codes must be comma-separated integers, not {text!r}") from None


def _status(text: str) -> tuple[str, str] | None:
    if text.strip().lower() == "all":
        return None
    column, sep, value = text.partition("=")
    if not sep or not column.strip():
        raise CliError(f"--status must be COLUMN=VALUE or 'all', not {text!r}")
    return column.strip(), value.strip()


def _required(option: str, data: str) -> CliError:
    """``--items is required without --codebook``, pointing at the codebook beside the data file if there is one."""
    beside = Path(data).with_name(codebook_name(Path(data).name))
    hint = f"; pass --codebook {beside}" if beside.is_file() else ""
    return CliError(f"{option} is required without --codebook{hint}")


def settings(args: argparse.Namespace) -> Settings:
    """The run's settings: each option given, else the codebook's value, else the default."""
    book = load_codebook(args.codebook) if args.codebook else None
    data = args.data or (book.data_path if book else None)
    if not data:
        raise CliError("give the data file (or --codebook, whose data file is then read)")
    if book is not None:
        _check_scale(book)
    if args.items:
        items = _split(args.items, "--items")
    elif book is not None:
        items = [item.column for item in book.items]
    else:
        raise _required("--items", data)
    weight = args.weight or (book.weight if book else None)
    if not weight:
        raise _required("--weight", data)
    lonely = args.lonely_psu or (book.lonely_psu if book else "fail")
    if lonely not in LONELY_PSU_OPTIONS:
        raise CliError(f"the codebook's lonely_psu {lonely!r} is not one of {', '.join(LONELY_PSU_OPTIONS)}")
    if args.missing_codes is not None:
        missing = _codes(args.missing_codes)
    elif book is not None:
        missing = tuple(sorted({code for item in book.items for code in item.missing_codes}))
    else:
        missing = DEFAULT_MISSING
    if set(missing) & set(SCORES):
        raise CliError("a missing code cannot be a score (1-5)")
    if args.status is not None:
        status = _status(args.status)
    elif book is not None and book.status_column and book.status_valid is not None:
        status = (book.status_column, book.status_valid)
    else:
        status = None
    dialect = Dialect(
        delimiter=delimiter_option(args.delimiter) if args.delimiter else (book.delimiter if book else ","),
        encoding=args.encoding or (book.encoding if book else "utf-8-sig"),
        quotechar=book.quotechar if book else '"',
    )
    out = Settings(
        data=data,
        items=items,
        weight=weight,
        strata=args.strata if args.strata is not None else (book.strata if book else None),
        psu=_split(args.psu, "--psu") if args.psu else list(book.psu) if book else [],
        fpc=_split(args.fpc, "--fpc") if args.fpc else list(book.fpc) if book else [],
        by=args.by,
        lonely_psu=lonely,
        missing=missing,
        status=status,
        dialect=dialect,
        groups=None,
        group_weights=None,
        overall="overall",
        definition=args.definition or (book.definition if book else "A"),
        codebook=args.codebook,
    )
    if len(out.fpc) > max(len(out.psu), 1):
        raise CliError(f"--fpc names {len(out.fpc)} columns but the design has {max(len(out.psu), 1)} stage(s)")
    if args.groups:
        out.groups = _load_groups(args.groups, items)
    elif book is not None:
        _codebook_groups(out, book, explicit_items=bool(args.items))
    return out


def _check_scale(book: ExportCodebook) -> None:
    if book.satisfied_from != SATISFIED_FROM:
        raise CliError(f"{book.path}: satisfied_from {book.satisfied_from} is not supported (shares count 4-5)")
    for item in book.items:
        if not set(item.valid_codes) <= set(SCORES):
            raise CliError(f"{book.path}: item {item.column!r} has valid codes outside 1-5")


def _codebook_groups(out: Settings, book: ExportCodebook, *, explicit_items: bool) -> None:
    """The codebook's elements, limited to the items estimated (an explicit --items may name fewer)."""
    wanted = set(out.items)
    groups = {g: {k: v for k, v in members.items() if k in wanted} for g, members in book.groups.items()}
    groups = {g: members for g, members in groups.items() if members}
    if explicit_items and len(groups) < len(book.groups):
        out.notes.append("elements without any of the --items left out")
    if groups:
        out.groups = groups
        out.group_weights = {g: book.group_weights[g] for g in groups}
        out.overall = book.overall


def _load_groups(path: str, items: Sequence[str]) -> dict[str, dict[str, float]]:
    try:
        with open(path, encoding="utf-8") as fh:
            groups = json.load(fh)
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f": {exc.msg} at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise CliError(f"{path} is not valid JSON{where}") from None
    if not isinstance(groups, dict) or not groups:
        raise CliError(f"{path} must map group names to non-empty lists of items")
    out: dict[str, dict[str, float]] = {}
    for name, members in groups.items():
        if isinstance(members, list) and members:
            weights = dict.fromkeys(members, 1.0)
        elif isinstance(members, dict) and members:
            weights = members
        else:
            raise CliError(f"{path} must map group names to non-empty lists of items")
        for m, w in weights.items():
            if m not in items:
                raise CliError(f"group {name!r} in {path} refers to item {m!r}, not in --items")
            if isinstance(w, bool) or not isinstance(w, int | float) or not (math.isfinite(w) and w > 0):
                raise CliError(f"group {name!r} in {path}: the weight of {m!r} must be a positive number")
        out[str(name)] = {str(m): float(w) for m, w in weights.items()}
    return out


# -- values -----------------------------------------------------------------------------------------------------


class _NeedsText(Exception):
    """A parsed item column holds a value outside 1-5: the message quotes the cell, so read it as text."""


def _scores(values: np.ndarray, column: str, missing: tuple[int, ...], lines: np.ndarray) -> np.ndarray:
    """Item scores 1-5; blank or a missing code = NaN. One-character cells are decoded from their code points;
    a column the reader parsed (whole numbers, NaN = blank) is checked as numbers."""
    if values.dtype.kind == "f":
        x = values.astype(float)
        none = np.isnan(x)
        for m in missing:
            none |= x == m
        ok = none.copy()
        for value in SCORES:
            ok |= x == value
        if not np.all(ok):
            raise _NeedsText(column)
        x[none] = np.nan
        return x
    if values.dtype.itemsize <= 4:  # numpy stores str as UCS-4: every cell holds at most one character
        code = values.view(np.uint32).astype(np.int64)
        score = code - ord("0")
        none = (code == 0) | np.isin(score, [m for m in missing if 0 <= m <= 9])
        if np.all(none | ((score >= 1) & (score <= 5))):
            return np.where(none, np.nan, score.astype(float))
    blank = values == ""
    try:
        x = np.where(blank, "nan", values).astype(float)
    except ValueError:
        for v, line, empty in zip(values.tolist(), lines.tolist(), blank.tolist(), strict=True):
            if not empty:
                _number(v, column, line, "item")
        raise AssertionError("unreachable: a cell did not convert") from None
    none = blank | np.isin(x, missing)
    outside = np.flatnonzero(~none & ~np.isin(x, SCORES))
    if len(outside):
        i = int(outside[0])
        raise CliError(f"item column {column!r}, line {int(lines[i])}: score {str(values[i])!r} is outside 1-5")
    return np.where(none, np.nan, x)


def _numbers(values: np.ndarray, column: str, what: str, lines: np.ndarray) -> np.ndarray:
    """Vectorised float conversion; on failure, name the first offending line. A column the reader parsed
    (NaN = blank) needs only the blank check."""
    if values.dtype.kind == "f":
        blank = np.flatnonzero(np.isnan(values))
        if len(blank):
            raise CliError(f"{what} column {column!r}, line {int(lines[blank[0]])}: the value is blank")
        return values.astype(float)
    try:
        out = values.astype(float)
    except ValueError:
        out = None
    if out is None or not np.all(np.isfinite(out)):
        for v, line in zip(values.tolist(), lines.tolist(), strict=True):
            _number(v, column, line, what)
    assert out is not None
    return out


def _number(value: str, column: str, line: int, what: str) -> float:
    if value == "":
        raise CliError(f"{what} column {column!r}, line {line}: the value is blank")
    try:
        x = float(value)
    except ValueError:
        raise CliError(f"{what} column {column!r}, line {line}: {value!r} is not a number") from None
    if not math.isfinite(x):
        raise CliError(f"{what} column {column!r}, line {line}: {value!r} is not a finite number")
    return x


def _degrees_of_freedom(weights: np.ndarray, strata: np.ndarray | None, psu: np.ndarray | None) -> int:
    """R's ``degf``: first-stage PSUs with a non-zero weight minus the strata they lie in."""
    nonzero = weights != 0
    n = len(weights)
    s = factorise(strata)[0] if strata is not None else np.zeros(n, dtype=np.int64)
    p = factorise(psu)[0] if psu is not None else np.arange(n, dtype=np.int64)
    pairs = s * (int(p.max(initial=0)) + 1) + p
    return int(len(np.unique(pairs[nonzero])) - len(np.unique(s[nonzero])))


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


# -- the run ----------------------------------------------------------------------------------------------------


def run_estimate(args: argparse.Namespace) -> dict[str, Any]:
    if not 0 < args.level < 1:
        raise CliError("--level must be between 0 and 1")
    cfg = settings(args)
    items = cfg.items
    status_col = [cfg.status[0]] if cfg.status else []
    extra = [c for c in (cfg.weight, cfg.strata, *cfg.psu, *cfg.fpc, cfg.by, *status_col) if c]
    # Columns that are also labels (a psu that is an fpc, an item that is --by) stay text.
    labels = {c for c in (cfg.strata, *cfg.psu, cfg.by, *status_col) if c}
    numbers = [c for c in (cfg.weight, *cfg.fpc) if c not in labels and c not in items]
    integers = [c for c in items if c not in labels and c not in numbers]
    table = read_table(cfg.data, list(dict.fromkeys([*items, *extra])), cfg.dialect, numbers=numbers, integers=integers)
    data, lines = table.columns, np.arange(2, table.n_rows + 2)
    keep: np.ndarray | None = None
    if cfg.status:
        column, valid = cfg.status
        keep = data[column] == valid
        if not np.any(keep):
            raise CliError(f"no row of {cfg.data} has {column} = {valid!r}")
        data = {c: v[keep] for c, v in data.items()}
        lines = lines[keep]
    n = len(lines)
    weights = _numbers(data[cfg.weight], cfg.weight, "weight", lines)
    bad = np.flatnonzero(weights < 0)
    if len(bad):
        raise CliError(f"weight column {cfg.weight!r}, line {int(lines[bad[0]])}: weights must not be negative")
    if not np.any(weights > 0):
        raise CliError(f"weight column {cfg.weight!r}: every weight is zero")
    # float32 holds the scores exactly at half the memory; one column after another (Fortran order)
    scores = np.empty((n, len(items)), dtype=np.float32, order="F")
    for k, item in enumerate(items):
        try:
            scores[:, k] = _scores(data.pop(item) if item in integers else data[item], item, cfg.missing, lines)
        except _NeedsText:  # the error message quotes the cell as written
            text = read_table(cfg.data, [item], cfg.dialect).columns[item]
            _scores(text if keep is None else text[keep], item, cfg.missing, lines)
            raise AssertionError("unreachable: the text of a bad score raised") from None
    for col in (cfg.strata, *cfg.psu, cfg.by):
        if col:
            blank = np.flatnonzero(data[col] == "")
            if len(blank):
                raise CliError(f"column {col!r}, line {int(lines[blank[0]])}: value is blank")
    for col in labels:  # read-only: the engine then factorises each label column once (design.factorise)
        data[col].setflags(write=False)
    specs = _composites(cfg, scores)
    # Labels stay numpy string arrays: the estimators factorise those on numpy's fast path.
    strata = data[cfg.strata] if cfg.strata else None
    stages = [data[c] for c in cfg.psu]
    fpcs = [_numbers(data[c], c, "fpc", lines) for c in cfg.fpc]
    # One stage: the arrays themselves; several: one array per stage, stage 1 first (Design.from_rows).
    psu: Any = (stages[0] if len(stages) == 1 else stages) if stages else None
    fpc: Any = (fpcs[0] if len(stages) <= 1 else fpcs) if fpcs else None
    by = data[cfg.by] if cfg.by else None
    design = Design.from_rows(strata, psu, fpc, lonely_psu=cfg.lonely_psu, n_rows=n)
    result = estimate_from_rows(
        weights,
        scores,
        items,
        strata=strata,
        psu=psu,
        by=by,
        design=design,
        composites=specs,
        ci=args.ci,
        r_compatible=args.r_compatible,
        level=args.level,
    )
    k_neff, k_deff = kish(weights)
    return {
        "data": {
            "file": cfg.data,
            "codebook": cfg.codebook,
            "rows_read": table.n_rows,
            "rows_used": n,
            "status": None if cfg.status is None else {"column": cfg.status[0], "valid": cfg.status[1]},
            "items": items,
            "missing_codes": list(cfg.missing),
        },
        "design": {
            "n": n,
            "strata": design.n_strata,
            "psus": int(design.n_h.sum()),
            "df": _degrees_of_freedom(weights, strata, stages[0] if stages else None),
            "lonely_psu": cfg.lonely_psu,
            "weight": cfg.weight,
            "strata_column": cfg.strata,
            "psu_columns": cfg.psu,
            "fpc_columns": cfg.fpc,
            "kish_n_eff": _finite(k_neff),
            "kish_deff": _finite(k_deff),
        },
        "composites": [
            {"name": s.name, "definition": s.definition, "coefficients": dict(s.coefficients)} for s in specs
        ],
        "notes": cfg.notes,
        "estimates": [_estimate(e, cfg.by) for e in result.estimates],
    }


def _composites(cfg: Settings, scores: np.ndarray) -> list[CompositeSpec]:
    """Element and overall composites over the items with a valid answer (an unanswered item drops out of its
    element, an element left empty out of the overall index: the dashboard's rule)."""
    answered = [item for k, item in enumerate(cfg.items) if np.any(~np.isnan(scores[:, k]))]
    if not answered:
        raise CliError(f"no valid answer to any item in {cfg.data}")
    unanswered = [item for item in cfg.items if item not in answered]
    if unanswered:
        cfg.notes.append(f"no valid answers for {', '.join(unanswered)}: left out of the composites")
    if cfg.groups is None:
        return composite_specs({"overall": answered}, definition=cfg.definition, overall=None)
    groups = {g: {k: w for k, w in members.items() if k in answered} for g, members in cfg.groups.items()}
    groups = {g: members for g, members in groups.items() if members}
    if not groups:
        return []
    weights = {g: cfg.group_weights[g] for g in groups} if cfg.group_weights else None
    return composite_specs(groups, definition=cfg.definition, group_coefficients=weights, overall=cfg.overall)


def _estimate(e: Any, by: str | None) -> dict[str, Any]:
    d = e.to_dict()
    return {
        "domain": {} if e.domain is None else {by: e.domain},
        "target": e.target,
        "kind": e.kind,
        "definition": e.definition,
        "estimate": d["estimate"],
        "se": d["se"],
        "df": e.df,
        "n": e.n,
        "ci": d["ci"],
        "ci_method": e.ci_method,
        "n_eff": d["n_eff"],
        "deff": d["deff"],
        "flags": d["flags"],
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 success, 2 bad input)."""
    args = _parser().parse_args(argv)
    try:
        result = run_estimate(args)
    except (CliError, AnalyticsError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2, allow_nan=False) + "\n")
    return 0

"""Command line: ``python -m analytics estimate DATA.csv --items q01,q02 --weight w ...``.

Reads one row per response (blank cell = no answer) with the csv module, estimates every item, each
group of ``--groups`` (definition A) and the overall index (equal-weight mean of the groups, or of the
items without groups), for the whole sample and for each value of ``--by``, and prints JSON. Bad input
exits with status 2 and one line on stderr naming the column, line or stratum.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from .design import Design
from .errors import AnalyticsError
from .estimators import composite_specs, estimate_from_rows, kish
from .intervals import SHARE_METHODS


class CliError(Exception):
    """Input problem reported as one line with exit status 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analytics", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    est = sub.add_parser("estimate", help="estimate shares and mean scores with design-based CIs")
    est.add_argument("data", help="CSV file, one row per response")
    est.add_argument("--items", required=True, help="comma-separated item columns (scores 1-5, blank = no answer)")
    est.add_argument("--weight", required=True, help="weight column")
    est.add_argument("--strata", help="stratum column (default: one stratum)")
    est.add_argument("--psu", help="PSU column, nested in strata (default: each response is a PSU)")
    est.add_argument("--fpc", help="column with the population number of PSUs of the stratum (or the fraction)")
    est.add_argument("--groups", help="JSON file mapping group names to item lists")
    est.add_argument("--by", help="column whose values define domains, besides the whole sample")
    est.add_argument("--ci", choices=SHARE_METHODS, default="beta", help="CI for item shares (default beta = KG)")
    est.add_argument("--r-compatible", action="store_true", help="reproduce R 4.1 svyciprop, NaN included")
    est.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    est.add_argument(
        "--lonely-psu", choices=("fail", "certainty", "remove", "average"), default="fail", help="single-PSU strata"
    )
    return parser


def _read(path: str, columns: Sequence[str]) -> tuple[dict[str, np.ndarray], int]:
    """The wanted columns as numpy string arrays (stripped).

    pandas' C parser reads a large file several times faster than the csv module, so it is used when
    installed (the statistics never need it); otherwise the standard library does the same job.
    """
    try:
        import pandas as pd
    except ImportError:
        return _read_stdlib(path, columns)
    header = _header(path)
    missing = [c for c in columns if c not in header]
    if missing:
        raise CliError(f"column {missing[0]!r} not found in {path}")
    try:
        frame = pd.read_csv(
            path,
            usecols=list(columns),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            encoding="utf-8-sig",
            skip_blank_lines=False,
        )
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot parse {path}: {str(exc).splitlines()[0]}") from None
    if len(frame) == 0:
        raise CliError(f"{path} has no data rows")
    data = {c: np.strings.strip(frame[c].fillna("").to_numpy(dtype=str)) for c in columns}
    return data, len(frame)


def _header(path: str) -> list[str]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            return next(csv.reader(fh), [])
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None


def _read_stdlib(path: str, columns: Sequence[str]) -> tuple[dict[str, np.ndarray], int]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, [])
            for col in columns:
                if col not in header:
                    raise CliError(f"column {col!r} not found in {path}")
            positions = [header.index(c) for c in columns]
            width = len(header)
            rows = list(reader)
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    if not rows:
        raise CliError(f"{path} has no data rows")
    # Transpose in C; zip stops at the shortest row, so pad short rows (missing trailing cells) first.
    if min(map(len, rows)) < width:
        rows = [row + [""] * (width - len(row)) for row in rows]
    transposed = list(zip(*rows, strict=False))
    data = {c: np.strings.strip(np.array(transposed[p], dtype=str)) for c, p in zip(columns, positions, strict=True)}
    return data, len(rows)


def _scores(values: np.ndarray, column: str) -> np.ndarray:
    """Item scores: blank = NaN. One-character cells (the usual "1"…"5") are decoded from their code points."""
    if values.dtype.itemsize <= 4:  # numpy stores str as UCS-4: every cell holds at most one character
        code = values.view(np.uint32).astype(np.int64)
        score = code - ord("0")
        if np.all((code == 0) | ((score >= 1) & (score <= 5))):
            return np.where(code == 0, np.nan, score.astype(float))
    return _numbers(values, column, "item", blank_is_nan=True)


def _numbers(values: np.ndarray, column: str, what: str, blank_is_nan: bool = False) -> np.ndarray:
    """Vectorised float conversion; on failure, name the first offending line (header is line 1)."""
    blank = values == ""
    if blank_is_nan:
        values = np.where(blank, "nan", values)
    try:
        out = values.astype(float)
    except ValueError:
        out = None
    if out is None or not np.all(np.isfinite(out[~blank] if blank_is_nan else out)):
        for i, v in enumerate(values.tolist()):
            if blank_is_nan and blank[i]:
                continue
            _number(v, column, i + 2, what)
    assert out is not None
    return out


def _number(value: str, column: str, line: int, what: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise CliError(f"{what} column {column!r}, line {line}: {value!r} is not a number") from None
    if not math.isfinite(x):
        raise CliError(f"{what} column {column!r}, line {line}: {value!r} is not a finite number")
    return x


def _load_groups(path: str, items: Sequence[str]) -> dict[str, list[str]]:
    try:
        with open(path, encoding="utf-8") as fh:
            groups = json.load(fh)
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise CliError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(groups, dict) or not all(isinstance(v, list) and v for v in groups.values()):
        raise CliError(f"{path} must map group names to non-empty lists of items")
    for name, members in groups.items():
        for m in members:
            if m not in items:
                raise CliError(f"group {name!r} in {path} refers to item {m!r}, not in --items")
    return groups


def run_estimate(args: argparse.Namespace) -> dict[str, Any]:
    items = [s.strip() for s in args.items.split(",") if s.strip()]
    if not items:
        raise CliError("--items is empty")
    if len(set(items)) != len(items):
        raise CliError("--items lists an item twice")
    if not 0 < args.level < 1:
        raise CliError("--level must be between 0 and 1")
    extra = [c for c in (args.weight, args.strata, args.psu, args.fpc, args.by) if c]
    data, n = _read(args.data, list(dict.fromkeys([*items, *extra])))
    weights = _numbers(data[args.weight], args.weight, "weight")
    bad = np.flatnonzero(weights < 0)
    if len(bad):
        raise CliError(f"weight column {args.weight!r}, line {int(bad[0]) + 2}: weights must not be negative")
    scores = np.full((n, len(items)), np.nan)
    for k, item in enumerate(items):
        column = _scores(data[item], item)
        outside = np.flatnonzero(~np.isnan(column) & ~np.isin(column, (1.0, 2.0, 3.0, 4.0, 5.0)))
        if len(outside):
            i = int(outside[0])
            raise CliError(f"item column {item!r}, line {i + 2}: score {str(data[item][i])!r} is outside 1-5")
        scores[:, k] = column
    for col in (args.strata, args.psu, args.by):
        if col:
            blank = np.flatnonzero(data[col] == "")
            if len(blank):
                raise CliError(f"column {col!r}, line {int(blank[0]) + 2}: value is blank")
    # Labels stay numpy string arrays: the estimators factorise those on numpy's fast path.
    strata = data[args.strata] if args.strata else None
    psu = data[args.psu] if args.psu else None
    fpc = _numbers(data[args.fpc], args.fpc, "fpc") if args.fpc else None
    by = data[args.by] if args.by else None
    groups = _load_groups(args.groups, items) if args.groups else None
    if groups:
        specs = composite_specs(groups)
    else:
        specs = composite_specs({"overall": items}, overall=None)
    design = Design.from_rows(strata, psu, fpc, lonely_psu=args.lonely_psu, n_rows=n)
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
    out_estimates = []
    for e in result.estimates:
        d = e.to_dict()
        out_estimates.append(
            {
                "domain": {} if e.domain is None else {args.by: e.domain},
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
        )
    return {
        "design": {
            "n": n,
            "strata": design.n_strata,
            "psus": int(design.n_h.sum()),
            "df": design.df,
            "kish_n_eff": k_neff,
            "kish_deff": k_deff,
        },
        "estimates": out_estimates,
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

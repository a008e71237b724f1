"""Fixtures for the analytics tests: the golden fixture of STATISTICS.md §16 as numpy arrays."""

from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

GOLDEN_CSV = Path(__file__).with_name("golden.csv")


def load_golden() -> SimpleNamespace:
    with GOLDEN_CSV.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    score = np.array([float(r["score"]) for r in rows])
    q2 = np.array([float(r["q2"]) if r["q2"] else np.nan for r in rows])
    return SimpleNamespace(
        n=len(rows),
        w=np.array([float(r["w"]) for r in rows]),
        stratum=np.array([r["stratum"] for r in rows]),
        psu=np.array([r["psu"] for r in rows]),
        score=score,
        q2=q2,
        scores=np.column_stack([score, q2]),
        sat=(score >= 4).astype(float),
        gender=np.array([r["gender"] for r in rows]),
        age=np.array([r["age"] for r in rows]),
    )


@pytest.fixture(scope="session")
def golden() -> SimpleNamespace:
    return load_golden()


@pytest.fixture(scope="session")
def golden_csv() -> Path:
    return GOLDEN_CSV

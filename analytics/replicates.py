"""Jackknife (JKn) replicate variance of a ratio from per-PSU sums: a cross-check only (STATISTICS.md §10).

Replicate ``r`` drops PSU ``j`` of stratum ``h`` and multiplies the other PSUs of ``h`` by
``n_h / (n_h - 1)``; ``V = Σ_r (n_h - 1)/n_h (θ_r - θ̄)²`` with θ̄ the mean of the replicates (R's
default) or θ̂ (``mse=True``, R ``survey.replicates.mse``). Multipliers act per PSU, so θ_r needs
only the per-PSU sums SX_hj and SZ_hj.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence

import numpy as np

from .design import factorise
from .errors import DesignError


def jackknife_ratio(
    strata: Sequence[Hashable] | np.ndarray,
    sx: Sequence[float] | np.ndarray,
    sz: Sequence[float] | np.ndarray,
    mse: bool = False,
) -> tuple[float, float]:
    """(θ̂, JKn SE) of ``ΣSX / ΣSZ`` from one (SX, SZ) pair per PSU of the full design, with its stratum."""
    sx_a = np.asarray(sx, dtype=float)
    sz_a = np.asarray(sz, dtype=float)
    codes, labels = factorise(np.asarray(strata, dtype=object))
    nh = np.bincount(codes, minlength=len(labels)).astype(float)
    if np.any(nh < 2):
        raise DesignError(f"stratum {labels[int(np.flatnonzero(nh < 2)[0])]!r} has one PSU: JKn is undefined")
    X, Z = sx_a.sum(), sz_a.sum()
    Xh = np.bincount(codes, weights=sx_a, minlength=len(labels))
    Zh = np.bincount(codes, weights=sz_a, minlength=len(labels))
    k = nh / (nh - 1)
    xr = X - Xh[codes] + k[codes] * (Xh[codes] - sx_a)
    zr = Z - Zh[codes] + k[codes] * (Zh[codes] - sz_a)
    theta_r = xr / zr
    theta = X / Z
    centre = theta if mse else theta_r.mean()
    v = float(np.sum((nh[codes] - 1) / nh[codes] * (theta_r - centre) ** 2))
    return float(theta), math.sqrt(v)

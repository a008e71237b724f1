"""Does a split questionnaire keep its promise? Coverage and bias of the published intervals, by simulation.

The scenario (docs/methodology.md, "Split questionnaire"): one agency-month of the 2017 questionnaire
(22 criteria in 5 elements of 4, 5, 6, 3 and 4), 300 responses over 30 counter-days (the PSUs, 10 each),
clustering giving an item design effect of about 1.5 when every criterion is asked, and the true share
satisfied of every criterion near p (p ∈ {0.80, 0.92}; the criteria spread ±0.4 on the logit scale around
it). Each citizen's answers come from a latent normal model: a counter-day effect shared by everyone that
day (its variance set so that the design effect is 1.5), a person effect shared by the citizen's own
answers (variance 0.3) and noise; a criterion is satisfied when its latent value passes the criterion's
threshold, so every criterion's true share is known exactly.

Two designs are run the same way on the same latent answers: **no rotation** (every criterion asked) and
**rotation** (k = 6: the server's stratified cyclic design of ``survey/services/administration/rotation.py``,
one block drawn uniformly per respondent, which is what the HMAC of a submission id does). Estimation is the
platform's (STATISTICS.md §3, §7-§8): item shares with the NCHS-adjusted Korn-Graubard interval, element and
overall indices by definition A (mean of item estimates) with the xlogit interval, Taylor linearisation
over counter-day PSUs, df = 29. The first replicate is checked against ``analytics.estimate_from_rows``.

Pass: every item, element and overall interval covers its true value at least 0.95 − 2 × its Monte Carlo
SE, and every |bias| is under 0.5 percentage points.

    .venv/bin/python benchmarks/rotation_simulation.py [--replicates 5000] [--seed 2026] [--full]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import optimize, special, stats

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analytics import composite_specs, estimate_from_rows  # noqa: E402
from analytics.intervals import share_interval  # noqa: E402
from survey.services.administration.rotation import RotationDesign  # noqa: E402

ELEMENT_SIZES = (4, 5, 6, 3, 4)  # sipas-2017: 22 criteria
N_PSU, PER_PSU = 30, 10  # 300 responses a month over 30 counter-days
PERSON_VARIANCE = 0.3
TARGET_DEFF = 1.5
LEVEL = 0.95
K = 6
CHUNK = 500


@dataclass(frozen=True)
class Targets:
    """What is estimated: 22 items, 5 elements, the overall index (definition A), as coefficient rows."""

    names: list[str]
    kinds: list[str]
    #: (n_targets, n_items) coefficients: an item is its own row; an element the mean of its items; overall
    #: the mean of the elements (nested, so a_k = 1/5 × 1/n_e).
    coefficients: np.ndarray


def _targets() -> Targets:
    n_items = sum(ELEMENT_SIZES)
    rows, names, kinds = [], [], []
    start = 0
    element_rows = []
    for i in range(n_items):
        row = np.zeros(n_items)
        row[i] = 1
        rows.append(row)
        names.append(f"item {i + 1:02d}")
        kinds.append("item")
    for e, size in enumerate(ELEMENT_SIZES):
        row = np.zeros(n_items)
        row[start : start + size] = 1 / size
        element_rows.append(row)
        names.append(f"element {e + 1}")
        kinds.append("element")
        start += size
    rows += element_rows
    rows.append(np.mean(element_rows, axis=0))
    names.append("overall")
    kinds.append("overall")
    return Targets(names, kinds, np.array(rows))


def _design() -> RotationDesign:
    elements = [[f"e{e}_{i}" for i in range(n)] for e, n in enumerate(ELEMENT_SIZES)]
    order = [code for codes in elements for code in codes]
    return RotationDesign.of({"k": K}, elements, {code: p for p, code in enumerate(order, start=1)})


def _block_matrix(design: RotationDesign) -> np.ndarray:
    """(B, n_items) booleans: which criteria each block of the design asks."""
    order = [code for codes in design.elements for code in codes]
    index = {code: j for j, code in enumerate(order)}
    blocks = np.zeros((design.n_blocks, len(order)), dtype=bool)
    for b in range(design.n_blocks):
        blocks[b, [index[c] for c in design.block(b)]] = True
    return blocks


def _icc_for_deff(p: float) -> float:
    """Latent counter-day variance giving the binary design effect ``TARGET_DEFF`` at share ``p``."""
    rho_binary = (TARGET_DEFF - 1) / (PER_PSU - 1)
    tau = stats.norm.ppf(1 - p)

    def gap(rho: float) -> float:
        both = stats.multivariate_normal(mean=[0, 0], cov=[[1, rho], [rho, 1]]).cdf([-tau, -tau])
        return float((both - p * p) / (p * (1 - p)) - rho_binary)

    return float(optimize.brentq(gap, 1e-6, 0.9))


def _item_shares(p: float, n_items: int) -> np.ndarray:
    logit = math.log(p / (1 - p))
    return special.expit(logit + np.linspace(-0.4, 0.4, n_items))


@dataclass
class Results:
    covered: np.ndarray  # (n_targets,) count
    bias_sum: np.ndarray
    width_sum: np.ndarray
    n_sum: np.ndarray
    deff_sum: np.ndarray  # items only, design effect against simple random sampling
    estimate_sq_sum: np.ndarray  # for the Monte Carlo SD of the estimates
    se_sum: np.ndarray
    replicates: int = 0


def _estimate(
    y: np.ndarray, d: np.ndarray, targets: Targets
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Estimates, SEs, CIs and n of every target for replicates ``y``/``d`` of shape (R, PSU, m, items)."""
    Y = y.sum(axis=2, dtype=float)  # (R, PSU, items)
    X = d.sum(axis=2, dtype=float)
    Xt = X.sum(axis=1)  # (R, items)
    p_item = Y.sum(axis=1) / Xt
    # Linearised values per PSU for each item's ratio, then the targets' linear combinations of them.
    z_item = (Y - p_item[:, None, :] * X) / Xt[:, None, :]
    a = targets.coefficients  # (T, items)
    estimate = p_item @ a.T  # (R, T)
    z = z_item @ a.T  # (R, PSU, T)
    centred = z - z.mean(axis=1, keepdims=True)
    var = N_PSU / (N_PSU - 1) * (centred**2).sum(axis=1)
    se = np.sqrt(var)
    df = N_PSU - 1
    item = np.array([k == "item" for k in targets.kinds])
    n = np.full(estimate.shape, float(y.shape[1] * y.shape[2]))  # composites: the respondents
    n[:, item] = Xt  # an item: its answers (the domain count of the NCHS cap)
    lo = np.empty_like(estimate)
    hi = np.empty_like(estimate)
    lo[:, item], hi[:, item] = share_interval(estimate[:, item], se[:, item], df, n[:, item], method="beta")
    lo[:, ~item], hi[:, ~item] = share_interval(estimate[:, ~item], se[:, ~item], df, n[:, ~item], method="xlogit")
    return estimate, se, lo, hi, n


def _check_against_analytics(y: np.ndarray, d: np.ndarray, targets: Targets, se: np.ndarray) -> None:
    """Replicate 0 through the platform's own row-level estimator: the same item and composite SEs."""
    n_items = y.shape[-1]
    scores = np.where(d[0], np.where(y[0], 5.0, 2.0), np.nan).reshape(-1, n_items)
    psu = np.repeat(np.arange(N_PSU), PER_PSU)
    codes = [f"i{j}" for j in range(n_items)]
    groups, start = {}, 0
    for e, size in enumerate(ELEMENT_SIZES):
        groups[f"element {e + 1}"] = codes[start : start + size]
        start += size
    result = estimate_from_rows(
        np.ones(len(psu)),
        scores,
        codes,
        strata=np.zeros(len(psu)),
        psu=psu,
        composites=composite_specs(groups, definition="A", rotated=True),
        kinds=("share",),
        ci="beta",
        composite_ci="xlogit",
    )
    ours = dict(zip([*codes, *groups, "overall"], se[0], strict=True))
    for found in result.estimates:
        if found.domain is None and found.kind == "share":
            assert math.isclose(found.se, ours[str(found.target)], rel_tol=1e-9, abs_tol=1e-12), found.target


def simulate(p: float, rotated: bool, replicates: int, seed: int) -> tuple[Results, np.ndarray, float]:
    targets = _targets()
    n_items = sum(ELEMENT_SIZES)
    shares = _item_shares(p, n_items)
    truth = targets.coefficients @ shares
    tau = stats.norm.ppf(1 - shares)
    rho = _icc_for_deff(p)
    a, b = math.sqrt(rho), math.sqrt(PERSON_VARIANCE)
    c = math.sqrt(1 - rho - PERSON_VARIANCE)
    blocks = _block_matrix(_design()) if rotated else None
    t = len(targets.names)
    res = Results(np.zeros(t), np.zeros(t), np.zeros(t), np.zeros(t), np.zeros(n_items), np.zeros(t), np.zeros(t))
    # The same latent answers for both designs (same seed): only the questions asked differ.
    rng = np.random.default_rng(seed)
    ask_rng = np.random.default_rng(seed + 1)
    checked = False
    while res.replicates < replicates:
        r = min(CHUNK, replicates - res.replicates)
        u = rng.standard_normal((r, N_PSU, 1, 1))
        v = rng.standard_normal((r, N_PSU, PER_PSU, 1))
        e = rng.standard_normal((r, N_PSU, PER_PSU, n_items))
        satisfied = (a * u + b * v + c * e) > tau
        if blocks is None:
            d = np.ones_like(satisfied)
        else:
            d = blocks[ask_rng.integers(0, len(blocks), (r, N_PSU, PER_PSU))]
        y = satisfied & d
        estimate, se, lo, hi, n = _estimate(y, d, targets)
        if not checked:
            _check_against_analytics(y, d, targets, se)
            checked = True
        res.covered += ((lo <= truth) & (truth <= hi)).sum(axis=0)
        res.bias_sum += (estimate - truth).sum(axis=0)
        res.estimate_sq_sum += ((estimate - truth) ** 2).sum(axis=0)
        res.se_sum += se.sum(axis=0)
        res.width_sum += (hi - lo).sum(axis=0)
        res.n_sum += n.sum(axis=0)
        item_p, item_var, item_n = estimate[:, :n_items], se[:, :n_items] ** 2, n[:, :n_items]
        srs = item_p * (1 - item_p) / item_n
        res.deff_sum += np.where(srs > 0, item_var / np.where(srs > 0, srs, 1), 1.0).sum(axis=0)
        res.replicates += r
    return res, truth, rho


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replicates", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--full", action="store_true", help="print every item, not only the summary")
    args = parser.parse_args()
    targets = _targets()
    design = _design()
    print(
        f"Scenario: {sum(ELEMENT_SIZES)} criteria in elements of {list(ELEMENT_SIZES)}; {N_PSU} counter-days × "
        f"{PER_PSU} responses = {N_PSU * PER_PSU} a month; item design effect {TARGET_DEFF} without rotation; "
        f"rotation k = {K} (allocation {list(design.allocation)}, {design.n_blocks} blocks); "
        f"{args.replicates} replicates; {LEVEL:.0%} intervals: items KG (NCHS), composites xlogit, df {N_PSU - 1}."
    )
    all_pass = True
    started = time.perf_counter()
    for p in (0.80, 0.92):
        for rotated in (False, True):
            res, truth, rho = simulate(p, rotated, args.replicates, args.seed)
            r = res.replicates
            coverage = res.covered / r
            mc_se = np.sqrt(coverage * (1 - coverage) / r)
            bias = 100 * res.bias_sum / r
            width = 100 * res.width_sum / r
            mean_n = res.n_sum / r
            # Mean estimated SE over the Monte Carlo SD of the estimates: below 1, the SE is too small.
            sd = np.sqrt(res.estimate_sq_sum / r - (res.bias_sum / r) ** 2)
            se_ratio = res.se_sum / r / sd
            ok = (coverage >= LEVEL - 2 * mc_se) & (np.abs(bias) < 0.5)
            all_pass &= bool(ok.all())
            label = f"rotation k={K}" if rotated else "no rotation"
            deff = res.deff_sum.mean() / r
            print(f"\np = {p:.2f}, {label} (latent counter-day variance {rho:.3f}; mean item deff {deff:.2f})")
            head = f"{'target':<11} {'coverage':>8} {'MC SE':>6} {'bound':>6} {'bias pts':>8} {'width pts':>9}"
            print(f"{head} {'n':>6} {'SE/SD':>6}  ok")
            kinds = np.array(targets.kinds)
            for kind in ("item", "element", "overall"):
                rows = np.flatnonzero(kinds == kind)
                if args.full or kind != "item":
                    show = rows
                else:  # the summary: the worst-covered item and the item with the largest bias
                    show = np.unique(
                        [
                            rows[np.argmin(coverage[rows] - (LEVEL - 2 * mc_se[rows]))],
                            rows[np.argmax(np.abs(bias[rows]))],
                        ]
                    )
                for j in show:
                    print(
                        f"{targets.names[j]:<11} {coverage[j]:>8.4f} {mc_se[j]:>6.4f} {LEVEL - 2 * mc_se[j]:>6.4f} "
                        f"{bias[j]:>+8.3f} {width[j]:>9.2f} {mean_n[j]:>6.1f} {se_ratio[j]:>6.3f}  "
                        f"{'yes' if ok[j] else 'NO'}"
                    )
                if kind == "item" and not args.full:
                    print(
                        f"{'  22 items':<11} min {coverage[rows].min():.4f}, "
                        f"max |bias| {np.abs(bias[rows]).max():.3f}, mean width {width[rows].mean():.2f}, "
                        f"all pass: {'yes' if ok[rows].all() else 'NO'}"
                    )
    print(f"\n{'PASS' if all_pass else 'FAIL'}: every interval covers ≥ 0.95 − 2 MC SE and |bias| < 0.5 points")
    print(f"({time.perf_counter() - started:.0f} s)")
    return 0 if all_pass else 1


if __name__ == "__main__":
    raise SystemExit(main())

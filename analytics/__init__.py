"""SIPAS analytics: design-based satisfaction indices with confidence intervals (see STATISTICS.md).

Pure numpy/scipy; never imports Flask or SQLAlchemy. The app computes per-(stratum, PSU, domain, item)
sums in SQL, wraps them in :class:`ItemSums` (and optionally :class:`RespondentSums`), builds the
:class:`Design` from full-sample PSU counts per stratum, and calls :func:`estimate_from_sums`.
"""

from .comparisons import Difference, Trend, adjust, benjamini_hochberg, difference, holm, trend
from .design import LONELY_PSU_OPTIONS, Design, Influence
from .errors import AnalyticsError, DataError, DesignError, EstimationError
from .estimators import (
    CompositeSpec,
    Estimate,
    EstimateSet,
    composite_specs,
    estimate_from_rows,
    estimate_from_sums,
    kish,
)
from .flags import Flag
from .intervals import SHARE_METHODS, korn_graubard, share_interval, wald_t_interval
from .par import AgencyPoints, Criterion, ParResult, ParScheme, par_points
from .replicates import jackknife_ratio
from .sums import ItemSums, RespondentSums, aggregate_rows
from .weighting import (
    CalibratedEstimate,
    CellFactors,
    RakeResult,
    TrimRakeResult,
    calibrated_estimate,
    cell_weights,
    collapsed_cell_factors,
    empty_cells,
    poststratify,
    rake,
    trim,
    trim_and_rake,
)

__all__ = [
    "LONELY_PSU_OPTIONS",
    "SHARE_METHODS",
    "AgencyPoints",
    "AnalyticsError",
    "CalibratedEstimate",
    "CellFactors",
    "CompositeSpec",
    "Criterion",
    "DataError",
    "Design",
    "DesignError",
    "Difference",
    "Estimate",
    "EstimateSet",
    "EstimationError",
    "Flag",
    "Influence",
    "ItemSums",
    "ParResult",
    "ParScheme",
    "RakeResult",
    "RespondentSums",
    "Trend",
    "TrimRakeResult",
    "adjust",
    "aggregate_rows",
    "benjamini_hochberg",
    "calibrated_estimate",
    "cell_weights",
    "collapsed_cell_factors",
    "composite_specs",
    "difference",
    "empty_cells",
    "estimate_from_rows",
    "estimate_from_sums",
    "holm",
    "jackknife_ratio",
    "kish",
    "korn_graubard",
    "par_points",
    "poststratify",
    "rake",
    "share_interval",
    "trend",
    "trim",
    "trim_and_rake",
    "wald_t_interval",
]

"""SIPAS analytics: design-based satisfaction indices with confidence intervals (see STATISTICS.md).

Pure numpy/scipy; never imports Flask or SQLAlchemy. The app computes per-(stratum, PSU, domain, item)
sums in SQL, wraps them in :class:`ItemSums` (and optionally :class:`RespondentSums`), builds the
:class:`Design` from full-sample PSU counts per stratum, and calls :func:`estimate_from_sums`.
"""

from .comparisons import (
    Difference,
    Trend,
    adjust,
    benjamini_hochberg,
    difference,
    difference_interval,
    holm,
    trend,
)
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
from .tables import (
    NOT_ANSWERED,
    NOT_APPLICABLE,
    Category,
    Column,
    ColumnBuffer,
    PackedLayout,
    RowBuilder,
    RowContext,
    Sample,
    draw_sample,
    proportional_allocation,
    sanitise_cell,
    sanitise_text,
)
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
    "NOT_ANSWERED",
    "NOT_APPLICABLE",
    "SHARE_METHODS",
    "AgencyPoints",
    "AnalyticsError",
    "CalibratedEstimate",
    "Category",
    "CellFactors",
    "Column",
    "ColumnBuffer",
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
    "PackedLayout",
    "ParResult",
    "ParScheme",
    "RakeResult",
    "RespondentSums",
    "RowBuilder",
    "RowContext",
    "Sample",
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
    "difference_interval",
    "draw_sample",
    "empty_cells",
    "estimate_from_rows",
    "estimate_from_sums",
    "holm",
    "jackknife_ratio",
    "kish",
    "korn_graubard",
    "par_points",
    "poststratify",
    "proportional_allocation",
    "rake",
    "sanitise_cell",
    "sanitise_text",
    "share_interval",
    "trend",
    "trim",
    "trim_and_rake",
    "wald_t_interval",
]

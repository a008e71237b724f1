"""Server-side SVG chart geometry (no script, no external request): dots with interval bars.

Only the numbers are computed here; ``templates/agency/_interval_chart.html`` draws them with SVG
presentation attributes (the CSP forbids inline styles).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from survey.services.dashboard import ProvinceTable

WIDTH = 720
LABEL_WIDTH = 300
RIGHT = 24
ROW = 26
TOP = 34
BOTTOM = 30


@dataclass(frozen=True)
class ChartRow:
    label: str
    y: float
    x: float
    x_low: float
    x_high: float
    direction: str  # above | below | same


@dataclass(frozen=True)
class Tick:
    x: float
    value: float


@dataclass(frozen=True)
class IntervalChart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    top: int
    rows: list[ChartRow]
    ticks: list[Tick]
    reference_x: float | None
    reference: float | None


def interval_chart(table: ProvinceTable, locale: str) -> IntervalChart | None:
    """Each presented (not suppressed) agency index with its CI, against a line at the province index."""
    shown = [line for line in table.lines if not line.share.suppressed]
    if not shown:
        return None
    lows = [line.share.ci[0] for line in shown]
    highs = [line.share.ci[1] for line in shown]
    if table.total is not None and not table.total.suppressed:
        lows.append(table.total.estimate)
        highs.append(table.total.estimate)
    step = 0.05
    lo = max(0.0, math.floor(min(lows) / step) * step)
    hi = min(1.0, math.ceil(max(highs) / step) * step)
    if hi - lo < step:
        hi = min(1.0, lo + step)
        lo = hi - step
    left, right = LABEL_WIDTH, WIDTH - RIGHT

    def x(value: float) -> float:
        return round(left + (value - lo) / (hi - lo) * (right - left), 1)

    rows = [
        ChartRow(
            label=line.agency.name(locale),
            y=TOP + i * ROW + ROW / 2,
            x=x(line.share.estimate),
            x_low=x(max(lo, line.share.ci[0])),
            x_high=x(min(hi, line.share.ci[1])),
            direction=line.vs_province.direction,
        )
        for i, line in enumerate(shown)
    ]
    n_ticks = round((hi - lo) / step)
    ticks = [Tick(x(lo + k * step), lo + k * step) for k in range(n_ticks + 1)]
    reference = table.total.estimate if table.total is not None and not table.total.suppressed else None
    return IntervalChart(
        width=WIDTH,
        height=TOP + len(rows) * ROW + BOTTOM,
        plot_left=left,
        plot_right=right,
        top=TOP,
        rows=rows,
        ticks=ticks,
        reference_x=x(reference) if reference is not None else None,
        reference=reference,
    )

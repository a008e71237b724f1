"""Server-side SVG chart geometry (no script, no external request): intervals, trend bands, stacked bars.

Only the numbers are computed here; ``templates/agency/_interval_chart.html`` draws them with SVG
presentation attributes (the CSP forbids inline styles).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from survey.services.statistics.breakdowns import Distribution
from survey.services.statistics.dashboard import ProvinceTable
from survey.services.statistics.trends import Trend

WIDTH = 720
LABEL_WIDTH = 300
RIGHT = 24
ROW = 26
TOP = 34
BOTTOM = 30


#: The phone layout: each agency's name on its own line above its dot and interval.
NARROW_WIDTH = 340
NARROW_ROW = 44
NARROW_SIDE = 10


@dataclass(frozen=True)
class ChartRow:
    label: str
    y: float
    x: float
    x_low: float
    x_high: float
    direction: str  # above | below | same
    #: Too few responses to publish: drawn as a note "too few responses (n = …)" instead of a dot.
    suppressed: bool = False
    n: int = 0
    #: Where the label sits (the wide layout: beside the row; the narrow one: above it).
    label_x: float = 0.0
    label_y: float = 0.0


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
    narrow: bool = False


def interval_chart(table: ProvinceTable, locale: str, narrow: bool = False) -> IntervalChart | None:
    """Each agency's index with its CI against a line at the province index; an agency whose figure is
    suppressed keeps its row, with "too few responses (n = …)" in place of the dot (the template words it).

    ``narrow`` is the phone layout: names above the rows, so the dots and intervals keep the full width.
    """
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
    width = NARROW_WIDTH if narrow else WIDTH
    left, right = (NARROW_SIDE, NARROW_WIDTH - NARROW_SIDE) if narrow else (LABEL_WIDTH, WIDTH - RIGHT)
    row_height = NARROW_ROW if narrow else ROW

    def x(value: float) -> float:
        return round(left + (value - lo) / (hi - lo) * (right - left), 1)

    rows = []
    for i, line in enumerate(table.lines):
        top = TOP + i * row_height
        y = top + (30 if narrow else row_height / 2)
        label_x, label_y = (left, top + 14) if narrow else (left - 8, y + 4)
        if line.share.suppressed:
            rows.append(
                ChartRow(line.agency.name(locale), y, 0.0, 0.0, 0.0, "same", True, int(line.share.n), label_x, label_y)
            )
            continue
        rows.append(
            ChartRow(
                label=line.agency.name(locale),
                y=y,
                x=x(line.share.estimate),
                x_low=x(max(lo, line.share.ci[0])),
                x_high=x(min(hi, line.share.ci[1])),
                direction=line.vs_province.direction,
                n=int(line.share.n),
                label_x=label_x,
                label_y=label_y,
            )
        )
    n_ticks = round((hi - lo) / step)
    ticks = [Tick(x(lo + k * step), lo + k * step) for k in range(n_ticks + 1)]
    reference = table.total.estimate if table.total is not None and not table.total.suppressed else None
    return IntervalChart(
        width=width,
        height=TOP + len(rows) * row_height + BOTTOM,
        plot_left=left,
        plot_right=right,
        top=TOP,
        rows=rows,
        ticks=ticks,
        reference_x=x(reference) if reference is not None else None,
        reference=reference,
        narrow=narrow,
    )


# -- monthly trend with a CI band -------------------------------------------------------------------------------

TREND_WIDTH = 720
TREND_HEIGHT = 300
TREND_LEFT = 56
TREND_RIGHT = 16
TREND_TOP = 16
TREND_BOTTOM = 44


@dataclass(frozen=True)
class TrendMark:
    x: float
    label: dt.date
    y: float | None  # None: no presented figure this month
    y_low: float | None
    y_high: float | None
    suppressed: bool
    partial: bool


@dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    marks: list[TrendMark]
    #: SVG path of the index line and polygon points of the CI band, one per run of presented months.
    lines: list[str]
    bands: list[str]
    ticks: list[Tick]


def trend_chart(trend: Trend) -> TrendChart | None:
    """Geometry of the monthly index line with its 95 % band; gaps where a month is suppressed or empty."""
    shown = trend.shown
    if not shown:
        return None
    lows = [p.estimate.ci[0] for p in shown]  # type: ignore[union-attr]  # only presented points (with an estimate) are shown
    highs = [p.estimate.ci[1] for p in shown]  # type: ignore[union-attr]  # only presented points (with an estimate) are shown
    step = 0.05
    lo = max(0.0, math.floor(min(lows) / step) * step)
    hi = min(1.0, math.ceil(max(highs) / step) * step)
    if hi - lo < 2 * step:
        hi = min(1.0, lo + 2 * step)
        lo = hi - 2 * step
    top, bottom = TREND_TOP, TREND_HEIGHT - TREND_BOTTOM
    left, right = TREND_LEFT, TREND_WIDTH - TREND_RIGHT
    count = len(trend.points)
    gap = (right - left) / max(count, 1)

    def y(value: float) -> float:
        return round(bottom - (min(max(value, lo), hi) - lo) / (hi - lo) * (bottom - top), 1)

    marks = []
    for i, point in enumerate(trend.points):
        x = round(left + gap * (i + 0.5), 1)
        e = point.estimate
        presented = e is not None and not e.suppressed
        marks.append(
            TrendMark(
                x=x,
                label=point.month,
                y=y(e.estimate) if presented else None,  # type: ignore[union-attr]  # guarded by ``presented``
                y_low=y(e.ci[0]) if presented else None,  # type: ignore[union-attr]  # guarded by ``presented``
                y_high=y(e.ci[1]) if presented else None,  # type: ignore[union-attr]  # guarded by ``presented``
                suppressed=e is not None and e.suppressed,
                partial=point.partial,
            )
        )
    lines, bands = [], []
    run: list[TrendMark] = []
    for mark in [*marks, None]:
        if mark is not None and mark.y is not None:
            run.append(mark)
            continue
        if run:
            lines.append("M " + " L ".join(f"{m.x} {m.y}" for m in run))
            upper = [f"{m.x},{m.y_high}" for m in run]
            lower = [f"{m.x},{m.y_low}" for m in reversed(run)]
            if len(run) == 1:  # a lone month: a thin band around its bar
                m = run[0]
                upper = [f"{m.x - 6},{m.y_high}", f"{m.x + 6},{m.y_high}"]
                lower = [f"{m.x + 6},{m.y_low}", f"{m.x - 6},{m.y_low}"]
            bands.append(" ".join(upper + lower))
        run = []
    n_ticks = round((hi - lo) / step)
    ticks = [Tick(y(lo + k * step), lo + k * step) for k in range(n_ticks + 1)]
    return TrendChart(TREND_WIDTH, TREND_HEIGHT, left, right, top, bottom, marks, lines, bands, ticks)


# -- answer distributions as stacked bars ---------------------------------------------------------------------

#: Fill per answer (1 … 5, then "not applicable"): a diverging red-grey-blue scale, N/A hatched grey.
ANSWER_COLOURS = ("#8b1a1a", "#d4654f", "#b8b8b8", "#6f9bd1", "#1d4f91", "#ffffff")
BAR_LEFT = 24
BAR_WIDTH = 640
#: Each row: the criterion's text on one line, its bar below.
BAR_ROW = 40
BAR_LABEL = 14


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    colour: str


@dataclass(frozen=True)
class BarRow:
    code: str
    y: float
    segments: list[Segment]
    #: The criterion's text, written above its bar (the table below has it in full).
    label: str = ""


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    left: int
    right: int
    rows: list[BarRow]
    ticks: list[Tick]


def distribution_chart(rows: list[Distribution]) -> BarChart | None:
    """One 100 % stacked bar per criterion with answers, the criterion's text above it (``y`` is the label's
    top; the bar starts :data:`BAR_LABEL` below it)."""
    drawn = [r for r in rows if r.total]
    if not drawn:
        return None
    left, right = BAR_LEFT, BAR_LEFT + BAR_WIDTH
    bars = []
    for i, row in enumerate(drawn):
        x = float(left)
        segments = []
        for share, colour in zip(row.shares, ANSWER_COLOURS, strict=True):
            width = round(share * BAR_WIDTH, 1)
            if width > 0:
                segments.append(Segment(round(x, 1), width, colour))
            x += share * BAR_WIDTH
        bars.append(BarRow(row.item_code, 8 + i * BAR_ROW, segments, row.label))
    ticks = [Tick(round(left + k * BAR_WIDTH / 4, 1), k / 4) for k in range(5)]
    return BarChart(right + 24, 8 + len(drawn) * BAR_ROW + 28, left, right, bars, ticks)

"""Numbers, dates and reliability flags for staff pages, in the reader's locale (Babel).

Vietnamese: ``83,94 %``, ``4,21``, ``1.234``, ``dd/mm/yyyy``; English: ``83.94%``, ``4.21``, ``1,234``.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from flask_babel import format_date, format_datetime, format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from survey.agency import bp
from survey.services.statistics.indices import DESIGN, UNWEIGHTED, WEIGHTED
from survey.templating import current_locale

FLAG_TEXT = {
    "suppress_small_n_eff": _l("Suppressed: effective sample size below 30"),
    "suppress_wide_ci": _l("Suppressed: the confidence interval is 30 points wide or more"),
    "suppress_relative_width": _l("Suppressed: the interval is too wide for the size of the figure"),
    "not_estimable": _l("Suppressed: the uncertainty cannot be estimated"),
    "suppress_small_n": _l("Suppressed: fewer than 30 answers"),
    "review_complement": _l("Interpret with care: the interval is wide compared with the share not satisfied"),
    "low_df": _l("Interpret with care: fewer than 8 design degrees of freedom"),
    "boundary": _l("Interpret with care: the figure is exactly 0 % or 100 %"),
    "review_wide_ci": _l("Interpret with care: the interval is wider than ±0.25 points"),
}


def _number(value: float, digits: int) -> str:
    return str(format_decimal(value, format="#,##0." + "0" * digits if digits else "#,##0"))


def pct(value: float | None, digits: int = 2) -> str:
    """A share as a percentage: ``83,94 %`` (vi) or ``83.94%`` (en)."""
    if value is None or not math.isfinite(value):
        return "–"
    number = _number(value * 100, digits)
    return f"{number}\u00a0%" if current_locale() == "vi" else f"{number}%"


def pct_range(ci: tuple[float, float] | None, digits: int = 2) -> str:
    if ci is None:
        return "–"
    return f"{pct(ci[0], digits)} – {pct(ci[1], digits)}"


def points(delta: float | None, digits: int = 2) -> str:
    """A difference of shares in percentage points, with its sign."""
    if delta is None or not math.isfinite(delta):
        return "–"
    sign = "+" if delta > 0 else ("−" if delta < 0 else "±")
    return _("%(value)s pp", value=sign + _number(abs(delta) * 100, digits))


def points_range(ci: tuple[float, float] | None) -> str:
    if ci is None:
        return "–"
    return _("%(low)s to %(high)s", low=points(ci[0]), high=points(ci[1]))


def score(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return _number(value, 2)


def score_range(ci: tuple[float, float] | None) -> str:
    if ci is None:
        return "–"
    return f"{score(ci[0])} – {score(ci[1])}"


def integer(value: int | None) -> str:
    return "–" if value is None else _number(value, 0)


def day(value: dt.date | None) -> str:
    if value is None:
        return "–"
    return str(format_date(value, "dd/MM/yyyy" if current_locale() == "vi" else "d MMM yyyy"))


def moment(value: dt.datetime | None) -> str:
    if value is None:
        return "–"
    return str(format_datetime(value, "HH:mm:ss dd/MM/yyyy" if current_locale() == "vi" else "d MMM yyyy HH:mm:ss"))


def month_label(value: dt.date) -> str:
    """A calendar month: ``10/2026`` (vi) or ``Oct 2026`` (en)."""
    return f"{value.month:02d}/{value.year}" if current_locale() == "vi" else str(format_date(value, "MMM yyyy"))


def period_label(period: Any) -> str:
    """A readable name for a dashboard period: "Tháng 10/2026", "Quý 3/2026", "Năm 2026", a survey period's
    name with its dates, or "01/07/2026 – 30/09/2026"."""
    if period.kind == "month":
        return _("Month %(month)s", month=month_label(period.start))
    if period.kind == "quarter":
        return _("Quarter %(quarter)d/%(year)d", quarter=(period.start.month - 1) // 3 + 1, year=period.start.year)
    if period.kind == "year":
        return _("Year %(year)d", year=period.start.year)
    dates = f"{day(period.start)} – {day(period.end)}"
    if period.kind == "survey" and period.name:
        return f"{period.name} ({dates})"
    return dates


def share_of(value: float) -> str:
    """A share of answers with one decimal (distribution tables)."""
    return pct(value, 1)


def flag_text(code: str) -> str:
    text = FLAG_TEXT.get(code)
    return str(text) if text is not None else code


def weighting_text(weighting: str) -> str:
    if weighting == WEIGHTED:
        return _(
            "Weighted: each response counts for the transactions it represents "
            "(transactions ÷ valid responses per agency, field and month)"
        )
    if weighting == UNWEIGHTED:
        return _(
            "Unweighted: no agency in scope has transaction volumes within 12 months of this period, "
            "so every response counts the same"
        )
    return weighting


def design_text(design: str) -> str:
    if design == DESIGN:
        return _("Agencies are strata and counter-days are clusters (primary sampling units), sampled with replacement")
    return design


CI_METHOD_TEXT = {
    "item share": _l("criterion shares: Korn–Graubard interval (NCHS-adjusted)"),
    "composite": _l("indices: logit interval with t degrees of freedom"),
    "mean score": _l("mean scores: Wald interval with t degrees of freedom"),
}


def ci_methods_text(methods: dict[str, str]) -> str:
    return "; ".join(str(CI_METHOD_TEXT.get(key, f"{key}: {value}")) for key, value in methods.items())


HELPERS: dict[str, Any] = {
    "pct": pct,
    "pct_range": pct_range,
    "points": points,
    "points_range": points_range,
    "score": score,
    "score_range": score_range,
    "integer": integer,
    "day": day,
    "month_label": month_label,
    "today": dt.date.today,
    "period_label": period_label,
    "share_of": share_of,
    "moment": moment,
    "flag_text": flag_text,
    "weighting_text": weighting_text,
    "design_text": design_text,
    "ci_methods_text": ci_methods_text,
}


@bp.app_context_processor
def formatting_helpers() -> dict[str, Any]:
    return HELPERS

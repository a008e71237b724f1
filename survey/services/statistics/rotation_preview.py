"""What a split questionnaire would buy an agency: its own volume and design effect, the NCHS rule, each k.

Read from the tallies of the agency's last three months with responses (cheap: a few hundred rows per
month): responses a month, counter-days a month, and the design effect of its criteria's shares, from the
per counter-day sums of each criterion (with-replacement linearisation over counter-days, divided by the
simple-random-sampling variance, averaged over criteria with at least 30 answers). The arithmetic of the
preview itself is :func:`survey.services.administration.rotation.precision_preview`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.models import AnswerTally, Instrument, ResponseTally
from survey.services.administration.rotation import PrecisionRow, precision_preview

#: Months of the agency's recent history the preview reads.
MONTHS = 3
#: Days of a split questionnaire's recent responses whose balance the counters page reports.
BALANCE_DAYS = 90
#: Design effect assumed when the agency's own cannot be estimated yet (the simulation scenario's).
DEFAULT_DESIGN_EFFECT = 1.5


@dataclass(frozen=True)
class AgencyPrecision:
    instrument: Instrument
    monthly_responses: float
    counter_days: float
    design_effect: float
    #: False when the design effect is the default, not the agency's own.
    own_design_effect: bool
    rows: list[PrecisionRow]


def _design_effect(session: Session, agency_id: int, months: list[dt.date]) -> float | None:
    rows = session.execute(
        select(
            AnswerTally.month,
            AnswerTally.item_id,
            AnswerTally.day,
            AnswerTally.counter_key,
            func.sum(AnswerTally.n_valid),
            func.sum(AnswerTally.n_satisfied),
        )
        .where(AnswerTally.agency_id == agency_id, AnswerTally.month.in_(months))
        .group_by(AnswerTally.month, AnswerTally.item_id, AnswerTally.day, AnswerTally.counter_key)
        .order_by(AnswerTally.month, AnswerTally.item_id)
    ).all()
    groups: dict[tuple[object, int], list[tuple[int, int]]] = {}
    for month, item_id, _day, _counter, valid, satisfied in rows:
        groups.setdefault((month, item_id), []).append((int(valid or 0), int(satisfied or 0)))
    effects = []
    for sums in groups.values():
        x, y = np.array(sums, dtype=float).T
        total = x.sum()
        if len(x) < 2 or total < 30:
            continue
        p = y.sum() / total
        if not 0 < p < 1:
            continue
        z = (y - p * x) / total
        variance = len(z) / (len(z) - 1) * float(((z - z.mean()) ** 2).sum())
        effects.append(variance / (p * (1 - p) / total))
    return float(np.mean(effects)) if effects else None


def agency_precision(session: Session, agency_id: int, ks: list[int] | None = None) -> AgencyPrecision | None:
    """The preview for the agency's most answered questionnaire of its last three months; None without data."""
    recent = session.execute(
        select(ResponseTally.month, ResponseTally.instrument_id, func.sum(ResponseTally.n))
        .where(ResponseTally.agency_id == agency_id)
        .group_by(ResponseTally.month, ResponseTally.instrument_id)
        .order_by(ResponseTally.month.desc())
    ).all()
    months = sorted({row[0] for row in recent}, reverse=True)[:MONTHS]
    if not months:
        return None
    by_instrument: dict[int, int] = {}
    for month, instrument_id, n in recent:
        if month in months:
            by_instrument[instrument_id] = by_instrument.get(instrument_id, 0) + int(n or 0)
    instrument = session.get(Instrument, max(by_instrument, key=lambda i: by_instrument[i]))
    if instrument is None:
        return None
    counter_days = session.scalar(
        select(func.count()).select_from(
            select(ResponseTally.day, ResponseTally.counter_key)
            .where(ResponseTally.agency_id == agency_id, ResponseTally.month.in_(months))
            .distinct()
            .subquery()
        )
    )
    responses = sum(by_instrument.values()) / len(months)
    days = float(counter_days or 0) / len(months)
    own = _design_effect(session, agency_id, months)
    deff = max(own, 1.0) if own is not None else DEFAULT_DESIGN_EFFECT
    sizes = [len(element.items) for element in instrument.elements]
    n_items = sum(sizes)
    choices = ks or sorted({len(sizes), 6, 8, (n_items + 1) // 2, n_items} & set(range(len(sizes), n_items + 1)))
    rows = precision_preview(sizes, responses, days, deff, choices)
    return AgencyPrecision(instrument, responses, days, deff, own is not None, rows)


@dataclass(frozen=True)
class CriterionBalance:
    code: str
    asked: int
    #: ``N π_i``: the responses times the criterion's probability of being asked.
    expected: float
    #: ``N``, the split questionnaire's responses.
    total: int

    @property
    def z(self) -> float:
        """(asked − expected) in binomial standard errors: |z| above 3 is a design not kept."""
        n_p = self.expected
        return 0.0 if n_p <= 0 else (self.asked - n_p) / float(np.sqrt(max(n_p * (1 - n_p / self.total), 1e-12)))


@dataclass(frozen=True)
class AchievedBalance:
    """How often each criterion of a split questionnaire was asked at the agency, against its design."""

    instrument: Instrument
    responses: int
    criteria: list[CriterionBalance]

    @property
    def worst_z(self) -> float:
        return max((abs(c.z) for c in self.criteria), default=0.0)


def achieved_balance(session: Session, agency_id: int, since: dt.date) -> list[AchievedBalance]:
    """Per split questionnaire with responses at the agency since ``since``: asked counts against ``N π_i``."""
    from survey.models import Response
    from survey.services.administration.instruments import rotation_design

    rows = session.execute(
        select(Response.instrument_id, Response.asked_mask).where(
            Response.agency_id == agency_id, Response.received_on >= since, Response.asked_mask.is_not(None)
        )
    ).all()
    masks: dict[int, list[int]] = {}
    for instrument_id, mask in rows:
        if mask is not None:  # the query asks for set masks only
            masks.setdefault(int(instrument_id), []).append(int(mask))
    out = []
    for instrument_id, values in sorted(masks.items()):
        instrument = session.get(Instrument, instrument_id)
        design = rotation_design(instrument) if instrument is not None else None
        if instrument is None or design is None:
            continue
        array = np.array(values, dtype=np.int64)
        inclusion = design.inclusion()
        criteria = [
            CriterionBalance(
                item.code,
                int(((array >> (item.position - 1)) & 1).sum()),
                inclusion[item.code] * len(values),
                len(values),
            )
            for item in instrument.items
        ]
        out.append(AchievedBalance(instrument, len(values), criteria))
    return out

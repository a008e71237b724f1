"""Valid responses straight from the response rows, as the matrix the analytics library takes.

The statistics tests recompute indices from these rows (no tallies, no roll-ups) and compare.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select

from survey.db import db
from survey.models import Instrument, Response


@dataclass(frozen=True)
class RawRows:
    responses: list[Response]
    items: list[str]
    scores: np.ndarray  # one row per response, one column per item, NaN where not scored
    groups: dict[str, list[str]]  # element code -> its item codes

    def cells(self) -> list[tuple[int, int, dt.date]]:
        """Each response's weighting cell: agency, field (0 when none), month."""
        return [(r.agency_id, r.field_id or 0, r.received_on.replace(day=1)) for r in self.responses]

    def strata(self) -> list[int]:
        return [r.agency_id for r in self.responses]

    def psu(self) -> list[str]:
        """Counter-day PSUs."""
        return [f"{r.counter_id}:{r.received_on}" for r in self.responses]


def raw_rows(instrument: Instrument, period: tuple[dt.date, dt.date]) -> RawRows:
    """The valid responses to ``instrument`` received within ``period`` (inclusive), in id order."""
    responses = list(
        db.session.scalars(
            select(Response)
            .where(
                Response.instrument_id == instrument.id,
                Response.status == "valid",
                Response.received_on >= period[0],
                Response.received_on <= period[1],
            )
            .order_by(Response.id)
        ).all()
    )
    items = [item.code for item in instrument.items]
    column = {item.id: k for k, item in enumerate(instrument.items)}
    scores = np.full((len(responses), len(items)), np.nan)
    for i, response in enumerate(responses):
        for answer in response.answers:
            if answer.score is not None:
                scores[i, column[answer.item_id]] = answer.score
    groups = {e.code: [item.code for item in e.items] for e in instrument.elements}
    return RawRows(responses, items, scores, groups)

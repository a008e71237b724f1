"""The final weight of each exported response: the very cell weights the indices use.

Weights are not recomputed by a second rule: this calls the index service's own steps (valid responses
per agency × field × month from the tallies, transaction volumes, ``analytics.weighting.imputed_cell_factors``)
for the export's instrument, period and agencies, so an export reproduces ``compute_indices`` exactly.
An agency-month without transaction volumes gets imputed weights confined to its own cells (the
agency's nearest month with volumes carried, else the median weight per respondent; the notes say which
and how much of the weight), never 1 beside weights of N/n; only when no agency in the export has
volumes within reach is every valid response weighted 1 ("unweighted"). Without an end date the export
ends at the last month with volumes (``responses.plan_export``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from survey.services.administration.scope_queries import agency_codes
from survey.services.statistics.indices import DESIGN, UNWEIGHTED, WEIGHTED, IndexQuery, cell_weights, notes_about


@dataclass(frozen=True)
class ExportWeights:
    #: (agency id, field key (0 = none), first day of month) → weight; empty when unweighted.
    factors: dict[tuple[int, int, dt.date], float]
    #: The index service's description: cell weights … or "unweighted".
    weighting: str
    design: str
    #: How the weights were made, agencies named by code.
    notes: tuple[str, ...]


def export_weights(
    session: Session, instrument_id: int, date_from: dt.date, date_to: dt.date, agency_ids: Sequence[int]
) -> ExportWeights:
    """Cell weights for valid responses of ``instrument_id`` in ``[date_from, date_to]`` and these agencies."""
    query = IndexQuery(instrument_id=instrument_id, date_from=date_from, date_to=date_to, agency_ids=list(agency_ids))
    factors, notes = cell_weights(session, query)
    cells = {
        (int(a), int(f), m if isinstance(m, dt.date) else dt.date.fromisoformat(str(m))): float(w)
        for (a, f, m), w in factors.items()
    }
    codes = agency_codes(session, agency_ids)
    return ExportWeights(cells, WEIGHTED if cells else UNWEIGHTED, DESIGN, tuple(notes_about(notes, None, codes)))

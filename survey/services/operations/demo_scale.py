"""Many provinces and agencies for scale benchmarks, added to a database seeded by the demo.

The demo province has 22 agencies; a national deployment has 34 provinces and thousands of agencies.
:func:`add_provinces` adds synthetic provinces, each with commune-like agencies, their counters (on the
demo's default questionnaire) and twelve months of transaction volumes, in the caller's transaction.
Responses added afterwards (``demo.insert_responses``) spread over every counter, old and new, by the
same traffic model. Names and codes are synthetic (``scale-p01``, ``scale-p01-a0001``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from survey.models import AdminUnit, Agency, Counter, ProcedureField, TransactionVolume
from survey.services.administration.instruments import latest_instrument
from survey.services.operations.demo import COMMUNE_FIELDS, DEFAULT_INSTRUMENT, REORGANISATION, DemoError, _months

SCALE_PREFIX = "scale-p"


@dataclass(frozen=True)
class ScaleReport:
    provinces: int
    agencies: int
    counters: int


def province_code(number: int) -> str:
    return f"{SCALE_PREFIX}{number:02d}"


def add_provinces(
    session: Session, provinces: int, agencies_per_province: int, seed: int, end_month: dt.date
) -> ScaleReport:
    """Add ``provinces`` synthetic provinces of ``agencies_per_province`` agencies each (two counters an
    agency, volumes for the demo's twelve months up to ``end_month``), in the caller's transaction."""
    if provinces < 0 or agencies_per_province < 1:
        raise DemoError("the number of provinces cannot be negative and each province needs an agency")
    instrument = latest_instrument(session, DEFAULT_INSTRUMENT)
    if instrument is None:
        raise DemoError("seed the demo first: the scale provinces use its questionnaires and fields")
    fields: dict[str, int] = dict(session.execute(select(ProcedureField.code, ProcedureField.id)).tuples().all())
    field_ids = [fields[code] for code in COMMUNE_FIELDS if code in fields]
    rng = np.random.default_rng([seed, 41])
    months = _months(end_month)
    n_counters = 0
    for p in range(1, provinces + 1):
        code = province_code(p)
        unit = AdminUnit(code=f"9{p:02d}", level="province", name=f"Tỉnh mô phỏng {p}", valid_from=REORGANISATION)
        province = Agency(
            code=code, kind="province", name_vi=f"UBND tỉnh mô phỏng {p}", name_en=f"Simulated province {p}",
            admin_unit=unit,
        )  # fmt: skip
        session.add_all([unit, province])
        session.flush()
        agencies = [
            Agency(
                code=f"{code}-a{k:04d}",
                kind="commune",
                parent=province,
                name_vi=f"UBND xã mô phỏng {p}.{k}",
                name_en=f"Simulated commune {p}.{k}",
                admin_unit=unit,
            )  # fmt: skip
            for k in range(1, agencies_per_province + 1)
        ]
        session.add_all(agencies)
        session.flush()
        counters = []
        volumes = []
        for agency in agencies:
            for k in (1, 2):
                counters.append(
                    {"agency_id": agency.id, "code": f"quay-{k:02d}", "name_vi": f"Quầy số {k}",
                     "name_en": f"Counter {k}", "instrument_id": instrument.id}
                )  # fmt: skip
            monthly = int(rng.integers(60, 500))
            for field_id in field_ids:
                base = monthly * rng.uniform(0.4, 1.2)
                for month in months:
                    count = int(max(0, rng.normal(base, base * 0.08)))
                    volumes.append(
                        {"agency_id": agency.id, "field_id": field_id, "month": month, "transactions": count,
                         "source": "demo"}
                    )  # fmt: skip
        session.execute(insert(Counter), counters)
        session.execute(insert(TransactionVolume), volumes)
        n_counters += len(counters)
    return ScaleReport(provinces, provinces * agencies_per_province, n_counters)

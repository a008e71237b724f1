"""Paged look-ups behind the JSON API: agencies, counters, instruments and transaction volumes.

Every list is ordered by a unique key (codes, or code and version, or id), so a page holds the same
rows however often it is asked for while the data stay the same. Callers pass the agency ids of the
user's scope (``None``: every agency); nothing outside them is read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from survey.models import AdminUnit, Agency, Counter, Instrument, InstrumentElement, ProcedureField, TransactionVolume


def _page(session: Session, query: Select[*tuple[Any, ...]], offset: int, limit: int) -> tuple[list[Any], int]:
    total = int(session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)
    rows = list(session.execute(query.offset(offset).limit(limit)).all())
    return rows, total


def _agency_query(agency_ids: Sequence[int] | None) -> Select[*tuple[Any, ...]]:
    parent = aliased(Agency)
    query = (
        select(Agency, parent.code, AdminUnit.code)
        .outerjoin(parent, Agency.parent_id == parent.id)
        .join(AdminUnit, Agency.admin_unit_id == AdminUnit.id)
        .order_by(Agency.code)
    )
    if agency_ids is not None:
        query = query.where(Agency.id.in_(list(agency_ids)))
    return query


def agency_dict(agency: Agency, parent_code: str | None, admin_unit_code: str) -> dict[str, Any]:
    return {
        "code": agency.code,
        "kind": agency.kind,
        "name_vi": agency.name_vi,
        "name_en": agency.name_en,
        "parent": parent_code,
        "admin_unit": admin_unit_code,
        "active": agency.active,
    }


def agencies(
    session: Session, agency_ids: Sequence[int] | None, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Agencies in scope, by code."""
    rows, total = _page(session, _agency_query(agency_ids), offset, limit)
    return [agency_dict(*row) for row in rows], total


def agency_detail(session: Session, agency: Agency, agency_ids: Sequence[int] | None) -> dict[str, Any]:
    """One agency with its child agencies (in scope) and how many counters it has."""
    row = session.execute(_agency_query(None).where(Agency.id == agency.id)).one()
    children = select(Agency.code).where(Agency.parent_id == agency.id).order_by(Agency.code)
    if agency_ids is not None:
        children = children.where(Agency.id.in_(list(agency_ids)))
    counters = session.scalar(select(func.count()).select_from(Counter).where(Counter.agency_id == agency.id))
    return {**agency_dict(*row), "children": list(session.scalars(children)), "counters": int(counters or 0)}


def counters(session: Session, agency_id: int, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """The agency's counters (open and closed), by code, with their questionnaire."""
    query = (
        select(Counter, Instrument.code, Instrument.version)
        .join(Instrument, Counter.instrument_id == Instrument.id)
        .where(Counter.agency_id == agency_id)
        .order_by(Counter.code)
    )
    rows, total = _page(session, query, offset, limit)
    return [
        {
            "code": c.code,
            "name_vi": c.name_vi,
            "name_en": c.name_en,
            "active": c.active,
            "instrument": {"code": code, "version": version},
        }
        for c, code, version in rows
    ], total


def instrument_dict(instrument: Instrument) -> dict[str, Any]:
    scale = instrument.scale
    return {
        "code": instrument.code,
        "version": instrument.version,
        "label": instrument.label,
        "name_vi": instrument.name_vi,
        "name_en": instrument.name_en,
        "method": instrument.method,
        "aspect": instrument.aspect,
        "valid_from": instrument.valid_from.isoformat(),
        "valid_to": None if instrument.valid_to is None else instrument.valid_to.isoformat(),
        "definition": instrument.aggregation.get("definition", "A"),
        "scale": {
            "levels": [{"value": lv["value"], "label_vi": lv["vi"], "label_en": lv["en"]} for lv in scale["levels"]],
            "satisfied_from": scale["satisfied_from"],
            "not_applicable": {"label_vi": scale["not_applicable"]["vi"], "label_en": scale["not_applicable"]["en"]},
        },
        "elements": [
            {
                "code": element.code,
                "name_vi": element.name_vi,
                "name_en": element.name_en,
                "weight": element.weight,
                "items": [
                    {
                        "code": item.code,
                        "text_vi": item.text_vi,
                        "text_en": item.text_en,
                        "optional": item.optional,
                        "allows_na": item.allows_na,
                        "weight": item.weight,
                    }
                    for item in element.items
                ],
            }
            for element in instrument.elements
        ],
    }


def instruments(session: Session, code: str | None, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Questionnaires with their elements and items, by code and version."""
    query = (
        select(Instrument)
        .options(selectinload(Instrument.elements).selectinload(InstrumentElement.items))
        .order_by(Instrument.code, Instrument.version)
    )
    if code is not None:
        query = query.where(Instrument.code == code)
    rows, total = _page(session, query, offset, limit)
    return [instrument_dict(row[0]) for row in rows], total


def find_instruments(session: Session, spec: str) -> list[Instrument]:
    """Instruments named by ``code`` (every version) or ``code:version`` (``v`` optional), newest first."""
    code, _, version = spec.partition(":")
    query = select(Instrument).where(Instrument.code == code).order_by(Instrument.version.desc())
    if version:
        number = version.lstrip("v")
        query = query.where(Instrument.version == (int(number) if number.isdigit() else -1))
    return list(session.scalars(query))


def instrument_codes(session: Session) -> list[str]:
    return list(session.scalars(select(Instrument.code).distinct().order_by(Instrument.code)))


def volumes(
    session: Session,
    agency_ids: Sequence[int] | None,
    month_from: dt.date | None,
    month_to: dt.date | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    """Stored transaction volumes, by agency, month, field and counter."""
    query = (
        select(TransactionVolume, Agency.code, Counter.code, ProcedureField.code)
        .join(Agency, TransactionVolume.agency_id == Agency.id)
        .outerjoin(Counter, TransactionVolume.counter_id == Counter.id)
        .join(ProcedureField, TransactionVolume.field_id == ProcedureField.id)
        .order_by(Agency.code, TransactionVolume.month, ProcedureField.code, TransactionVolume.id)
    )
    if agency_ids is not None:
        query = query.where(TransactionVolume.agency_id.in_(list(agency_ids)))
    if month_from is not None:
        query = query.where(TransactionVolume.month >= month_from)
    if month_to is not None:
        query = query.where(TransactionVolume.month <= month_to)
    rows, total = _page(session, query, offset, limit)
    return [
        {
            "agency": agency_code,
            "counter": counter_code,
            "field": field_code,
            "month": f"{v.month:%Y-%m}",
            "transactions": v.transactions,
            "source": v.source,
            "recorded_at": v.recorded_at.isoformat(),
        }
        for v, agency_code, counter_code, field_code in rows
    ], total


def domain_names(
    session: Session, by_counter: bool, keys: Iterable[int]
) -> dict[int, tuple[str | None, str, str | None]]:
    """Counter (or, with ``by_counter`` false, procedure field) id → (code, Vietnamese name, English name).

    Key 0 (no counter or no field given) and unknown ids have no entry.
    """
    model: Any = Counter if by_counter else ProcedureField
    found = session.scalars(select(model).where(model.id.in_([k for k in keys if k])))
    return {row.id: (row.code, row.name_vi, row.name_en) for row in found}

"""The public results page: a province opts in; each of its agencies then shows its index over time.

The figures are the dashboard's monthly trend (:func:`~survey.services.statistics.trends.agency_trend`): the same
index reports, so a month on the public page equals that month on the staff dashboard. Suppressed months are
withheld (no number, no band), as everywhere else. Only closed months are shown. The "you said, we did"
entries are texts managers published (:mod:`survey.services.review.followup`), never raw comments.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.db import db, utcnow
from survey.models import Agency, PublicResultsSetting, PublishedAction
from survey.services.identity import audit
from survey.services.review.followup import published_actions
from survey.services.statistics.dashboard import agency_subtree_ids, province_of
from survey.services.statistics.trends import Trend, agency_trend


class PublicResultsError(ValueError):
    """``not_found`` (no such province in scope) or ``not_a_province``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def is_published(session: Session, province_id: int) -> bool:
    setting = session.get(PublicResultsSetting, province_id)
    return setting is not None and setting.enabled


def set_published(province: Agency, enabled: bool, actor_user_id: int) -> bool:
    """Opt the province in or out (audit-logged: ``public_results.enabled`` / ``.disabled``); whether it changed."""
    if province.parent_id is not None:
        raise PublicResultsError("not_a_province")
    with db.write() as session:
        setting = session.get(PublicResultsSetting, province.id)
        if setting is not None and setting.enabled == enabled:
            return False
        if setting is None:
            if not enabled:
                return False
            setting = PublicResultsSetting(province_id=province.id)
            session.add(setting)
        setting.enabled, setting.changed_at, setting.changed_by_id = enabled, utcnow(), actor_user_id
        audit.record(
            session,
            "public_results.enabled" if enabled else "public_results.disabled",
            actor_user_id=actor_user_id,
            target_type="agency",
            target_id=province.id,
            agency_id=province.id,
        )
    return True


def published_agency(session: Session, code: str) -> Agency | None:
    """The active agency with ``code`` if its province publishes its results; None otherwise (a 404)."""
    if "\x00" in code or len(code) > 40:
        return None
    agency = session.scalar(select(Agency).where(Agency.code == code, Agency.active.is_(True)))
    if agency is None or not is_published(session, province_of(session, agency).id):
        return None
    return agency


def published_provinces(session: Session) -> list[Agency]:
    return list(
        session.scalars(
            select(Agency)
            .join(PublicResultsSetting, PublicResultsSetting.province_id == Agency.id)
            .where(PublicResultsSetting.enabled.is_(True), Agency.active.is_(True))
            .order_by(Agency.name_vi)
        )
    )


@dataclass
class PublicResults:
    agency: Agency
    province: Agency
    trend: Trend
    members: list[Agency]
    actions: list[PublishedAction]


def public_results(session: Session, agency: Agency, today: dt.date, locale: str) -> PublicResults:
    """Twelve closed months of the agency's index, the agencies below it, and its published actions."""
    province = province_of(session, agency)
    last_closed = today.replace(day=1) - dt.timedelta(days=1)
    trend = agency_trend(session, agency, last_closed, None, "overall", locale, today=today)
    below = [i for i in agency_subtree_ids(session, agency) if i != agency.id]
    members = list(
        session.scalars(
            select(Agency)
            .where(Agency.id.in_(below), Agency.parent_id == agency.id, Agency.active.is_(True))
            .order_by(Agency.name_vi)
        )
    )
    return PublicResults(agency, province, trend, members, published_actions(session, agency.id))

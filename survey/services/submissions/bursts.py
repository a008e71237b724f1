"""Burst detection: many responses from one counter in a short window are flagged for review.

Nothing is deleted or excluded: each response in the window gets a ``burst`` flag, and the
detection is written to the audit log (counter, window, counts; never answers or comments).

A counter's tablet (kiosk mode) serves one citizen at a time: answering the questionnaire takes a
minute or more, and the tablet waits before it shows the next form. So a kiosk has a rule of its own
(:meth:`BurstRule.kiosk_from_config`), counting only the tablet's responses, with a shorter window and a
lower threshold than the counter's, which phones scanning the poster share: a handful of complete forms
from one tablet within two minutes is more than citizens in a queue can give.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from survey.db import db
from survey.models import Response
from survey.models.review import ResponseFlag
from survey.services.identity.audit import record

log = logging.getLogger(__name__)

AUDIT_ACTION = "responses.burst_flagged"


@dataclass(frozen=True)
class BurstRule:
    """``threshold`` or more responses from one counter within ``window_seconds`` is a burst; with a
    ``collection_mode``, only that mode's responses count (and are flagged)."""

    window_seconds: int
    threshold: int
    collection_mode: str | None = None

    @classmethod
    def from_config(cls, config: Any) -> BurstRule:
        return cls(int(config["BURST_WINDOW_SECONDS"]), int(config["BURST_THRESHOLD"]))

    @classmethod
    def kiosk_from_config(cls, config: Any) -> BurstRule:
        """The rule for a counter's tablet: its own responses only (``SIPAS_KIOSK_BURST_*``)."""
        return cls(int(config["KIOSK_BURST_WINDOW_SECONDS"]), int(config["KIOSK_BURST_THRESHOLD"]), "kiosk")


def flag_burst(counter_id: int, now: dt.datetime, rule: BurstRule) -> int:
    """Flag the responses of a burst ending at ``now`` at this counter; the number newly flagged.

    Called when a submission's own count of the window (``SubmissionStatements.responses_in_window``,
    inside its write transaction) reached the threshold; the window is read again here, in this write.
    """
    since = now - dt.timedelta(seconds=rule.window_seconds)
    # The (counter, received_at) index holds exactly the window's entries.
    window = (
        select(Response.id)
        .where(Response.counter_id == counter_id, Response.received_at > since, Response.received_at <= now)
        .order_by(Response.id)
    )
    if rule.collection_mode is not None:
        window = window.where(Response.collection_mode == rule.collection_mode)
    try:
        with db.write() as session:
            ids = list(session.scalars(window))
            if len(ids) < rule.threshold:
                return 0
            already = set(
                session.scalars(
                    select(ResponseFlag.response_id).where(
                        ResponseFlag.reason == "burst", ResponseFlag.response_id.in_(ids)
                    )
                )
            )
            new = [i for i in ids if i not in already]
            if not new:
                return 0
            event = record(
                session,
                AUDIT_ACTION,
                target_type="counter",
                target_id=counter_id,
                details={
                    **({"collection_mode": rule.collection_mode} if rule.collection_mode else {}),
                    "window_seconds": rule.window_seconds,
                    "threshold": rule.threshold,
                    "responses_in_window": len(ids),
                    "newly_flagged": len(new),
                    "first_response_id": ids[0],
                    "last_response_id": ids[-1],
                },
            )
            session.flush()
            session.add_all(
                ResponseFlag(response_id=i, reason="burst", flagged_at=now, audit_event_id=event.id) for i in new
            )
    except IntegrityError:
        # A concurrent submission flagged the same responses first; its audit event stands.
        return 0
    log.warning(
        "burst at counter %s: %d responses in %d s flagged for review", counter_id, len(ids), rule.window_seconds
    )
    return len(new)


def flagged_response_ids(counter_id: int | None = None) -> list[int]:
    """Ids of responses flagged as part of a burst (optionally at one counter), oldest first."""
    query = select(ResponseFlag.response_id).where(ResponseFlag.reason == "burst").order_by(ResponseFlag.response_id)
    if counter_id is not None:
        query = query.join(Response, Response.id == ResponseFlag.response_id).where(Response.counter_id == counter_id)
    return list(db.session.scalars(query))

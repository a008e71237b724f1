"""Migration 0008: old audit events get the agency they name; the log stays append-only afterwards."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from survey.db import make_engine
from survey.migrate import upgrade

EVENTS = [
    # (action, target_type, target_id, details, expected agency: "a" = the agency, None = unscoped)
    ("counter.key_rotated", "counter", "7", '{"agency_id": AGENCY, "key_version": 2}', "a"),
    ("agency.renamed", "agency", "AGENCY", '{"code": "so-thu"}', "a"),
    ("user.created", "user", "3", '{"role": "agency_viewer", "agency": "so-thu"}', "a"),
    ("auth.signed_in", "user", "3", "{}", None),
    ("seed.demo", None, None, '{"responses": 10}', None),
]


def test_backfill_fills_agency_ids_and_keeps_the_log_append_only(scratch_database_url: str) -> None:
    engine = make_engine(scratch_database_url)
    upgrade(engine, "0007")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO admin_units (code, level, name, valid_from) "
                "VALUES ('99', 'province', 'Tỉnh Thử', '2025-07-01')"
            )
        )
        unit = conn.execute(text("SELECT id FROM admin_units WHERE code = '99'")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO agencies (code, kind, name_vi, admin_unit_id, active, created_at) "
                "VALUES ('so-thu', 'province', 'Sở Thử', :unit, :yes, CURRENT_TIMESTAMP)"
            ),
            {"unit": unit, "yes": True},
        )
        agency = conn.execute(text("SELECT id FROM agencies WHERE code = 'so-thu'")).scalar_one()
        for action, target_type, target_id, details, _expected in EVENTS:
            conn.execute(
                text(
                    "INSERT INTO audit_log (occurred_at, action, target_type, target_id, details) "
                    "VALUES (CURRENT_TIMESTAMP, :action, :tt, :tid, :details)"
                ),
                {
                    "action": action,
                    "tt": target_type,
                    "tid": None if target_id is None else target_id.replace("AGENCY", str(agency)),
                    "details": details.replace("AGENCY", str(agency)),
                },
            )
    upgrade(engine)
    with engine.connect() as conn:
        found = dict(conn.execute(text("SELECT action, agency_id FROM audit_log")).all())
    assert found == {action: (agency if expected else None) for action, _t, _i, _d, expected in EVENTS}
    for statement in ("UPDATE audit_log SET agency_id = NULL", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    engine.dispose()

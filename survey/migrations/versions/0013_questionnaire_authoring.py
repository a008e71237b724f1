"""Questionnaire authoring: a version's status and owner, and items mapped to national criteria.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 02:00:00

- ``instruments.status``: ``draft`` (editable, never offered to counters), ``published`` (frozen; every
  version that existed before is published) or ``retired`` (kept with its data and reports, no longer
  offered to counters).
- ``instruments.owner_agency_id``: the province that authored the version; NULL for the versions shipped in
  ``survey/instruments/`` or imported on the command line, which every province may use.
- ``instrument_items.national_code``: the criterion of the QĐ 2640 annex (``c01`` … ``c22``) an item asks
  one-to-one; NULL for a merged or local statement. It is outside a version's digest, so a version with
  responses can still be mapped.
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

STATUS_CHECK = "status IN ('draft', 'published', 'retired')"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute("ALTER TABLE instrument_items ADD COLUMN national_code VARCHAR(8)")
    if sqlite:
        op.execute(
            "ALTER TABLE instruments ADD COLUMN status VARCHAR(12) DEFAULT 'published' NOT NULL "
            f"CONSTRAINT ck_instruments_status CHECK ({STATUS_CHECK})"
        )
        op.execute(
            "ALTER TABLE instruments ADD COLUMN owner_agency_id INTEGER "
            "CONSTRAINT fk_instruments_owner_agency_id_agencies REFERENCES agencies (id)"
        )
    else:
        op.execute("ALTER TABLE instruments ADD COLUMN status VARCHAR(12) DEFAULT 'published' NOT NULL")
        op.create_check_constraint(op.f("ck_instruments_status"), "instruments", STATUS_CHECK)
        op.execute("ALTER TABLE instruments ADD COLUMN owner_agency_id INTEGER")
        op.create_foreign_key(
            op.f("fk_instruments_owner_agency_id_agencies"), "instruments", "agencies", ["owner_agency_id"], ["id"]
        )
    op.create_index(op.f("ix_instruments_owner_agency_id"), "instruments", ["owner_agency_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_instruments_owner_agency_id"), table_name="instruments")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("fk_instruments_owner_agency_id_agencies"), "instruments", type_="foreignkey")
    for table, column in (
        ("instruments", "owner_agency_id"),
        ("instruments", "status"),
        ("instrument_items", "national_code"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")

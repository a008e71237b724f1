"""Sign-in throttling per e-mail × client address (no more account lock-out), and audit events scoped to an agency.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 09:00:00

``users.failed_sign_ins`` and ``users.locked_until`` go: five wrong passwords from anyone locked an account
and told that it exists. Throttle state lives in ``sign_in_throttles`` under keyed hashes (no e-mail, no
address). ``audit_log.agency_id`` says which agency an event concerns; existing rows are filled from
what they already say (``details.agency_id``, an agency target, ``details.agency`` as a code) with the
append-only triggers dropped and recreated around the backfill, on SQLite and PostgreSQL alike. Older
events that name no agency (sign-ins, user changes without an agency in their details) stay unscoped:
only auditors without an agency see them.
"""

import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# The same triggers as the first migration.
AUDIT_APPEND_ONLY = {
    "sqlite": [
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
        "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
    ],
}
AUDIT_APPEND_ONLY_DROP = {
    "sqlite": ["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"],
    "postgresql": [
        "DROP TRIGGER audit_log_no_truncate ON audit_log",
        "DROP TRIGGER audit_log_no_change ON audit_log",
        "DROP FUNCTION audit_log_append_only()",
    ],
}
BACKFILL = {
    "sqlite": [
        "UPDATE audit_log SET agency_id = CAST(json_extract(details, '$.agency_id') AS INTEGER) "
        "WHERE json_type(details, '$.agency_id') = 'integer'",
        "UPDATE audit_log SET agency_id = CAST(target_id AS INTEGER) "
        "WHERE agency_id IS NULL AND target_type = 'agency' AND target_id GLOB '[0-9]*' "
        "AND target_id NOT GLOB '*[^0-9]*'",
        "UPDATE audit_log SET agency_id = (SELECT agencies.id FROM agencies "
        "WHERE agencies.code = json_extract(audit_log.details, '$.agency')) "
        "WHERE agency_id IS NULL AND json_type(details, '$.agency') = 'text'",
    ],
    "postgresql": [
        "UPDATE audit_log SET agency_id = CAST(details->>'agency_id' AS INTEGER) "
        "WHERE json_typeof(details->'agency_id') = 'number' AND details->>'agency_id' ~ '^[0-9]+$'",
        "UPDATE audit_log SET agency_id = CAST(target_id AS INTEGER) "
        "WHERE agency_id IS NULL AND target_type = 'agency' AND target_id ~ '^[0-9]+$'",
        "UPDATE audit_log SET agency_id = agencies.id FROM agencies "
        "WHERE audit_log.agency_id IS NULL AND json_typeof(audit_log.details->'agency') = 'string' "
        "AND agencies.code = audit_log.details->>'agency'",
    ],
}


def upgrade() -> None:
    op.create_table('sign_in_throttles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('failures', sa.Integer(), server_default='0', nullable=False),
    sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('window_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('account', 'pair')", name=op.f('ck_sign_in_throttles_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_throttles')),
    sa.UniqueConstraint('key', name=op.f('uq_sign_in_throttles_key'))
    )
    op.create_index(op.f('ix_sign_in_throttles_updated_at'), 'sign_in_throttles', ['updated_at'], unique=False)
    # Plain DROP COLUMN (SQLite 3.35+ and PostgreSQL): no rebuild of ``users`` (see 0004).
    op.drop_column('users', 'locked_until')
    op.drop_column('users', 'failed_sign_ins')

    op.add_column('audit_log', sa.Column('agency_id', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_audit_log_agency_id'), 'audit_log', ['agency_id'], unique=False)
    dialect = op.get_bind().dialect.name
    for statement in AUDIT_APPEND_ONLY_DROP[dialect]:
        op.execute(statement)
    for statement in BACKFILL[dialect]:
        op.execute(statement)
    for statement in AUDIT_APPEND_ONLY[dialect]:
        op.execute(statement)


def downgrade() -> None:
    # Dropping a column rewrites no row: the append-only triggers stay in place.
    op.drop_index(op.f('ix_audit_log_agency_id'), table_name='audit_log')
    op.drop_column('audit_log', 'agency_id')
    op.add_column('users', sa.Column('failed_sign_ins', sa.Integer(), server_default='0', nullable=False))
    op.add_column('users', sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
    op.drop_index(op.f('ix_sign_in_throttles_updated_at'), table_name='sign_in_throttles')
    op.drop_table('sign_in_throttles')

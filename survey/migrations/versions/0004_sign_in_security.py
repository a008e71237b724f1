"""Sign-in security on users: a per-user session token (security stamp) and a failure counter with a lock-out.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 09:00:00

Columns are added in place (no table rebuild): on SQLite a batch rebuild of ``users`` would drop the
table that ``role_assignments`` references with ON DELETE CASCADE.
"""

import secrets

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('session_token', sa.String(length=64), server_default='', nullable=False))
    op.add_column('users', sa.Column('failed_sign_ins', sa.Integer(), server_default='0', nullable=False))
    op.add_column('users', sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
    # Existing users get their own random stamp (an empty stamp never matches a session).
    conn = op.get_bind()
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('session_token', sa.String))
    for (user_id,) in conn.execute(sa.select(users.c.id)).all():
        conn.execute(users.update().where(users.c.id == user_id).values(session_token=secrets.token_hex(32)))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+ and PostgreSQL), again without rebuilding the table.
    op.drop_column('users', 'locked_until')
    op.drop_column('users', 'failed_sign_ins')
    op.drop_column('users', 'session_token')

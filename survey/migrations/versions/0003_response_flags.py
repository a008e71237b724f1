"""Response review flags: bursts from one counter are flagged (never deleted) for review.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 09:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('response_flags',
    sa.Column('response_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('flagged_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('audit_event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.CheckConstraint("reason IN ('burst')", name=op.f('ck_response_flags_reason')),
    sa.ForeignKeyConstraint(['response_id'], ['responses.id'], name=op.f('fk_response_flags_response_id_responses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('response_id', 'reason', name=op.f('pk_response_flags'))
    )
    op.create_index(op.f('ix_response_flags_flagged_at'), 'response_flags', ['flagged_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_response_flags_flagged_at'), table_name='response_flags')
    op.drop_table('response_flags')

"""Stored monthly PSU roll-ups of the answer tallies (a cache of closed months, checked on every read).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 10:42:03.446367
"""

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stat_psu_months',
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('weighted', sa.Boolean(), nullable=False),
    sa.Column('weights_digest', sa.String(length=64), nullable=False),
    sa.Column('n_responses', sa.Integer(), nullable=False),
    sa.Column('n_rows', sa.Integer(), nullable=False),
    sa.Column('sums', sa.LargeBinary(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_stat_psu_months_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'], name=op.f('fk_stat_psu_months_instrument_id_instruments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('instrument_id', 'agency_id', 'month', 'weighted', name=op.f('pk_stat_psu_months'))
    )


def downgrade() -> None:
    op.drop_table('stat_psu_months')

"""Sufficient-statistics tables: tallies of valid responses and answers per day, agency, counter, field, item.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 08:21:09.509556
"""

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stat_response_tallies',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('counter_key', sa.Integer(), nullable=False),
    sa.Column('field_key', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_stat_response_tallies_agency_id_agencies')),
    sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'], name=op.f('fk_stat_response_tallies_instrument_id_instruments')),
    sa.PrimaryKeyConstraint('agency_id', 'day', 'counter_key', 'instrument_id', 'field_key', name=op.f('pk_stat_response_tallies')),
    sqlite_with_rowid=False
    )
    op.create_table('stat_answer_tallies',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('counter_key', sa.Integer(), nullable=False),
    sa.Column('field_key', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('n_valid', sa.Integer(), nullable=False),
    sa.Column('n_satisfied', sa.Integer(), nullable=False),
    sa.Column('sum_score', sa.BigInteger(), nullable=False),
    sa.Column('sum_score_sq', sa.BigInteger(), nullable=False),
    sa.Column('n_not_applicable', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_stat_answer_tallies_agency_id_agencies')),
    sa.ForeignKeyConstraint(['item_id'], ['instrument_items.id'], name=op.f('fk_stat_answer_tallies_item_id_instrument_items')),
    sa.PrimaryKeyConstraint('agency_id', 'day', 'counter_key', 'item_id', 'field_key', name=op.f('pk_stat_answer_tallies')),
    sqlite_with_rowid=False
    )


def downgrade() -> None:
    op.drop_table('stat_answer_tallies')
    op.drop_table('stat_response_tallies')

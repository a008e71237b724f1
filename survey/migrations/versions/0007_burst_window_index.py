"""Index responses by counter and receipt time, for the burst check every submission makes.

The check counts a counter's responses in the last few minutes (at most the burst threshold of them).
With only the (counter, day) index it read every response of the counter over three days; with this
one it reads the window's own index entries and stops at the threshold.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 13:55:00
"""

from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_responses_counter_received_at', 'responses', ['counter_id', 'received_at'])


def downgrade() -> None:
    op.drop_index('ix_responses_counter_received_at', table_name='responses')

"""Split questionnaires: a version's rotation declaration and the criteria each response was asked.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 01:30:00

- ``instruments.rotation``: a rotated version's declaration (k criteria per respondent, the design, whether
  the overall question is asked); NULL when every criterion is asked.
- ``responses.asked_mask``: the criteria the server asked (bit ``position - 1`` per asked item); NULL when
  every criterion was asked. Plain columns, added and dropped in place on both databases.
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_COLUMNS: list[tuple[str, str]] = [
    ("instruments", "rotation JSON"),
    ("responses", "asked_mask BIGINT"),
]


def upgrade() -> None:
    for table, column in _COLUMNS:
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column}")


def downgrade() -> None:
    for table, column in reversed(_COLUMNS):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column.split()[0]}")

"""Counter tablets (kiosk mode), each counter's field, agencies' feedback channels, forms sent back.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 15:00:00

- ``counters``: kiosk mode (on/off, the kiosk link's key version, seconds before a fresh form) and the
  field of procedures the counter serves, by its code (shown to citizens beside the counter's name).
- ``agencies``: where citizens can take a complaint or other feedback, shown on the thank-you page.
- ``responses.overall_score``: the one-tap overall rating a counter's tablet asks first.
- ``returned_forms``: a survey form with answers to correct, kept a few minutes for the redirect that
  shows it again (POST/redirect/GET), on any app node.
"""

import sqlalchemy as sa
from alembic import op


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


#: Plain columns, and columns with one check constraint of their own. SQLite cannot add a constraint to an
#: existing table without rebuilding it (and ``responses`` is the largest table), but it takes a column
#: constraint in ``ADD COLUMN``, and drops such a column in place (3.35+), which it refuses for a column
#: with a foreign key: the counter's field is kept by its code.
_PLAIN: list[tuple[str, str]] = [
    ("counters", "field_code VARCHAR(40)"),
    ("counters", "kiosk_enabled BOOLEAN NOT NULL DEFAULT false"),
    ("agencies", "feedback_channel_vi VARCHAR(500)"),
    ("agencies", "feedback_channel_en VARCHAR(500)"),
    ("agencies", "feedback_url VARCHAR(500)"),
]
_CHECKED: list[tuple[str, str, str, str]] = [
    (
        "counters",
        "kiosk_key_version INTEGER NOT NULL DEFAULT 1",
        "ck_counters_kiosk_key_version_positive",
        "kiosk_key_version >= 1",
    ),
    (
        "counters",
        "kiosk_reset_seconds INTEGER NOT NULL DEFAULT 30",
        "ck_counters_kiosk_reset_seconds_range",
        "kiosk_reset_seconds >= 10 AND kiosk_reset_seconds <= 600",
    ),
    (
        "responses",
        "overall_score SMALLINT",
        "ck_responses_overall_score",
        "overall_score IS NULL OR (overall_score >= 1 AND overall_score <= 5)",
    ),
]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column in _PLAIN:
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
    for table, column, name, condition in _CHECKED:
        if sqlite:
            op.execute(f"ALTER TABLE {table} ADD COLUMN {column} CONSTRAINT {name} CHECK ({condition})")
        else:
            op.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
            op.create_check_constraint(op.f(name), table, condition)
    op.create_table(
        "returned_forms",
        sa.Column("key_digest", sa.String(length=64), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["counter_id"], ["counters.id"], name=op.f("fk_returned_forms_counter_id_counters"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("key_digest", name=op.f("pk_returned_forms")),
    )
    op.create_index(op.f("ix_returned_forms_expires_at"), "returned_forms", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_returned_forms_expires_at"), table_name="returned_forms")
    op.drop_table("returned_forms")
    # In place on both databases (a column's own check constraint goes with it).
    for table, column in [*((t, c) for t, c, _n, _cond in reversed(_CHECKED)), *reversed(_PLAIN)]:
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column.split()[0]}")

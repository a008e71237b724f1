"""System auditors: an auditor role without an agency reads the whole audit log.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 16:00:00

Until now only a system administrator could hold a role without an agency, so reading events that
concern no agency (sign-ins, account changes) required full administration rights. An auditor may now
be granted without an agency; every other role still needs one.
"""

from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

OLD = "(role = 'system_admin') = (agency_id IS NULL)"
NEW = "role = 'auditor' OR (role = 'system_admin') = (agency_id IS NULL)"


def _replace(condition: str) -> None:
    with op.batch_alter_table('role_assignments') as batch:
        batch.drop_constraint(op.f('ck_role_assignments_scope_matches_role'), type_='check')
        batch.create_check_constraint(op.f('ck_role_assignments_scope_matches_role'), condition)


def upgrade() -> None:
    _replace(NEW)


def downgrade() -> None:
    # Unscoped auditors cannot be kept under the old rule; they lose their role (their accounts stay).
    op.execute("DELETE FROM role_assignments WHERE role = 'auditor' AND agency_id IS NULL")
    _replace(OLD)

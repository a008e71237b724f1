"""Alerts, managers' mail preferences and sends, comment follow-up, published actions, public results opt-in.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 16:00:00

- ``alert_runs`` / ``alerts``: the monthly drop tests of a province (``flask compute-alerts``) and the drops
  significant under Benjamini-Hochberg at q = 0.05.
- ``notification_preferences`` / ``notification_sends``: digest frequency per user, and every message sent,
  unique per user, kind and period so a digest is never sent twice.
- ``comment_followups``: assignee, status, reply note and due date of a citizen's comment.
- ``published_actions``: "you said, we did" texts managers publish on the public results page.
- ``public_results_settings``: whether a province publishes its results page.
"""

import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notification_preferences',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=8), nullable=False),
    sa.Column('alert_mail', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("digest IN ('off', 'daily', 'weekly')", name=op.f('ck_notification_preferences_digest')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notification_preferences'))
    )
    op.create_table('notification_sends',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('period_key', sa.String(length=40), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('digest', 'alert')", name=op.f('ck_notification_sends_kind')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_sends_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_sends')),
    sa.UniqueConstraint('user_id', 'kind', 'period_key', name=op.f('uq_notification_sends_user_id_kind_period_key'))
    )
    op.create_table('alert_runs',
    sa.Column('province_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('series_tested', sa.Integer(), nullable=False),
    sa.Column('alerts', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['province_id'], ['agencies.id'], name=op.f('fk_alert_runs_province_id_agencies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('province_id', 'month', name=op.f('pk_alert_runs'))
    )
    op.create_table('public_results_settings',
    sa.Column('province_id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_public_results_settings_changed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['province_id'], ['agencies.id'], name=op.f('fk_public_results_settings_province_id_agencies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('province_id', name=op.f('pk_public_results_settings'))
    )
    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('province_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('counter_id', sa.Integer(), nullable=True),
    sa.Column('target', sa.String(length=40), nullable=False),
    sa.Column('series_key', sa.String(length=120), nullable=False),
    sa.Column('share', sa.Float(), nullable=False),
    sa.Column('previous_share', sa.Float(), nullable=False),
    sa.Column('delta', sa.Float(), nullable=False),
    sa.Column('ci_low', sa.Float(), nullable=False),
    sa.Column('ci_high', sa.Float(), nullable=False),
    sa.Column('p_value', sa.Float(), nullable=False),
    sa.Column('q_value', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_alerts_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['counter_id'], ['counters.id'], name=op.f('fk_alerts_counter_id_counters'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'], name=op.f('fk_alerts_instrument_id_instruments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['province_id'], ['agencies.id'], name=op.f('fk_alerts_province_id_agencies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    sa.UniqueConstraint('province_id', 'month', 'instrument_id', 'series_key', name=op.f('uq_alerts_province_id_month_instrument_id_series_key'))
    )
    op.create_index(op.f('ix_alerts_agency_id'), 'alerts', ['agency_id'], unique=False)
    op.create_index(op.f('ix_alerts_province_id'), 'alerts', ['province_id'], unique=False)
    op.create_table('comment_followups',
    sa.Column('response_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('reply_note', sa.String(length=1000), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('received', 'in_progress', 'resolved')", name=op.f('ck_comment_followups_status')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_comment_followups_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_comment_followups_assignee_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['response_id'], ['responses.id'], name=op.f('fk_comment_followups_response_id_responses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_comment_followups_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('response_id', name=op.f('pk_comment_followups'))
    )
    op.create_index('ix_comment_followups_agency_status_due', 'comment_followups', ['agency_id', 'status', 'due_on'], unique=False)
    op.create_table('published_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('text', sa.String(length=600), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_published_actions_agency_id_agencies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_published_actions_published_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['response_id'], ['responses.id'], name=op.f('fk_published_actions_response_id_responses'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_published_actions')),
    sa.UniqueConstraint('response_id', name=op.f('uq_published_actions_response_id'))
    )
    op.create_index(op.f('ix_published_actions_agency_id'), 'published_actions', ['agency_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_published_actions_agency_id'), table_name='published_actions')
    op.drop_table('published_actions')
    op.drop_index('ix_comment_followups_agency_status_due', table_name='comment_followups')
    op.drop_table('comment_followups')
    op.drop_index(op.f('ix_alerts_province_id'), table_name='alerts')
    op.drop_index(op.f('ix_alerts_agency_id'), table_name='alerts')
    op.drop_table('alerts')
    op.drop_table('public_results_settings')
    op.drop_table('alert_runs')
    op.drop_table('notification_sends')
    op.drop_table('notification_preferences')

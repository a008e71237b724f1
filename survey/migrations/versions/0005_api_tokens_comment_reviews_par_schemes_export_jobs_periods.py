"""API tokens, handled comments, PAR schemes, web export jobs, survey periods; answer counts per scale point.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 10:29:10.376557
"""

import sqlalchemy as sa
from alembic import op

SCALE_POINTS = (1, 2, 3, 4, 5)


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_digest', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_digest', name=op.f('uq_api_tokens_token_digest'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('export_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('filters', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=True),
    sa.Column('rows_done', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=True),
    sa.Column('size_bytes', sa.BigInteger(), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_export_jobs_status')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_export_jobs_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_jobs')),
    sa.UniqueConstraint('public_id', name=op.f('uq_export_jobs_public_id'))
    )
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_jobs_user_id'), ['user_id'], unique=False)

    op.create_table('par_schemes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('example', sa.Boolean(), nullable=False),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_par_schemes_agency_id_agencies')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_par_schemes_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_par_schemes')),
    sa.UniqueConstraint('agency_id', 'year', name=op.f('uq_par_schemes_agency_id_year'))
    )
    with op.batch_alter_table('par_schemes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_par_schemes_agency_id'), ['agency_id'], unique=False)

    op.create_table('survey_periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_survey_periods_ends_after_start')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_survey_periods_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_periods'))
    )
    with op.batch_alter_table('survey_periods', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_periods_agency_id'), ['agency_id'], unique=False)

    op.create_table('comment_reviews',
    sa.Column('response_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('handled_by_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['handled_by_id'], ['users.id'], name=op.f('fk_comment_reviews_handled_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['response_id'], ['responses.id'], name=op.f('fk_comment_reviews_response_id_responses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('response_id', name=op.f('pk_comment_reviews'))
    )

    # Answer distributions: one counter per scale point, filled from the raw answers already tallied.
    for point in SCALE_POINTS:
        op.add_column('stat_answer_tallies', sa.Column(f'n_score_{point}', sa.Integer(), server_default='0', nullable=False))
    op.execute(
        "UPDATE stat_answer_tallies SET "
        + ", ".join(
            f"n_score_{point} = (SELECT COUNT(*) FROM answers a JOIN responses r ON r.id = a.response_id "
            "WHERE r.status = 'valid' AND r.agency_id = stat_answer_tallies.agency_id "
            "AND r.received_on = stat_answer_tallies.day "
            "AND COALESCE(r.counter_id, 0) = stat_answer_tallies.counter_key "
            "AND COALESCE(r.field_id, 0) = stat_answer_tallies.field_key "
            f"AND a.item_id = stat_answer_tallies.item_id AND a.score = {point})"
            for point in SCALE_POINTS
        )
    )


def downgrade() -> None:
    for point in reversed(SCALE_POINTS):
        op.drop_column('stat_answer_tallies', f'n_score_{point}')
    op.drop_table('comment_reviews')
    with op.batch_alter_table('survey_periods', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_periods_agency_id'))

    op.drop_table('survey_periods')
    with op.batch_alter_table('par_schemes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_par_schemes_agency_id'))

    op.drop_table('par_schemes')
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_jobs_user_id'))

    op.drop_table('export_jobs')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')

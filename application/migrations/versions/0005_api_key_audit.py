"""api key name on decisions and feedback events

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 02:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('triage_decisions', sa.Column('api_key', sa.String(length=100), nullable=True))
    op.add_column('feedback_events', sa.Column('api_key', sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('feedback_events') as batch:
        batch.drop_column('api_key')
    with op.batch_alter_table('triage_decisions') as batch:
        batch.drop_column('api_key')

"""priority: a ticket's priority label, and the decision's priority with its confidence and reason

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 08:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('tickets', sa.Column('priority', sa.String(length=50), nullable=True))
    op.add_column('triage_decisions', sa.Column('priority', sa.String(length=50), nullable=True))
    op.add_column('triage_decisions', sa.Column('priority_confidence', sa.Float(), nullable=True))
    op.add_column('triage_decisions', sa.Column('priority_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('triage_decisions') as batch:
        batch.drop_column('priority_reason')
        batch.drop_column('priority_confidence')
        batch.drop_column('priority')
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('priority')

"""sla: policies per plan and priority, due times on decisions, the clocks on tickets

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 08:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sla_policies',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('plan', sa.String(length=100), nullable=False),
        sa.Column('priority', sa.String(length=50), nullable=False),
        sa.Column('first_response_minutes', sa.Integer(), nullable=False),
        sa.Column('resolution_minutes', sa.Integer(), nullable=False),
        sa.Column('updated_by', sa.String(length=200), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('plan', 'priority'),
    )
    op.add_column('tickets', sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('tickets', sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('triage_decisions', sa.Column('first_response_due', sa.DateTime(timezone=True), nullable=True))
    op.add_column('triage_decisions', sa.Column('resolution_due', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('triage_decisions') as batch:
        batch.drop_column('resolution_due')
        batch.drop_column('first_response_due')
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('resolved_at')
        batch.drop_column('responded_at')
    op.drop_table('sla_policies')

"""sla business hours: a policy's clock may run only in the desk's open hours, in its time zone

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 16:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('sla_policies', sa.Column('business_hours', sa.String(length=100), nullable=True))
    op.add_column('sla_policies', sa.Column('timezone', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sla_policies') as batch:
        batch.drop_column('timezone')
        batch.drop_column('business_hours')

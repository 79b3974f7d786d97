"""gap handled: an editor dealt with the content gap a ticket pointed at

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 19:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('tickets', sa.Column('gap_handled_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('tickets', sa.Column('gap_handled_by', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('gap_handled_by')
        batch.drop_column('gap_handled_at')

"""erasure log

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'erasures',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('requested_by', sa.String(length=200), nullable=True),
        sa.Column('criteria', sa.JSON(), nullable=False),
        sa.Column('counts', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_erasures')),
    )
    op.create_index(op.f('ix_erasures_created_at'), 'erasures', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_erasures_created_at'), table_name='erasures')
    op.drop_table('erasures')

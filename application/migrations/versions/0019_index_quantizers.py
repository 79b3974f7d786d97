"""the approximate passage index's trained lists per encoder: a fresh replica loads them instead of
training k-means over every vector

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 03:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'index_quantizers',
        sa.Column('encoder', sa.String(length=500), nullable=False),
        sa.Column('dim', sa.Integer(), nullable=False),
        sa.Column('nlist', sa.Integer(), nullable=False),
        sa.Column('trained_on', sa.Integer(), nullable=False),
        sa.Column('centroids', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('encoder', name=op.f('pk_index_quantizers')),
    )


def downgrade() -> None:
    op.drop_table('index_quantizers')

"""article url: where agents and customers read the article

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 16:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('articles', sa.Column('url', sa.String(length=2000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('articles') as batch:
        batch.drop_column('url')

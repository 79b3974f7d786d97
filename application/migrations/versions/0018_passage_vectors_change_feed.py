"""passage vectors per encoder and the change feed: replicas on one database follow its changes and
build their passage index without encoding again

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 02:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing passages get their vectors from the next index sync (a backfill from the saved index).
    op.create_table(
        'passage_vectors',
        sa.Column('chunk_id', sa.Integer(), nullable=False),
        sa.Column('encoder', sa.String(length=500), nullable=False),
        sa.Column('vector', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['chunk_id'], ['chunks.id'], name=op.f('fk_passage_vectors_chunk_id_chunks'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('chunk_id', 'encoder', name=op.f('pk_passage_vectors')),
    )
    op.create_table(
        'change_feed',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_change_feed')),
    )


def downgrade() -> None:
    op.drop_table('change_feed')
    op.drop_table('passage_vectors')

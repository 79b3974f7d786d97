"""ticket vectors and related tickets for the surge test

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 14:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'ticket_vectors',
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('encoder', sa.String(length=300), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('vector', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_vectors_ticket_id_tickets'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_ticket_vectors')),
    )
    op.create_index(op.f('ix_ticket_vectors_created_at'), 'ticket_vectors', ['created_at'], unique=False)
    # Decisions stored before this revision saw no related tickets.
    op.add_column('triage_decisions', sa.Column('related', sa.JSON(), nullable=False, server_default='{}'))
    with op.batch_alter_table('triage_decisions') as batch:
        batch.alter_column('related', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('triage_decisions') as batch:
        batch.drop_column('related')
    op.drop_index(op.f('ix_ticket_vectors_created_at'), table_name='ticket_vectors')
    op.drop_table('ticket_vectors')

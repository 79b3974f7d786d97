"""locks and job leases: named locks that serialise activation and key revocation; training jobs
count their attempts, so a job whose worker died is run again a bounded number of times

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 21:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'service_locks',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_service_locks')),
    )
    op.add_column('training_jobs', sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('training_jobs') as batch:
        batch.drop_column('attempts')
    op.drop_table('service_locks')

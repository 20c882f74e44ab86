"""feedback review, its weekly chart and export stay flat on years of data (issue 16)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 20:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index(
            'ix_feedback_flagged_unreviewed',
            ['appointment_id'],
            unique=False,
            postgresql_where=sa.text('flagged IS true AND reviewed_at IS NULL'),
            sqlite_where=sa.text('flagged IS 1 AND reviewed_at IS NULL'),
        )
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaints_feedback_id'), ['feedback_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaints_appointment_id'), ['appointment_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaints_appointment_id'))
        batch_op.drop_index(batch_op.f('ix_complaints_feedback_id'))
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_flagged_unreviewed')

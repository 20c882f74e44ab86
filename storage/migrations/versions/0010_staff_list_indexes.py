"""the contact log and the other staff lists page by key on years of data (issue 16)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 20:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('contact_decisions', schema=None) as batch_op:
        batch_op.create_index('ix_contact_decisions_at_id', ['at', 'id'], unique=False)
        batch_op.create_index(
            'ix_contact_decisions_reason_at_id', ['reason_code', 'at', 'id'], unique=False
        )
        batch_op.create_index(
            'ix_contact_decisions_decision_at_id', ['decision', 'at', 'id'], unique=False
        )
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.create_index('ix_residents_reference', ['reference'], unique=False)
    with op.batch_alter_table('staff_tasks', schema=None) as batch_op:
        batch_op.create_index(
            'ix_staff_tasks_open_queue',
            ['urgent', 'created_at', 'id'],
            unique=False,
            postgresql_where=sa.text("status != 'closed'"),
            sqlite_where=sa.text("status != 'closed'"),
        )
        batch_op.create_index('ix_staff_tasks_queue', ['urgent', 'created_at', 'id'], unique=False)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_action_at_id', ['action', 'at', 'id'], unique=False)
    with op.batch_alter_table('access_needs', schema=None) as batch_op:
        batch_op.create_index(
            'ix_access_needs_active_review_by',
            ['review_by', 'id'],
            unique=False,
            postgresql_where=sa.text('active IS true AND review_by IS NOT NULL'),
            sqlite_where=sa.text('active IS 1 AND review_by IS NOT NULL'),
        )
    # A name-prefix search in any case: on PostgreSQL with text_pattern_ops, so that
    # `lower(name) LIKE 'mar%'` is answered from the index whatever the collation.
    postgres = op.get_bind().dialect.name == 'postgresql'
    name_lower = sa.text('lower(name) text_pattern_ops' if postgres else 'lower(name)')
    op.create_index('ix_residents_name_lower', 'residents', [name_lower], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('access_needs', schema=None) as batch_op:
        batch_op.drop_index('ix_access_needs_active_review_by')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_action_at_id')
    with op.batch_alter_table('staff_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_staff_tasks_queue')
        batch_op.drop_index('ix_staff_tasks_open_queue')
    op.drop_index('ix_residents_name_lower', table_name='residents')
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.drop_index('ix_residents_reference')
    with op.batch_alter_table('contact_decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_decisions_decision_at_id')
        batch_op.drop_index('ix_contact_decisions_reason_at_id')
        batch_op.drop_index('ix_contact_decisions_at_id')

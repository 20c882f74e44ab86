"""residents.nominee_phone indexed: a text from a nominee's own number is recognised (issue 15)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 17:40:00.000000
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_residents_nominee_phone'), ['nominee_phone'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_residents_nominee_phone'))

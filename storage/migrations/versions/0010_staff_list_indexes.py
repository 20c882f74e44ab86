"""the contact log and the other staff lists page by key on years of data (issue 16)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 20:30:00.000000
"""

from collections.abc import Sequence

from alembic import op  # noqa: F401


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

"""retention: personal data kept no longer than needed (issue 16)

Residents get the day their tenancy ended and when retention anonymised them; access
needs when they were withdrawn; opt-outs that outlive an anonymised resident are kept in
contact_suppressions (a hash of the address). Indexes serve the foreign keys retention's
deletes walk: feedback and staff_tasks by conversation, webhook deliveries by event.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 20:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_suppressions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum("sms", "telegram", "simulator", name="channel", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("address_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("opted_out_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "address_hash"),
    )
    # Plain ALTER TABLE (SQLite 3.35+ adds and drops a column in place): a batch copy of
    # residents would lose its expression index (ix_residents_name_lower, 0010).
    op.add_column("residents", sa.Column("tenancy_ended_on", sa.Date(), nullable=True))
    op.add_column(
        "residents",
        sa.Column("anonymised_at", storage.types.UTCDateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "access_needs",
        sa.Column("withdrawn_at", storage.types.UTCDateTime(timezone=True), nullable=True),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feedback_conversation_id"), ["conversation_id"], unique=False
        )
    with op.batch_alter_table("staff_tasks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_tasks_conversation_id"), ["conversation_id"], unique=False
        )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_deliveries_event_id", ["event_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_event_id")
    with op.batch_alter_table("staff_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_tasks_conversation_id"))
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_conversation_id"))
    op.drop_column("access_needs", "withdrawn_at")
    op.drop_column("residents", "anonymised_at")
    op.drop_column("residents", "tenancy_ended_on")
    op.drop_table("contact_suppressions")

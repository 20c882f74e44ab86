"""Runtime indexes (issue 16): inbound, dispatcher, planner, recover and /metrics stay flat

Partial indexes on the small live sets (due or sending outbox rows, unanswered inbound
messages, booked visits, jobs under way), the caps' (resident, sent_at), visits by
(status, updated_at), and the foreign keys a delete has to look up (messages.outbox_id,
outbox.conversation_id, disclosures.access_need_id). Plain CREATE INDEX on both
databases: nothing here rebuilds a table.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 20:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (name, table, columns, partial WHERE or None), as storage/models declares them.
INDEXES: tuple[tuple[str, str, list[str], str | None], ...] = (
    ("ix_outbox_live", "outbox", ["not_before"], "status IN ('pending', 'sending')"),
    ("ix_outbox_resident_sent", "outbox", ["resident_id", "sent_at"], "purpose <> 'reply'"),
    ("ix_outbox_conversation_id", "outbox", ["conversation_id"], None),
    ("ix_messages_unanswered", "messages", ["id"], "direction = 'in' AND processed_at IS NULL"),
    ("ix_messages_outbox_id", "messages", ["outbox_id"], None),
    (
        "ix_repair_jobs_resident_under_way",
        "repair_jobs",
        ["resident_id"],
        "status NOT IN ('completed', 'cancelled')",
    ),
    ("ix_appointments_booked_ends_at", "appointments", ["ends_at"], "status = 'booked'"),
    ("ix_appointments_status_updated_at", "appointments", ["status", "updated_at"], None),
    ("ix_disclosures_access_need_id", "disclosures", ["access_need_id"], None),
)


def upgrade() -> None:
    for name, table, columns, where in INDEXES:
        partial = (
            {}
            if where is None
            else {
                "postgresql_where": sa.text(where),
                "sqlite_where": sa.text(where),
            }
        )
        op.create_index(name, table, columns, unique=False, **partial)


def downgrade() -> None:
    for name, table, _columns, _where in reversed(INDEXES):
        op.drop_index(name, table_name=table)

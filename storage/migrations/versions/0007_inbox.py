"""an inbox of updates taken from Telegram and not handled yet

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 10:00:00

An update is confirmed to Telegram as soon as it is stored here, instead of once it has been
handled, so one person's queue no longer holds up everyone's; a row goes once its update has
been handled, and the rows left by a crash are handled at the next start. The update's JSON is
encrypted (it holds what the person wrote).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("update_enc", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_inbox")),
    )
    op.create_index("ix_inbox_chat_update", "inbox", ["chat_id", "update_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_inbox_chat_update", table_name="inbox")
    op.drop_table("inbox")

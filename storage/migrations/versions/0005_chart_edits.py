"""chart entries remember the message of their written answers

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 15:00:00

Editing the message that answered a reflection already updates that answer; a session chart
entry's topic and therapist role now remember the message they came from too, so an edit of it
updates the entry. Only message ids: nothing a person wrote.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("session_entry") as batch:
        batch.add_column(sa.Column("topic_message_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("role_message_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("session_entry") as batch:
        batch.drop_column("role_message_id")
        batch.drop_column("topic_message_id")

"""a person can let their summaries and /review be forwarded

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 20:00:00

Summaries and /review replies go out with protect_content (no forwarding, no saving) unless the
person turns "Protect my messages" off in /settings. On for everyone to begin with.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.add_column(
            # A plain literal: SQLite adds the column in place (an expression would make Alembic
            # copy the whole table); PostgreSQL reads '1' as true.
            sa.Column("protect_messages", sa.Boolean(), nullable=False, server_default="1")
        )


def downgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.drop_column("protect_messages")

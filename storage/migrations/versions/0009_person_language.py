"""the language the bot speaks with a person

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 22:00:00

Set from the person's Telegram language when they agree, and by the Language choice in
/settings; empty for those who agreed before: they get their Telegram's language.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("language", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.drop_column("language")

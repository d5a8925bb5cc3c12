"""a deleted person's id is never given to someone else

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 21:30:00

SQLite gives a new row the highest id in use plus one unless the table says AUTOINCREMENT: once the
newest person was deleted, the next one to register got their id (and, before deletion took the
audit rows too, their events). The person table is copied with AUTOINCREMENT, which keeps each
id once given (sqlite_sequence). PostgreSQL's sequences never go back: nothing to do there.
Foreign keys are off while SQLite copies the table (storage.database.no_cascades_while_migrating),
so no row that refers to a person is touched.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "person", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "person", recreate="always", table_kwargs={"sqlite_autoincrement": False}
    ):
        pass

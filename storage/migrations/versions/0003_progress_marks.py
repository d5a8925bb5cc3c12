"""progress marks leave the answer table

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 10:12:40.118305

Keys such as "learn.done", "tips.done", "checklist.done" and "finish.offered" were stored as
encrypted answers with the text "1". They are marks, not anything a person wrote: they move to
the new `progress` table (person and key, and when: the answer's last change), unencrypted and
without decrypting anything, and leave `answer`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The keys that are marks: "<section>.done" and "<section>.offered".
SUFFIXES = (".done", ".offered")

answer = sa.table(
    "answer",
    sa.column("person_id", sa.Integer()),
    sa.column("key", sa.String(64)),
    sa.column("skipped", sa.Boolean()),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
progress = sa.table(
    "progress",
    sa.column("person_id", sa.Integer()),
    sa.column("key", sa.String(64)),
    sa.column("set_at", sa.DateTime(timezone=True)),
)


def _is_mark(key: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    # substr/length rather than LIKE: SQLite's LIKE ignores case, and "_" would be a wildcard.
    return sa.or_(
        *(
            sa.func.substr(key, sa.func.length(key) - len(suffix) + 1) == suffix
            for suffix in SUFFIXES
        )
    )


def upgrade() -> None:
    op.create_table(
        "progress",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_progress_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", "key", name=op.f("pk_progress")),
    )
    # (person_id, key) is unique in `answer`, so every mark goes in once.
    op.execute(
        progress.insert().from_select(
            ["person_id", "key", "set_at"],
            sa.select(answer.c.person_id, answer.c.key, answer.c.updated_at).where(
                _is_mark(answer.c.key)
            ),
        )
    )
    op.execute(answer.delete().where(_is_mark(answer.c.key)))


def downgrade() -> None:
    # The marks' answers cannot be made again as they were: their text "1" was encrypted, and a
    # migration has no key. So each mark comes back as an answer row without a value (neither
    # answered nor skipped): code that asks whether the key is there still finds it, code that
    # reads its text finds none. Upgrading again moves these rows back to `progress`.
    op.execute(
        answer.insert().from_select(
            ["person_id", "key", "skipped", "updated_at"],  # value_enc, source_message_id: NULL
            sa.select(progress.c.person_id, progress.c.key, sa.false(), progress.c.set_at),
        )
    )
    op.drop_table("progress")

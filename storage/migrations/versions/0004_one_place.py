"""one place per person

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 10:00:00

A person is in at most one section at a time. `conversation_state` kept a row per person and
section (and a section's bookmark as a row "<section>.place"); `place` keeps one row per person,
the section, its state and its small data. The most recently changed section row becomes the
place. A pages section's bookmark (the page a person left off at) becomes a progress mark
"<section>.page" whose value is "<page's item id>:<message id>"; progress marks get that value
column.
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BOOKMARK = ".place"

conversation_state = sa.table(
    "conversation_state",
    sa.column("person_id", sa.Integer()),
    sa.column("name", sa.String(32)),
    sa.column("state", sa.String(64)),
    sa.column("data", sa.Text()),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
place = sa.table(
    "place",
    sa.column("person_id", sa.Integer()),
    sa.column("section", sa.String(32)),
    sa.column("state", sa.String(64)),
    sa.column("data", sa.Text()),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
progress = sa.table(
    "progress",
    sa.column("person_id", sa.Integer()),
    sa.column("key", sa.String(64)),
    sa.column("value", sa.String(32)),
    sa.column("set_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    op.create_table(
        "place",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("data", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_place_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_place")),
    )
    with op.batch_alter_table("progress") as batch:
        batch.add_column(sa.Column("value", sa.String(length=32), nullable=True))

    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            conversation_state.c.person_id,
            conversation_state.c.name,
            conversation_state.c.state,
            conversation_state.c.data,
            conversation_state.c.updated_at,
        ).order_by(conversation_state.c.updated_at)
    ).all()
    places: dict[int, dict[str, object]] = {}
    marks: list[dict[str, object]] = []
    for person_id, name, state, data, updated_at in rows:
        if name.endswith(BOOKMARK):
            saved = json.loads(data) if data else {}
            page = saved.get("item", saved.get("page"))
            if page is not None:
                key = name.removesuffix(BOOKMARK) + ".page"
                message = saved.get("message")
                value = f"{page}:{message}" if isinstance(message, int) else str(page)
                marks.append(
                    {"person_id": person_id, "key": key, "value": value, "set_at": updated_at}
                )
            continue
        # Ordered by time: the last section a person moved in is where they are.
        places[person_id] = {
            "person_id": person_id,
            "section": name,
            "state": state,
            "data": data,
            "updated_at": updated_at,
        }
    if places:
        bind.execute(place.insert(), list(places.values()))
    if marks:
        bind.execute(progress.insert(), marks)
    op.drop_table("conversation_state")


def downgrade() -> None:
    op.create_table(
        "conversation_state",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("data", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_conversation_state_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", "name", name=op.f("pk_conversation_state")),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(place)).mappings().all()
    if rows:
        bind.execute(
            conversation_state.insert(),
            [
                {
                    "person_id": r["person_id"],
                    "name": r["section"],
                    "state": r["state"],
                    "data": r["data"],
                    "updated_at": r["updated_at"],
                }
                for r in rows
            ],
        )
    op.drop_table("place")
    # Bookmarks are not brought back (coming back starts at the first page).
    op.execute(progress.delete().where(progress.c.key.like("%.page")))
    with op.batch_alter_table("progress") as batch:
        batch.drop_column("value")

"""Alembic environment: runs on the connection the bot hands it (or a URL for autogenerate)."""

from alembic import context
from sqlalchemy import create_engine

from storage.database import check_references, no_cascades_while_migrating
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run migrations on the given connection, or on a synchronous engine for sqlalchemy.url."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with no_cascades_while_migrating(connection), context.begin_transaction():
            context.run_migrations()
            check_references(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with no_cascades_while_migrating(conn), context.begin_transaction():
            context.run_migrations()
            check_references(conn)


run_migrations_online()

"""Alembic environment: runs migrations on the connection vigie hands over (or the URL)."""

from alembic import context
from sqlalchemy import create_engine

from storage.models import Base

config = context.config
target_metadata = Base.metadata

# Full-text objects are made by hand in 0002_fulltext (dialect-specific SQL); the ORM does
# not map them, so autogenerate must not propose dropping them.
HAND_MADE = {"updates_fts", "search_vector", "ix_updates_search", "ix_updates_when"}


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    return not (reflected and (name in HAND_MADE or (name or "").startswith("updates_fts")))


def _configure(**kwargs: object) -> None:
    context.configure(target_metadata=target_metadata, include_object=include_object, **kwargs)


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
        context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        _configure(connection=conn, render_as_batch=conn.dialect.name == "sqlite")
        context.run_migrations()


if context.is_offline_mode():
    _configure(url=config.get_main_option("sqlalchemy.url"))
    with context.begin_transaction():
        context.run_migrations()
else:
    run()

"""Alembic environment: the URL comes from the Config built in bot.db.migrate."""

from alembic import context

from bot.db.models import Base
from bot.db.session import make_engine

config = context.config
# Rasa's tracker store shares the database; only our tables are managed here.
OWN_TABLES = set(Base.metadata.tables)


def include_object(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001
    return type_ != "table" or name in OWN_TABLES


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            include_object=include_object,
            render_as_batch=True,  # SQLite can only ALTER through table copies
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()

"""Alembic's environment for the event store: facemask.events.store runs `upgrade head` with the connection
it opened (config.attributes["connection"]), so a newer facemask upgrades an older database in place.
For a new migration: `alembic -c facemask/events/migrations/alembic.ini revision -m "..."`, written by
hand, and the same change in facemask/events/schema.py."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from facemask.events.schema import metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:  # the alembic command line, on the URL given with -x url=...
        url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option("sqlalchemy.url")
        with create_engine(url).connect() as connection:
            _migrate(connection)
    else:
        _migrate(connection)


def _migrate(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run()

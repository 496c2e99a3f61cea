"""Alembic migrations of the event store (a package so that an installed facemask ships them)."""

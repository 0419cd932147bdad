"""Alembic migrations of the SQL store's schema (run by ``e2badges db upgrade``)."""

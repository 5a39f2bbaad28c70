"""Database layer: SQLAlchemy models, engine/session factories and Alembic migrations."""

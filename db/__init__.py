"""Storage: SQLAlchemy schema, Alembic migrations, unit of work and queries. Never imports Qt or torch."""

"""Provincial sync server: Starlette over SQLAlchemy Core, on PostgreSQL or SQLite."""

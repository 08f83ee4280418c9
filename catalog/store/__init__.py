"""The catalog's persistence: SQLAlchemy 2.0 over SQLite (default) or PostgreSQL, alembic migrations.

`db.Store` gives sessions and the retrying write transaction; `tables` the schema; `repository` the
queries the services use. Nothing above this package writes SQL.
"""

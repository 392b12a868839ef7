"""SQL over the Iceberg tables: DuckDB on the local profile, Athena on aws. See :func:`madlake.sql.engine.get_engine`."""

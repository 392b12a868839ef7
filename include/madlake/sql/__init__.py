"""SQL over the Iceberg tables: DuckDB locally, Athena on aws (:func:`madlake.sql.engine.get_engine`)."""

"""Gold metrics: SQL models (Trino dialect) run by DuckDB locally and by Athena in AWS; analyst queries and views."""

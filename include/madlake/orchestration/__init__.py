"""Airflow glue that DAG files import. Cheap to import: stdlib and ``madlake.names`` only."""

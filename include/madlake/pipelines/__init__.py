"""Task bodies: one function per Airflow task, called from the thin DAG files in ``dags/``."""

"""madlake: an Airflow + Apache Iceberg lakehouse measuring the popularity of MAD-landscape tools."""

"""madlake: an Airflow + Apache Iceberg lakehouse measuring the popularity of MAD-landscape tools."""

from madlake.redaction import install as _install_redaction

# Every log record this process creates is redacted (credentials the process knows, credential shapes).
_install_redaction()

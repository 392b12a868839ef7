-- pypi_downloads for one day from ClickPy, ClickHouse's public PyPI dataset (ClickHouse SQL over HTTPS).
-- Parameters (sent as param_day / param_projects, never pasted in): {day:Date}, {projects:Array(String)}.
-- This materialized table has installer and country but no Python version, OS or CI flag: those come back null.
select
    date as download_date,
    project,
    version,
    nullIf(installer, '') as installer,
    cast(null as Nullable(String)) as python_version,
    cast(null as Nullable(String)) as system,
    nullIf(country_code, '') as country_code,
    cast(null as Nullable(Bool)) as ci,
    sum(count) as downloads
from pypi.pypi_downloads_per_day_by_version_by_installer_by_type_by_country
where
    date = {day:Date}
    and project in {projects:Array(String)}
group by download_date, project, version, installer, country_code

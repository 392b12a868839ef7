-- pypi_downloads for one day from the public BigQuery table (GoogleSQL).
-- Parameters (bound by the client, never pasted in): @day DATE, @projects ARRAY<STRING> (PEP 503-normalized).
-- Cost: `timestamp` is the partition column and `file.project` the clustering column, so both filters prune; only
-- the columns below are read.
with
source as (
    select
        timestamp,
        country_code,
        file.project as file_project,
        file.version as file_version,
        details.installer.name as installer_name,
        details.python as python_full,
        details.system.name as system_name,
        details.ci as ci_flag
    from `bigquery-public-data.pypi.file_downloads`
    where
        timestamp >= timestamp(@day)
        and timestamp < timestamp(date_add(@day, interval 1 day))
        and file.project in unnest(@projects)
),

renamed as (
    select
        date(timestamp) as download_date,
        lower(regexp_replace(file_project, r'[-_.]+', '-')) as project,
        file_version as version,
        installer_name as installer,
        nullif(regexp_extract(python_full, r'^[0-9]+\.[0-9]+'), '') as python_version,
        system_name as system,
        nullif(country_code, '') as country_code,
        ci_flag as ci
    from source
)

select
    download_date,
    project,
    version,
    installer,
    python_version,
    system,
    country_code,
    ci,
    count(*) as downloads
from renamed
group by download_date, project, version, installer, python_version, system, country_code, ci

-- stg_pypi__downloads: downloads per project per day, with and without CI and mirror traffic.
-- Reads only the days whose 28-day windows end inside the run: [start_date - 27, end_date].
-- Mirrors (bandersnatch and friends) re-download every release and say nothing about use: they are excluded from
-- downloads_excl_ci together with CI runs, the way pypistats/pepy do.
with params as (
    select
        cast(date_add('day', -27, start_date) as date) as read_from,
        end_date as read_to
    from run_params
),

source as (
    select d.*
    from pypi_downloads as d
    cross join params as p
    where d.download_date between p.read_from and p.read_to
),

renamed as (
    select
        lower(project) as project,
        download_date,
        downloads,
        coalesce(ci, false) as is_ci,
        lower(coalesce(installer, '')) in (
            'bandersnatch', 'z3c.pypimirror', 'artifactory', 'devpi', 'nexus', 'pep381client', 'browser'
        ) as is_mirror,
        source = 'replay-sample' as is_sample
    from source
),

final as (
    select
        project,
        download_date,
        sum(downloads) as downloads,
        sum(case when not is_ci and not is_mirror then downloads else 0 end) as downloads_excl_ci,
        bool_or(is_sample) as is_sample
    from renamed
    group by project, download_date
)

select * from final

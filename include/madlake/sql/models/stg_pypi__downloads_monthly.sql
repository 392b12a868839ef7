-- stg_pypi__downloads_monthly: one row per (month, tracked project) from the one snapshot chosen for that month.
-- Rule (docs/metrics.md, v2): of the top-pypi-packages snapshots whose counts describe month M (column month), the
-- latest (max snapshot_date) is used for every project of M, so all tools of a month are compared within one snapshot.
-- A project below the snapshot's list keeps downloads null (only known to be under list_min_downloads), never 0.
-- Reads only the months of the run: month in [month of start_date, end_date].
with params as (
    select
        cast(date_trunc('month', start_date) as date) as read_from,
        end_date as read_to
    from run_params
),

source as (
    select d.*
    from pypi_downloads_monthly as d
    cross join params as p
    where d.month between p.read_from and p.read_to
),

chosen as (
    select
        month,
        max(snapshot_date) as snapshot_date
    from source
    group by month
),

renamed as (
    select
        s.month,
        lower(s.project) as project,
        s.snapshot_date,
        case when not s.below_list then cast(s.downloads as bigint) end as downloads,
        s.below_list,
        cast(s.list_min_downloads as bigint) as list_min_downloads,
        cast(
            coalesce(
                s.window_days,
                case when s.method = 'calendar-month' then day(last_day_of_month(s.month)) else 30 end
            ) as integer
        ) as window_days,
        s.method,
        coalesce(s.source = 'replay-sample', false) as is_sample
    from source as s
    inner join chosen as c on c.month = s.month and c.snapshot_date = s.snapshot_date
)

select * from renamed

-- stg_github__repo_history: per tracked repository and month, its figures on the last day it was observed in the
-- month (github-ranking's daily files or the monthly best-of snapshots). Same day in two sources: github-ranking
-- first (the exact daily file). Contributors come from the newest best-of row of the month that has them.
-- Reads [first day of the month before start_date, end_date]: the previous month gives new stars by difference.
with params as (
    select
        cast(date_add('month', -1, date_trunc('month', start_date)) as date) as read_from,
        end_date as read_to
    from run_params
),

source as (
    select h.*
    from github_repo_history as h
    cross join params as p
    where h.day between p.read_from and p.read_to
),

renamed as (
    select
        cast(date_trunc('month', day) as date) as month,
        tool_id,
        lower(repo) as repo,
        day,
        cast(stars as bigint) as stars,
        cast(forks as bigint) as forks,
        cast(open_issues as bigint) as open_issues,
        cast(contributors as bigint) as contributors,
        source,
        coalesce(source like '%-sample', false) as is_sample,
        row_number() over (
            partition by date_trunc('month', day), lower(repo)
            order by day desc, case when source = 'github-ranking' then 0 else 1 end, source
        ) as recency
    from source
    where tool_id is not null and stars is not null
),

contributors as (
    select
        month,
        repo,
        max_by(contributors, day) as contributors
    from renamed
    where contributors is not null
    group by month, repo
),

final as (
    select
        r.month,
        r.tool_id,
        r.repo,
        r.day,
        r.stars,
        r.forks,
        r.open_issues,
        c.contributors,
        r.source,
        r.is_sample
    from renamed as r
    left join contributors as c on c.month = r.month and c.repo = r.repo
    where r.recency = 1
)

select * from final

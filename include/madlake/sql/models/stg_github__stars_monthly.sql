-- stg_github__stars_monthly: per repository and month, the cumulative stars at the last star day of the month and
-- the new stars of the month, from the stargazer backfill (github_stars_daily).
-- Reads only the months of the run: [first day of the month of start_date, end_date].
with params as (
    select
        cast(date_trunc('month', start_date) as date) as read_from,
        end_date as read_to
    from run_params
),

source as (
    select s.*
    from github_stars_daily as s
    cross join params as p
    where s.star_date between p.read_from and p.read_to
),

final as (
    select
        cast(date_trunc('month', star_date) as date) as month,
        tool_id,
        lower(repo) as repo,
        max(star_date) as day,
        cast(max_by(cumulative_stars, star_date) as bigint) as stars,
        cast(sum(new_stars) as bigint) as new_stars,
        bool_or(coalesce(origin = 'sample', false)) as is_sample
    from source
    where tool_id is not null
    group by cast(date_trunc('month', star_date) as date), tool_id, lower(repo)
)

select * from final

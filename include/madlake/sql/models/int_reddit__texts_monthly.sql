-- int_reddit__texts_monthly: Reddit texts (submissions and comments, any subreddit) ingested per month: the coverage
-- of the mentions signal. A month with no ingested text has no Reddit coverage, so its mentions are null rather than 0.
-- Reads only [month of start_date, end_date].
with params as (
    select
        cast(date_trunc('month', start_date) as date) as read_from,
        end_date as read_to
    from run_params
),

texts as (
    select created_at from stg_reddit__submissions
    union all
    select created_at from stg_reddit__comments
),

source as (
    select t.created_at
    from texts as t
    cross join params as p
    where cast(t.created_at as date) between p.read_from and p.read_to
),

final as (
    select
        cast(date_trunc('month', created_at) as date) as month,
        count(*) as texts
    from source
    group by cast(date_trunc('month', created_at) as date)
)

select * from final

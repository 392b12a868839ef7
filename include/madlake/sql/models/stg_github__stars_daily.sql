-- stg_github__stars_daily: new stars per tool per day (summed over the tool's repositories), [start_date - 27, end_date].
with params as (
    select
        cast(date_add('day', -27, start_date) as date) as read_from,
        end_date as read_to
    from run_params
),

source as (
    select s.*
    from github_stars_daily as s
    cross join params as p
    where s.star_date between p.read_from and p.read_to
),

renamed as (
    select
        tool_id,
        star_date,
        cast(new_stars as bigint) as new_stars,
        coalesce(origin = 'sample', false) as is_sample
    from source
    where tool_id is not null
),

final as (
    select
        tool_id,
        star_date,
        sum(new_stars) as new_stars,
        bool_or(is_sample) as is_sample
    from renamed
    group by tool_id, star_date
)

select * from final

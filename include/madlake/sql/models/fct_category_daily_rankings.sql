-- fct_category_daily_rankings -> category_daily_rankings: per category, day and signal, each tool's share and rank.
-- Reads tool_daily_metrics only on the run's days and on the days 28 and 365 days before them, so a daily run's cost
-- does not grow with history. rank_change_* = earlier rank - rank (positive = climbed); null when the tool was not
-- ranked then.
with params as (
    select start_date, end_date from run_params
),

source as (
    select m.*
    from tool_daily_metrics as m
    cross join params as p
    where
        m.metric_date between p.start_date and p.end_date
        or m.metric_date between cast(date_add('day', -28, p.start_date) as date)
        and cast(date_add('day', -28, p.end_date) as date)
        or m.metric_date between cast(date_add('day', -365, p.start_date) as date)
        and cast(date_add('day', -365, p.end_date) as date)
),

signals as (
    select metric_date, tool_id, is_sample, 'downloads_28d' as signal, cast(downloads_28d as double) as value
    from source
    union all
    select metric_date, tool_id, is_sample, 'mentions_28d' as signal, cast(mentions_28d as double) as value
    from source
    union all
    select metric_date, tool_id, is_sample, 'stars' as signal, cast(stars as double) as value
    from source
    union all
    select metric_date, tool_id, is_sample, 'new_stars_28d' as signal, cast(new_stars_28d as double) as value
    from source
),

by_category as (
    select
        s.metric_date,
        c.category,
        s.tool_id,
        s.signal,
        s.value,
        s.is_sample
    from signals as s
    inner join stg_catalog__tool_categories as c on c.tool_id = s.tool_id
    where s.value is not null
),

ranked as (
    select
        metric_date,
        category,
        tool_id,
        signal,
        value,
        is_sample,
        value / nullif(sum(value) over (partition by metric_date, category, signal), 0) as share,
        cast(row_number() over (partition by metric_date, category, signal order by value desc, tool_id) as integer)
            as rank
    from by_category
),

final as (
    select
        cur.metric_date,
        cur.category,
        cur.tool_id,
        cur.signal,
        cur.value,
        cur.share,
        cur.rank,
        cast(prev28.rank - cur.rank as integer) as rank_change_28d,
        cast(prev365.rank - cur.rank as integer) as rank_change_365d,
        cur.is_sample,
        current_timestamp as computed_at
    from ranked as cur
    cross join params as p
    left join ranked as prev28
        on
            prev28.metric_date = cast(date_add('day', -28, cur.metric_date) as date)
            and prev28.category = cur.category
            and prev28.signal = cur.signal
            and prev28.tool_id = cur.tool_id
    left join ranked as prev365
        on
            prev365.metric_date = cast(date_add('day', -365, cur.metric_date) as date)
            and prev365.category = cur.category
            and prev365.signal = cur.signal
            and prev365.tool_id = cur.tool_id
    where cur.metric_date between p.start_date and p.end_date
)

select * from final

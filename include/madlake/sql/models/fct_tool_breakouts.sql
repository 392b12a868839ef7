-- fct_tool_breakouts -> tool_breakouts: days on which two or more of a tool's daily signals are more than 2 standard
-- deviations above their trailing 90-day mean ([d-90, d-1], at least 28 observed days, non-zero deviation).
-- Reads tool_daily_metrics on [start_date - 90, end_date] only.
with params as (
    select start_date, end_date from run_params
),

source as (
    select m.*
    from tool_daily_metrics as m
    cross join params as p
    where m.metric_date between cast(date_add('day', -90, p.start_date) as date) and p.end_date
),

signals as (
    select metric_date, tool_id, is_sample, 'downloads' as signal, cast(downloads_excl_ci as double) as value
    from source
    union all
    select metric_date, tool_id, is_sample, 'mentions' as signal, cast(mentions as double) as value
    from source
    union all
    select metric_date, tool_id, is_sample, 'new_stars' as signal, cast(new_stars as double) as value
    from source
),

scored as (
    select
        cur.metric_date,
        cur.tool_id,
        cur.signal,
        cur.is_sample,
        (cur.value - avg(hist.value)) / nullif(stddev_samp(hist.value), 0) as zscore
    from signals as cur
    cross join params as p
    inner join signals as hist
        on
            hist.tool_id = cur.tool_id
            and hist.signal = cur.signal
            and hist.metric_date between cast(date_add('day', -90, cur.metric_date) as date)
            and cast(date_add('day', -1, cur.metric_date) as date)
    where
        cur.metric_date between p.start_date and p.end_date
        and cur.value is not null
        and hist.value is not null
    group by cur.metric_date, cur.tool_id, cur.signal, cur.is_sample, cur.value
    having count(hist.value) >= 28
),

per_tool as (
    select
        metric_date,
        tool_id,
        bool_or(is_sample) as is_sample,
        max(case when signal = 'downloads' then zscore end) as z_downloads,
        max(case when signal = 'mentions' then zscore end) as z_mentions,
        max(case when signal = 'new_stars' then zscore end) as z_new_stars
    from scored
    group by metric_date, tool_id
),

final as (
    select
        metric_date,
        tool_id,
        concat_ws(
            ',',
            case when z_downloads > 2 then 'downloads' end,
            case when z_mentions > 2 then 'mentions' end,
            case when z_new_stars > 2 then 'new_stars' end
        ) as signals,
        cast(
            (case when z_downloads > 2 then 1 else 0 end)
            + (case when z_mentions > 2 then 1 else 0 end)
            + (case when z_new_stars > 2 then 1 else 0 end) as integer
        ) as n_signals,
        '{"downloads": ' || coalesce(cast(round(z_downloads, 2) as varchar), 'null')
        || ', "mentions": ' || coalesce(cast(round(z_mentions, 2) as varchar), 'null')
        || ', "new_stars": ' || coalesce(cast(round(z_new_stars, 2) as varchar), 'null') || '}' as zscores,
        is_sample,
        current_timestamp as computed_at
    from per_tool
)

select * from final
where n_signals >= 2

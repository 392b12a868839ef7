-- fct_popularity_index -> popularity_index, method v1 (docs/metrics.md): for every month the run touches, each tool's
-- signals as of the month's last day (or the run's end day for the month in progress), per category:
--   normalized = value / mean(value of the category's top 3 in that signal)   (PyPI/Reddit-wide growth cancels)
--   component  = weight * 100 * greatest(0, 1 + log10(normalized) / 4)       (log scale over 4 decades)
--   score      = sum of the components; weights: downloads 0.4, mentions 0.3, stars 0.2, new stars 0.1.
-- Growth compares the score with the same tool's score 1, 3 and 12 months earlier (earlier months come from this run
-- or from the stored table).
with params as (
    select start_date, end_date from run_params
),

months as (
    select distinct
        cast(date_trunc('month', metric_date) as date) as month,
        least(last_day_of_month(metric_date), p.end_date) as as_of_date
    from int_calendar
    cross join params as p
),

source as (
    select m.*, mo.month, mo.as_of_date
    from tool_daily_metrics as m
    inner join months as mo on mo.as_of_date = m.metric_date
),

signals as (
    select month, as_of_date, tool_id, is_sample, 'downloads' as signal, cast(downloads_28d as double) as value
    from source
    union all
    select month, as_of_date, tool_id, is_sample, 'mentions' as signal, cast(mentions_28d as double) as value
    from source
    union all
    select month, as_of_date, tool_id, is_sample, 'stars' as signal, cast(stars as double) as value
    from source
    union all
    select month, as_of_date, tool_id, is_sample, 'new_stars' as signal, cast(new_stars_28d as double) as value
    from source
),

by_category as (
    select
        s.*,
        c.category,
        row_number() over (
            partition by s.month, c.category, s.signal order by coalesce(s.value, 0) desc, s.tool_id
        ) as signal_rank
    from signals as s
    inner join stg_catalog__tool_categories as c on c.tool_id = s.tool_id
),

leaders as (
    select
        month,
        category,
        signal,
        avg(value) as leader_mean
    from by_category
    where signal_rank <= 3 and value > 0
    group by month, category, signal
),

components as (
    select
        b.month,
        b.as_of_date,
        b.category,
        b.tool_id,
        b.signal,
        b.value,
        b.is_sample,
        case b.signal
            when 'downloads' then 0.4
            when 'mentions' then 0.3
            when 'stars' then 0.2
            when 'new_stars' then 0.1
        end
        * case
            when b.value > 0 and l.leader_mean > 0
                then 100.0 * greatest(0.0, 1.0 + log10(b.value / l.leader_mean) / 4.0)
            else 0.0
        end as component
    from by_category as b
    left join leaders as l on l.month = b.month and l.category = b.category and l.signal = b.signal
),

scored as (
    select
        month,
        max(as_of_date) as as_of_date,
        category,
        tool_id,
        bool_or(is_sample) as is_sample,
        sum(component) as score,
        sum(case when signal = 'downloads' then component else 0 end) as downloads_component,
        sum(case when signal = 'mentions' then component else 0 end) as mentions_component,
        sum(case when signal = 'stars' then component else 0 end) as stars_component,
        sum(case when signal = 'new_stars' then component else 0 end) as new_stars_component,
        max(case when signal = 'downloads' then value end) as downloads_value,
        max(case when signal = 'mentions' then value end) as mentions_value,
        max(case when signal = 'stars' then value end) as stars_value,
        max(case when signal = 'new_stars' then value end) as new_stars_value
    from components
    group by month, category, tool_id
),

history as (
    select h.month, h.category, h.tool_id, h.score
    from popularity_index as h
    cross join params as p
    where
        h.month >= cast(date_add('month', -12, date_trunc('month', p.start_date)) as date)
        and h.month < cast(date_trunc('month', p.start_date) as date)
        and h.method_version = 'v1'
),

all_scores as (
    select month, category, tool_id, score from scored
    union all
    select month, category, tool_id, score from history
),

final as (
    select
        s.month,
        s.tool_id,
        s.category,
        'v1' as method_version,
        s.score,
        s.downloads_component,
        s.mentions_component,
        s.stars_component,
        s.new_stars_component,
        s.downloads_value,
        s.mentions_value,
        s.stars_value,
        s.new_stars_value,
        cast(row_number() over (partition by s.month, s.category order by s.score desc, s.tool_id) as integer)
            as rank_in_category,
        s.score / nullif(m1.score, 0) - 1 as growth_mom,
        s.score / nullif(m12.score, 0) - 1 as growth_yoy,
        power(s.score / nullif(m3.score, 0), 1.0 / 3.0) - 1 as cagr_3m,
        s.is_sample,
        current_timestamp as computed_at,
        s.as_of_date
    from scored as s
    left join all_scores as m1
        on
            m1.month = cast(date_add('month', -1, s.month) as date)
            and m1.category = s.category and m1.tool_id = s.tool_id
    left join all_scores as m3
        on
            m3.month = cast(date_add('month', -3, s.month) as date)
            and m3.category = s.category and m3.tool_id = s.tool_id
    left join all_scores as m12
        on
            m12.month = cast(date_add('month', -12, s.month) as date)
            and m12.category = s.category and m12.tool_id = s.tool_id
)

select * from final

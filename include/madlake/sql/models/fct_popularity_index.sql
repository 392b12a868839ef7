-- fct_popularity_index -> popularity_index, method v2 (docs/metrics.md): per month of the run, category and tool,
-- over the signals present (a missing signal is null, never 0):
--   value_s     downloads: downloads per day counted (one snapshot per month); stars: end of month; mentions: month
--   index_s     = greatest(0, 100 + 25 * log10(value_s / max value_s of the category that month))  (leader = 100)
--               null when the value is null, or when no tool of the category has a positive value that month
--   score       = sum(w_s * index_s) / sum(w_s) over the present signals (weights renormalized);
--                 weights downloads 0.5, stars 0.3, mentions 0.2; component_s = w_s * index_s / sum(w_s)
--   coverage    = sum(w_s) of the present signals (1 = all three)
--   growth over k months (relative to the category): over the signals present in both months,
--               d = weighted mean of (index_s(M) - index_s(M-k)); growth = 10^(d / 25) - 1 (25 points = 10x)
--   *_spans_break: downloads are among those signals and the PyPI counting method differs between the months.
--   downloads_share_yoy = downloads_share(M) / downloads_share(M-12) - 1 (each share within its own snapshot, so a
--               method break cancels as far as it moves every tool alike; the leader's growth shows here).
--   mentions are indexed only in months with >= 1,000 Reddit texts ingested (mentions_value is kept regardless).
-- Earlier months come from this run or from the stored table (method v2 only). Doubles are rounded (byte-identical
-- reruns).
with months as (
    select month, month_end from int_months
),

metrics as (
    select m.*, mo.month_end
    from fct_tool_monthly_metrics as m
    inner join months as mo on mo.month = m.month
),

signals as (
    select
        month, month_end, tool_id, is_sample, 'downloads' as signal, 0.5 as weight,
        downloads_per_day as value, downloads_source as source
    from metrics
    union all
    select
        month, month_end, tool_id, is_sample, 'stars' as signal, 0.3 as weight,
        cast(stars as double) as value, stars_source as source
    from metrics
    union all
    -- mentions count only in a month with at least 1,000 Reddit texts ingested (fewer cannot rank a category)
    select
        month, month_end, tool_id, is_sample, 'mentions' as signal, 0.2 as weight,
        case when reddit_texts >= 1000 then cast(mentions as double) end as value, mentions_source as source
    from metrics
),

by_category as (
    select
        s.*,
        c.category,
        max(s.value) over (partition by s.month, c.category, s.signal) as leader_value
    from signals as s
    inner join stg_catalog__tool_categories as c on c.tool_id = s.tool_id
),

indexed as (
    select
        *,
        case
            when value is not null and leader_value > 0 and value > 0
                then round(greatest(0.0, 100.0 + 25.0 * log10(value / leader_value)), 6)
            when value is not null and leader_value > 0 then 0.0
        end as signal_index
    from by_category
),

scored as (
    select
        month,
        max(month_end) as as_of_date,
        category,
        tool_id,
        bool_or(is_sample) as is_sample,
        sum(case when signal_index is not null then weight end) as coverage,
        sum(weight * signal_index) / sum(case when signal_index is not null then weight end) as score,
        count(signal_index) as n_signals,
        max(case when signal = 'downloads' then value end) as downloads_value,
        max(case when signal = 'stars' then value end) as stars_value,
        max(case when signal = 'mentions' then value end) as mentions_indexed_value,
        max(case when signal = 'downloads' then signal_index end) as downloads_index,
        max(case when signal = 'stars' then signal_index end) as stars_index,
        max(case when signal = 'mentions' then signal_index end) as mentions_index,
        max(case when signal = 'downloads' then source end) as downloads_source,
        max(case when signal = 'stars' then source end) as stars_source,
        max(case when signal = 'mentions' then source end) as mentions_source
    from indexed
    group by month, category, tool_id
    having count(signal_index) > 0
),

enriched as (
    select
        s.*,
        m.downloads_method,
        m.downloads_below_list,
        m.new_stars,
        m.downloads,
        cast(m.mentions as double) as mentions_value,
        cast(m.downloads as double) / nullif(sum(m.downloads) over (partition by s.month, s.category), 0)
            as downloads_share
    from scored as s
    inner join metrics as m on m.month = s.month and m.tool_id = s.tool_id
),

history as (
    select
        h.month, h.category, h.tool_id, h.downloads_index, h.stars_index, h.mentions_index, h.downloads_method,
        h.downloads_share
    from popularity_index as h
    cross join run_params as p
    where
        h.month >= cast(date_add('month', -12, date_trunc('month', p.start_date)) as date)
        and h.month < cast(date_trunc('month', p.start_date) as date)
        and h.method_version = 'v2'
),

all_months as (
    select
        month, category, tool_id, downloads_index, stars_index, mentions_index, downloads_method,
        round(downloads_share, 6) as downloads_share
    from enriched
    union all
    select
        month, category, tool_id, downloads_index, stars_index, mentions_index, downloads_method, downloads_share
    from history
),

pairs as (
    select
        s.month,
        s.category,
        s.tool_id,
        k.months_back,
        -- weighted mean change of the indexes over the signals present in both months
        (
            coalesce(0.5 * (s.downloads_index - e.downloads_index), 0)
            + coalesce(0.3 * (s.stars_index - e.stars_index), 0)
            + coalesce(0.2 * (s.mentions_index - e.mentions_index), 0)
        ) / nullif(
            (case when s.downloads_index is not null and e.downloads_index is not null then 0.5 else 0 end)
            + (case when s.stars_index is not null and e.stars_index is not null then 0.3 else 0 end)
            + (case when s.mentions_index is not null and e.mentions_index is not null then 0.2 else 0 end),
            0
        ) as delta,
        concat_ws(
            ',',
            case when s.downloads_index is not null and e.downloads_index is not null then 'downloads' end,
            case when s.stars_index is not null and e.stars_index is not null then 'stars' end,
            case when s.mentions_index is not null and e.mentions_index is not null then 'mentions' end
        ) as common_signals,
        s.downloads_index is not null and e.downloads_index is not null
        and s.downloads_method <> e.downloads_method as spans_break,
        round(s.downloads_share, 6) / nullif(e.downloads_share, 0) - 1 as share_change
    from enriched as s
    cross join (values 1, 3, 12) as k (months_back)
    inner join all_months as e
        on
            e.month = cast(date_add('month', -k.months_back, s.month) as date)
            and e.category = s.category
            and e.tool_id = s.tool_id
),

growth as (
    select
        month,
        category,
        tool_id,
        max(case when months_back = 1 then power(10.0, delta / 25.0) - 1 end) as growth_mom,
        max(case when months_back = 12 then power(10.0, delta / 25.0) - 1 end) as growth_yoy,
        max(case when months_back = 3 then power(10.0, delta / 75.0) - 1 end) as cagr_3m,
        bool_or(months_back = 1 and delta is not null and spans_break) as growth_mom_spans_break,
        bool_or(months_back = 12 and delta is not null and spans_break) as growth_yoy_spans_break,
        max(case when months_back = 12 and delta is not null then common_signals end) as growth_yoy_signals,
        max(case when months_back = 12 then share_change end) as downloads_share_yoy
    from pairs
    group by month, category, tool_id
),

final as (
    select
        s.month,
        s.tool_id,
        s.category,
        'v2' as method_version,
        round(s.score, 6) as score,
        round(0.5 * s.downloads_index / s.coverage, 6) as downloads_component,
        round(0.2 * s.mentions_index / s.coverage, 6) as mentions_component,
        round(0.3 * s.stars_index / s.coverage, 6) as stars_component,
        cast(null as double) as new_stars_component,
        round(s.downloads_value, 3) as downloads_value,
        s.mentions_value,
        s.stars_value,
        cast(s.new_stars as double) as new_stars_value,
        cast(row_number() over (partition by s.month, s.category order by round(s.score, 6) desc, s.tool_id) as integer)
            as rank_in_category,
        round(g.growth_mom, 6) as growth_mom,
        round(g.growth_yoy, 6) as growth_yoy,
        round(g.cagr_3m, 6) as cagr_3m,
        s.is_sample,
        current_timestamp as computed_at,
        s.as_of_date,
        round(s.coverage, 6) as coverage,
        cast(s.n_signals as integer) as n_signals,
        concat_ws(
            ',',
            case when s.downloads_index is not null then 'downloads' end,
            case when s.stars_index is not null then 'stars' end,
            case when s.mentions_index is not null then 'mentions' end
        ) as signals,
        round(s.downloads_index, 6) as downloads_index,
        round(s.stars_index, 6) as stars_index,
        round(s.mentions_index, 6) as mentions_index,
        s.downloads_source,
        s.stars_source,
        s.mentions_source,
        s.downloads_method,
        round(s.downloads_share, 6) as downloads_share,
        s.downloads_below_list,
        coalesce(g.growth_yoy_spans_break, false) as growth_yoy_spans_break,
        coalesce(g.growth_mom_spans_break, false) as growth_mom_spans_break,
        g.growth_yoy_signals,
        s.downloads,
        round(g.downloads_share_yoy, 6) as downloads_share_yoy
    from enriched as s
    left join growth as g on g.month = s.month and g.category = s.category and g.tool_id = s.tool_id
)

select * from final

-- question: Which tools of a category are the most loved and the most criticised on Reddit?
-- method: on the latest day of tool_daily_metrics with Reddit mentions, tools of the category with at least
-- min_mentions mentions in 28 days; most loved = highest mention-weighted mean sentiment (28 days), most criticised =
-- highest share of negative mentions (only tools with some negative mentions), then lowest sentiment.
-- params: category=orchestration min_mentions=5
with latest as (
    select max(metric_date) as metric_date from tool_daily_metrics where mentions_28d > 0
),

tools as (
    select t.tool_id, t.name as tool_name
    from dim_tools as t
    cross join unnest(t.categories) as c (category)
    where c.category = ?
),

scored as (
    select
        t.tool_name,
        m.mentions_28d,
        m.sentiment_28d,
        m.negative_share_28d,
        m.metric_date,
        m.is_sample,
        row_number() over (order by m.sentiment_28d desc, t.tool_name) as love_rank,
        row_number() over (order by m.negative_share_28d desc, m.sentiment_28d, t.tool_name) as critic_rank
    from tool_daily_metrics as m
    inner join latest as l on l.metric_date = m.metric_date
    inner join tools as t on t.tool_id = m.tool_id
    where m.mentions_28d >= cast(? as bigint) and m.sentiment_28d is not null
),

final as (
    select 'most loved' as verdict, love_rank as rank, tool_name, mentions_28d,
        round(sentiment_28d, 3) as sentiment_28d, round(negative_share_28d, 3) as negative_share_28d,
        metric_date, is_sample
    from scored
    where love_rank <= 3
    union all
    select 'most criticised' as verdict, critic_rank as rank, tool_name, mentions_28d,
        round(sentiment_28d, 3) as sentiment_28d, round(negative_share_28d, 3) as negative_share_28d,
        metric_date, is_sample
    from scored
    where critic_rank <= 3 and negative_share_28d > 0
)

select * from final
order by verdict desc, rank

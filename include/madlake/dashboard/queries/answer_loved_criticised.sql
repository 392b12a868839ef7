-- Sentiment of a category's tools on the data date: mean sentiment over 28 days (weighted by mentions), only for
-- tools with at least a minimum number of mentions in that window. Most loved first.
-- params: category, min_mentions
with p as (select ? as category, ? as min_mentions),
latest as (select max(metric_date) as metric_date from tool_daily_metrics)
select m.tool_id, d.name, m.metric_date, m.sentiment_28d, m.positive_share_28d, m.negative_share_28d,
       m.mentions_28d
from tool_daily_metrics m
join latest l on m.metric_date = l.metric_date
join dim_tools d on d.tool_id = m.tool_id
cross join p
where list_contains(d.categories, p.category)
  and m.mentions_28d >= p.min_mentions
  and m.sentiment_28d is not null
order by m.sentiment_28d desc, m.tool_id
